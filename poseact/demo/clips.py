"""A small, generated demo data set of the paper's three actions, and test media.

No labelled classroom video can be shipped, so the demo clips are animated from real photos of people
that installed packages ship, both in the public domain:
- scikit-image's `astronaut` (`skimage.data.astronaut()`: NASA's portrait of Eileen Collins; "no known
  copyright restrictions, released into the public domain");
- matplotlib's `grace_hopper.jpg` (`matplotlib.cbook.get_sample_data`: the US Navy's official portrait
  of Grace Hopper, a work of the US government, so in the public domain).
No registry package we could find ships a freely licensed photo of a person with whole arms and hands in
view: in both photos the forearms are out of view. So the arms are cut out and pasted back along a
keyframed skeleton (`poseact.demo.puppet`, `poseact.demo.animate`): the upper arm and forearm are strips of each
photo's own sleeve and the hands are cut from each photo's own cheek, so every pixel of a person comes
from the real photo, moved, while desks, paper, books and backgrounds are drawn (`poseact.demo.scene`).

Classes (`CLASSES`): `hand_raise`, `writing`, `reading` (see `poseact.demo.animate` for the motions). Every
clip draws all of its random choices (mirroring, which arm, size, position, background, desk, timings,
amplitudes, speeds) whatever its class, so only the action tells the classes apart. Clips are 3.2 s at
15 fps (48 frames, the model's window) and deterministic for a seed: the same frames, and (with the
FFmpeg `mp4v` encoder of opencv-python-headless 5.0) the same file bytes.

`check_animation` measures whether MediaPipe sees what the skeleton did (docs/demo-data.md).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import tempfile
from collections.abc import Iterable

import cv2
import numpy as np

from poseact.common import storage
from poseact.demo import animate as anim
from poseact.demo import scene
from poseact.demo.media import FPS, PEOPLE, person_photos, write_video

CLASSES: tuple[str, ...] = anim.CLASSES

FRAME_SIZE: tuple[int, int] = (384, 384)
"""Default clip size, (width, height)."""
SECONDS = 3.2
_BACKGROUND = 128  # mid-grey border around photos that are not animated (test media)


@dataclasses.dataclass(frozen=True)
class Clip:
    """A rendered clip and what its skeleton did.

    Attributes:
        frames: RGB uint8 frames.
        wrists: (T, 2, 2) drawn wrists in pixels, image-left arm first.
        shoulders: (T, 2, 2) drawn shoulder joints, likewise.
        eyes: (T, 2, 2) drawn eye centres (they move with the head), likewise.
        active: The arms that act (0 image-left, 1 image-right): the raised or writing arm, both reading.
    """

    frames: list[np.ndarray]
    wrists: np.ndarray
    shoulders: np.ndarray
    eyes: np.ndarray
    active: tuple[int, ...]

    @property
    def shoulder_width(self) -> np.ndarray:
        """(T,) drawn shoulder width in pixels."""
        return np.linalg.norm(self.shoulders[:, 1] - self.shoulders[:, 0], axis=1)


def render_clip(person: str, action: str, rng: np.random.Generator, *, size: tuple[int, int] = FRAME_SIZE,
                fps: float = FPS, seconds: float = SECONDS) -> Clip:
    """Render a clip of `person` doing `action`.

    Args:
        person: One of `PEOPLE`.
        action: One of `CLASSES`.
        rng: Source of every random choice (see the module docstring).
        size: Frame size, (width, height).
        fps: Frame rate.
        seconds: Duration; at least one frame is made.

    Returns:
        The frames and the drawn skeleton's wrists.

    Raises:
        ValueError: Unknown person or action.
    """
    from poseact.demo import puppet  # noqa: PLC0415 (reads photos on first use)

    if action not in CLASSES:
        raise ValueError(f"unknown action {action!r}; expected one of {CLASSES}")
    if person not in PEOPLE:
        raise ValueError(f"unknown person {person!r}; expected one of {PEOPLE}")
    width, height = size
    mirrored = bool(rng.integers(2))
    style = anim.draw_style(rng)
    # Room above the shoulders for a raised hand (about 2 shoulder widths) and below for the desk.
    sw = rng.uniform(0.23, 0.29) * height
    below = style.desk_y + 0.45
    sw = min(sw, (height - 8) / (2.1 + below))
    top = rng.uniform(4.0, max(4.0, height - 4 - (2.1 + below) * sw))
    origin = np.array([rng.uniform(0.4, 0.6) * width, top + 2.1 * sw])
    backdrop = scene.background(size, scene.BACKGROUNDS[int(rng.integers(len(scene.BACKGROUNDS)))], rng)
    wood = scene.pick(rng, scene.DESKS) * rng.uniform(0.85, 1.1)
    cover = scene.pick(rng, scene.COVERS)
    paper_angle = rng.uniform(-0.12, 0.12)
    gain = rng.uniform(0.85, 1.1)
    cut = puppet.cutout(person, mirrored)
    actor = anim.Actor(cut, sw / cut.shoulder_width, origin, (0, 0, width, height), style, cover)

    def front(canvas: np.ndarray) -> None:
        top_y = origin[1] + style.desk_y * sw
        scene.desk(canvas, origin[0] - 1.5 * sw, origin[0] + 1.5 * sw, top_y, 0.4 * sw, wood)
        if action == "writing":
            o = -1.0 if style.side == 0 else 1.0
            centre = actor.to_canvas(np.array([o * (style.write_at[0] + 0.1), style.write_at[1] + 0.02]), np.zeros(2))
            scene.paper(canvas, centre, 0.6 * sw, 0.24 * sw, paper_angle)

    count = max(1, round(fps * seconds))
    frames, drawn = [], {key: np.zeros((count, 2, 2)) for key in ("wrists", "shoulders", "eyes")}
    for index in range(count):
        canvas = backdrop.copy()
        skeleton = actor.render(canvas, anim.pose_at(style, action, index / fps, seconds), front)
        frames.append(np.clip(canvas * gain, 0, 255).astype(np.uint8))
        for key, points in drawn.items():
            points[index] = skeleton[key]
    active = (0, 1) if action == "reading" else (style.side,)
    return Clip(frames, drawn["wrists"], drawn["shoulders"], drawn["eyes"], active)


def animate(person: str, action: str, rng: np.random.Generator, *, size: tuple[int, int] = FRAME_SIZE,
            fps: float = FPS, seconds: float = SECONDS) -> list[np.ndarray]:
    """The frames of `render_clip` (same arguments)."""
    return render_clip(person, action, rng, size=size, fps=fps, seconds=seconds).frames


def _clip_rng(seed: int, person: int, session: int, action: int) -> np.random.Generator:
    # One stream per clip: a clip does not change when other clips are added or removed.
    return np.random.default_rng([seed, person, session, action])


def make_demo_dataset(out_dir: str, *, sessions: int = 4, seed: int = 0, seconds: float = SECONDS) -> str:
    """Write the demo clips and their manifest.

    Each session holds one clip per class per person, so sessions suit leave-one-group-out evaluation.
    Clips go to `out_dir/clips/<class>/<person>-s<session>-<class>.mp4`; 4 sessions make 24 clips.

    Args:
        out_dir: Local directory or fsspec URL (`gs://`, `s3://`, ...).
        sessions: Sessions per person.
        seed: Seed; the same seed gives the same clips.
        seconds: Duration of each clip.

    Returns:
        URI of `out_dir/manifest.csv`, with columns `uri,label,group` (group like `astronaut-s0`).

    Raises:
        ValueError: `sessions` is below 1.
    """
    if sessions < 1:
        raise ValueError(f"sessions must be at least 1, got {sessions}")
    if storage.is_local(out_dir):
        # Absolute URIs keep the manifest valid whichever directory it is read from.
        out_dir = os.path.abspath(out_dir.removeprefix("file://"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="poseact-demo-") as work:
        for person_index, person in enumerate(PEOPLE):
            for session in range(sessions):
                group = f"{person}-s{session}"
                for class_index, label in enumerate(CLASSES):
                    rng = _clip_rng(seed, person_index, session, class_index)
                    filename = f"{group}-{label}.mp4"
                    local = os.path.join(work, filename)
                    write_video(local, animate(person, label, rng, seconds=seconds), FPS)
                    uri = storage.join(out_dir, "clips", label, filename)
                    storage.upload_atomic(local, uri)
                    rows.append((uri, label, group))
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(("uri", "label", "group"))
    out.writerows(rows)
    manifest = storage.join(out_dir, "manifest.csv")
    storage.write_atomic(manifest, text.getvalue().encode())
    return manifest


def check_animation(clips: Iterable[tuple[str, int, str]], *, seed: int = 0, tolerance: float = 0.35,
                    model_path: str | None = None) -> list[dict[str, object]]:
    """Does MediaPipe see the wrists where the skeleton put them? One row per clip.

    Each clip is rendered as `make_demo_dataset` renders it, written to `.mp4` and read back (so the codec
    is part of the check), and tracked by the production landmarker (VIDEO mode, `poseact.pose.landmarker`). A frame
    is a hit for an acting wrist when MediaPipe's wrist of that arm (landmark 16 for the image-left arm,
    15 for the image-right arm of a person facing the camera) lies within `tolerance` drawn shoulder
    widths of the drawn wrist; a frame where nobody is found is a miss.

    Args:
        clips: (person, session, action) triples.
        seed: Data set seed.
        tolerance: Largest hit distance, in shoulder widths.
        model_path: Pose `.task` bundle; default the offline `full` model (`poseact.pose.pose_model`).

    Returns:
        Rows `{"person", "session", "action", "frames", "hit_rate", "median_error"}` (error in shoulder
        widths, over acting wrists and frames with a person).
    """
    from poseact.pose import landmarker, pose_model, video  # noqa: PLC0415 (MediaPipe is heavy)
    from poseact.pose.landmarks import PoseLandmark  # noqa: PLC0415

    path = model_path or str(pose_model.resolve("full").path)
    model = landmarker.PoseLandmarkerModel(path, landmarker.PoseConfig(num_poses=1))
    ids = (PoseLandmark.RIGHT_WRIST, PoseLandmark.LEFT_WRIST)
    rows = []
    with tempfile.TemporaryDirectory(prefix="poseact-check-") as work:
        for person, session, action in clips:
            rng = _clip_rng(seed, PEOPLE.index(person), session, CLASSES.index(action))
            clip = render_clip(person, action, rng)
            local = os.path.join(work, "clip.mp4")
            write_video(local, clip.frames, FPS)
            found = model.track_clip(video.iter_frames(local))
            scale = np.array([found.width, found.height])
            errors = np.full((found.num_frames, len(clip.active)), np.inf)
            for k, side in enumerate(clip.active):
                seen = found.landmarks[:, ids[side], :2] * scale
                errors[:, k] = np.linalg.norm(seen - clip.wrists[: found.num_frames, side], axis=1)
                errors[:, k] /= clip.shoulder_width[: found.num_frames]
            errors[found.detected == 0] = np.inf
            finite = errors[np.isfinite(errors)]
            rows.append({"person": person, "session": session, "action": action, "frames": found.num_frames,
                         "hit_rate": float((errors <= tolerance).mean()) if errors.size else 0.0,
                         "median_error": float(np.median(finite)) if finite.size else math.inf})
    return rows


def _drift(photo: np.ndarray, rng: np.random.Generator, count: int, size: tuple[int, int] = FRAME_SIZE) -> list[np.ndarray]:
    """A photo on a grey frame, drifting by a few pixels: the motion of a hand-held camera."""
    width, height = size
    scale = 0.8 * min(width / photo.shape[1], height / photo.shape[0])
    base = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    amplitude, hz, phase = rng.uniform(1.5, 4.0, 2), rng.uniform(0.3, 1.5, 2), rng.uniform(0, 2 * math.pi, 2)
    frames = []
    for index in range(count):
        shift = amplitude * np.sin(2 * math.pi * hz * index / FPS + phase)
        offset = (np.array(size) - base.shape[1::-1]) / 2 + shift
        matrix = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
        frames.append(cv2.warpAffine(base, matrix, size, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=(_BACKGROUND,) * 3))
    return frames


def make_nobody_clip(path: str, seconds: float = 1.0, fps: float = FPS) -> str:
    """Write a clip with no person in it: scikit-image's cup of coffee, drifting slightly.

    Args:
        path: Local file path.
        seconds: Duration.
        fps: Frame rate.

    Returns:
        `path`.
    """
    from skimage import data  # noqa: PLC0415 (heavy import, needed only for demo media)

    photo = np.ascontiguousarray(data.coffee())
    write_video(path, _drift(photo, np.random.default_rng(0), max(1, round(fps * seconds))), fps)
    return path


def make_single_frame_clip(path: str) -> str:
    """Write a clip of exactly one frame, showing the astronaut at her desk.

    Args:
        path: Local file path.

    Returns:
        `path`.
    """
    write_video(path, animate("astronaut", "reading", np.random.default_rng(0), seconds=0.0), FPS)
    return path


def make_corrupt_clip(path: str) -> str:
    """Write a file that starts like an `.mp4` but holds garbage, so that no frame can be decoded.

    The first bytes of a real clip (its `ftyp` box and the start of its media data) are followed by random
    bytes; the index (`moov` box) a demuxer needs is missing, so OpenCV cannot even open the file.

    Args:
        path: Local file path.

    Returns:
        `path`.
    """
    with tempfile.TemporaryDirectory(prefix="poseact-demo-") as work:
        real = make_single_frame_clip(os.path.join(work, "real.mp4"))
        with open(real, "rb") as handle:
            head = handle.read(64)
    garbage = np.random.default_rng(0).integers(0, 256, size=8192, dtype=np.uint8).tobytes()
    with open(path, "wb") as handle:
        handle.write(head + garbage)
    return path


def make_two_person_frame(size: tuple[int, int] = (768, 384)) -> np.ndarray:
    """One frame with two people side by side: the astronaut on the left, Grace Hopper on the right.

    MediaPipe's pose landmarker finds only one of them (Hopper) here, even with `num_poses=2`; each half of
    the frame, cropped, holds one person it does find.

    Args:
        size: Frame size, (width, height).

    Returns:
        An RGB uint8 frame.
    """
    width, height = size
    frame = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    half = width // 2
    for slot, photo in enumerate(person_photos().values()):
        scale = min(0.9 * half / photo.shape[1], 0.9 * height / photo.shape[0])
        part = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        top = height - part.shape[0]  # both stand on the bottom edge, as people in a row would
        left = slot * half + (half - part.shape[1]) // 2
        frame[top : top + part.shape[0], left : left + part.shape[1]] = part
    return frame


def make_demo_lecture(path: str, **kwargs) -> list[dict[str, object]]:
    """Write a multi-person demo lecture and return its script (see `poseact.demo.lecture.make_demo_lecture`)."""
    from poseact.demo import lecture  # noqa: PLC0415

    return lecture.make_demo_lecture(path, **kwargs)
