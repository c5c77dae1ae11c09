"""A small, generated demo data set and test media.

No labelled classroom video can be shipped, so the demo clips are animated from photos of people that
installed packages ship: scikit-image's `astronaut` and matplotlib's sample portrait of Grace Hopper. The
clips exercise the machinery (extraction, training, labelling); they do not teach a useful classroom model.

Our pose features are translation and scale invariant (each frame is centred on the shoulder midpoint and
divided by the clip's median shoulder width) but keep rotation and body proportions, so the classes are
motions that change the normalised pose:

- `still`: the photo with small translation jitter and a slight zoom drift only;
- `tilt`: the body rocks from side to side, rotating about the bottom centre of the photo (the hips);
- `stretch`: the body grows taller and narrower, and back, in turn.

Every clip also gets a seeded placement, jitter and zoom drift, so translation and size never tell the
classes apart. Clips are deterministic for a seed: the same frames, and (with the FFmpeg `mp4v` encoder of
opencv-python-headless 5.0) the same file bytes.

Why not scikit-image's `camera` (a man with a camera, face half hidden): MediaPipe's person detector scores
him near its threshold, so it misses him outright at some sizes and placements and loses up to 13% of the
frames of a rocking clip. It found both people used here in every frame of the demo clips of seeds 0 to 3.
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

from poseact import storage

CLASSES: tuple[str, ...] = ("still", "tilt", "stretch")

FRAME_SIZE: tuple[int, int] = (384, 384)
"""Default clip size, (width, height)."""
FPS = 15.0
SECONDS = 2.0
_BACKGROUND = 128  # mid-grey border around the photo
_FOURCC = "mp4v"

# Ranges the per-clip parameters are drawn from.
_PHOTO_HEIGHT = (0.60, 0.68)  # photo height as a fraction of the frame height
_BOTTOM = (0.97, 1.02)  # where the bottom of the photo sits, as a fraction of the frame height
_CENTRE_X = (0.42, 0.58)  # horizontal centre of the photo, as a fraction of the frame width
_JITTER_PX = (1.5, 4.0)
_JITTER_HZ = (0.3, 1.5)
_ZOOM_DRIFT = 0.04  # relative change of scale over the clip, at most
_MOTION_HZ = (0.6, 1.0)  # rocking / stretching speed: 1.2 to 2 cycles in a 2 s clip
_TILT_DEGREES = (10.0, 16.0)
_STRETCH = (0.25, 0.35)  # relative growth in height at the peak; the width shrinks by half as much
# Motions fade in over this long, so that every clip starts from the photo's own pose: the person detector,
# which runs until tracking locks on, is less robust to odd poses than tracking is.
_EASE_IN_S = 0.3


@dataclasses.dataclass(frozen=True)
class _Motion:
    """The randomly drawn parameters of one clip (lengths in pixels, angles in radians)."""

    scale: float
    anchor: np.ndarray  # where the photo's bottom centre goes in the frame
    jitter_amplitude: np.ndarray
    jitter_frequency: np.ndarray
    jitter_phase: np.ndarray
    zoom_drift: float
    frequency: float
    phase: float
    tilt: float
    stretch: float


def person_photos() -> dict[str, np.ndarray]:
    """Photos of one person each, from data that installed packages ship (no download).

    Returns:
        RGB uint8 photos by name: `astronaut` (scikit-image; a woman, upper body, forearms out of view)
        and `hopper` (matplotlib's sample portrait of Grace Hopper; head and shoulders).
    """
    # Heavy imports, needed only for demo media.
    from matplotlib import cbook  # noqa: PLC0415
    from skimage import data  # noqa: PLC0415

    hopper = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), cv2.IMREAD_COLOR)
    if hopper is None:
        raise FileNotFoundError("matplotlib's sample image grace_hopper.jpg is missing or unreadable")
    return {
        "astronaut": np.ascontiguousarray(data.astronaut()),
        "hopper": cv2.cvtColor(hopper, cv2.COLOR_BGR2RGB),
    }


def write_video(path: str, frames: Iterable[np.ndarray], fps: float) -> None:
    """Write RGB frames to an `.mp4` file (MPEG-4 part 2, `mp4v`).

    Args:
        path: Local file path; the directory must exist.
        frames: RGB uint8 frames, all of the same size.
        fps: Frame rate.

    Raises:
        ValueError: No frames, or a frame that is not HxWx3 uint8 of the first frame's size.
        OSError: OpenCV could not open a writer for `path`.
    """
    writer: cv2.VideoWriter | None = None
    size: tuple[int, int] | None = None
    try:
        for frame in frames:
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"frames must be HxWx3 uint8 RGB, got {frame.shape} {frame.dtype}")
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*_FOURCC), fps, size)
                # OpenCV reports a writer it cannot open only through isOpened(), never by raising.
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write {_FOURCC} video to {path}")
            elif (frame.shape[1], frame.shape[0]) != size:
                raise ValueError(f"frame size {frame.shape[1]}x{frame.shape[0]} differs from {size}")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError(f"no frames to write to {path}")


def animate(
    photo: np.ndarray,
    action: str,
    rng: np.random.Generator,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    fps: float = FPS,
    seconds: float = SECONDS,
) -> list[np.ndarray]:
    """Animate a photo into the frames of a clip showing `action`.

    Args:
        photo: RGB uint8 photo.
        action: One of `CLASSES`.
        rng: Source of the clip's placement, jitter, speed, phase and amplitude.
        size: Frame size, (width, height).
        fps: Frame rate.
        seconds: Duration; at least one frame is made.

    Returns:
        RGB uint8 frames of `size`.

    Raises:
        ValueError: Unknown action, or a photo that is not HxWx3 uint8.
    """
    if action not in CLASSES:
        raise ValueError(f"unknown action {action!r}; expected one of {CLASSES}")
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be HxWx3 uint8 RGB, got {photo.shape} {photo.dtype}")
    motion = _draw_motion(rng, photo.shape[:2], size)
    # Resize once with area averaging: warpAffine only interpolates, which aliases when it shrinks much.
    base = cv2.resize(photo, None, fx=motion.scale, fy=motion.scale, interpolation=cv2.INTER_AREA)
    pivot = np.array([base.shape[1] / 2.0, float(base.shape[0])])  # bottom centre, near the hips
    count = max(1, round(fps * seconds))
    frames = []
    for index in range(count):
        linear = _pose(motion, action, index / fps, index / max(count - 1, 1))
        shift = motion.jitter_amplitude * np.sin(
            2.0 * math.pi * motion.jitter_frequency * index / fps + motion.jitter_phase
        )
        matrix = np.hstack([linear, (motion.anchor + shift - linear @ pivot)[:, None]])
        frames.append(
            cv2.warpAffine(
                base,
                matrix,
                size,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(_BACKGROUND, _BACKGROUND, _BACKGROUND),
            )
        )
    return frames


def _draw_motion(rng: np.random.Generator, photo_shape: tuple[int, int], size: tuple[int, int]) -> _Motion:
    width, height = size
    photo_height, photo_width = photo_shape
    # Everything is drawn for every action, in the same order, so all classes share the nuisance motions.
    return _Motion(
        scale=min(rng.uniform(*_PHOTO_HEIGHT) * height / photo_height, 0.8 * width / photo_width),
        anchor=np.array([rng.uniform(*_CENTRE_X) * width, rng.uniform(*_BOTTOM) * height]),
        jitter_amplitude=rng.uniform(*_JITTER_PX, size=2),
        jitter_frequency=rng.uniform(*_JITTER_HZ, size=2),
        jitter_phase=rng.uniform(0.0, 2.0 * math.pi, size=2),
        zoom_drift=rng.uniform(-_ZOOM_DRIFT, _ZOOM_DRIFT),
        frequency=rng.uniform(*_MOTION_HZ),
        phase=rng.uniform(0.0, 2.0 * math.pi),
        tilt=math.radians(rng.uniform(*_TILT_DEGREES)),
        stretch=rng.uniform(*_STRETCH),
    )


def _pose(motion: _Motion, action: str, t: float, progress: float) -> np.ndarray:
    """The 2x2 linear part of the photo-to-frame transform at time `t` (`progress` runs from 0 to 1)."""
    ramp = min(1.0, t / _EASE_IN_S)
    envelope = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no jerk when the motion sets in
    wave = math.sin(2.0 * math.pi * motion.frequency * t + motion.phase)
    linear = np.eye(2) * (1.0 + motion.zoom_drift * progress)
    if action == "tilt":
        angle = motion.tilt * envelope * wave
        linear = linear @ np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    elif action == "stretch":
        # Never squashed below the photo's height: the person detector misses squashed people more often.
        # Narrow as it grows so that the shoulder width, our unit of length, changes against the height.
        grow = motion.stretch * envelope * (1.0 + wave) / 2.0
        linear = linear @ np.diag([1.0 - 0.5 * grow, 1.0 + grow])
    return linear


def make_demo_dataset(out_dir: str, *, sessions: int = 4, seed: int = 0, seconds: float = SECONDS) -> str:
    """Write the demo clips and their manifest.

    Each session holds one clip per class per photo, so sessions suit leave-one-group-out evaluation. Clips
    go to `out_dir/clips/<class>/<photo>-s<session>-<class>.mp4`; the defaults make 24 clips, about 3.5 MB.

    Args:
        out_dir: Local directory or fsspec URL (`gs://`, `s3://`, ...).
        sessions: Sessions per photo.
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
        for photo_index, (name, photo) in enumerate(person_photos().items()):
            for session in range(sessions):
                group = f"{name}-s{session}"
                for class_index, label in enumerate(CLASSES):
                    # One stream per clip: a clip does not change when other clips are added or removed.
                    rng = np.random.default_rng([seed, photo_index, session, class_index])
                    filename = f"{group}-{label}.mp4"
                    local = os.path.join(work, filename)
                    write_video(local, animate(photo, label, rng, seconds=seconds), FPS)
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


def make_nobody_clip(path: str, seconds: float = 1.0, fps: float = FPS) -> str:
    """Write a clip with no person in it: a cup of coffee, animated like a `still` clip.

    Args:
        path: Local file path.
        seconds: Duration.
        fps: Frame rate.

    Returns:
        `path`.
    """
    from skimage import data  # noqa: PLC0415 (heavy import, needed only for demo media)

    photo = np.ascontiguousarray(data.coffee())
    write_video(path, animate(photo, "still", np.random.default_rng(0), fps=fps, seconds=seconds), fps)
    return path


def make_single_frame_clip(path: str) -> str:
    """Write a clip of exactly one frame, showing the astronaut.

    Args:
        path: Local file path.

    Returns:
        `path`.
    """
    photo = person_photos()["astronaut"]
    write_video(path, animate(photo, "still", np.random.default_rng(0), seconds=0.0), FPS)
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


LECTURE_SIZE: tuple[int, int] = (1280, 720)
"""Default demo lecture size, (width, height): 720p, like a classroom camera."""


def make_demo_lecture(
    path: str,
    *,
    seconds: float = 40.0,
    fps: float = FPS,
    size: tuple[int, int] = LECTURE_SIZE,
    students: int = 4,
    seed: int = 0,
    segment_s: tuple[float, float] = (5.0, 10.0),
) -> list[dict[str, object]]:
    """Write a multi-person demo lecture: `students` people in two rows, each acting out a script.

    The people are the demo photos (and their mirror images, so four students look like four people),
    one per cell of a two-row grid, so each is about a third of the frame high: small enough that
    MediaPipe's whole-frame detector misses some of them. Each student runs through consecutive segments
    of `segment_s` seconds, each showing one of `CLASSES` (motions as in the demo clips).

    Args:
        path: Local `.mp4` path (its folder must exist).
        seconds: Duration.
        fps: Frame rate.
        size: Frame size (width, height).
        students: How many people.
        seed: Script and placement seed.
        segment_s: Range of segment lengths.

    Returns:
        The script: one row per segment, `{"student", "start_s", "end_s", "action"}`, students numbered
        left to right, top row first.
    """
    rng = np.random.default_rng(seed)
    photos = list(person_photos().values())
    faces = [photos[i % len(photos)] if (i // len(photos)) % 2 == 0 else np.ascontiguousarray(photos[i % len(photos)][:, ::-1])
             for i in range(students)]
    width, height = size
    cols = max(1, math.ceil(students / 2))
    rows = 1 if students == 1 else 2
    cell = (width // cols, height // rows)
    placed = []
    script: list[dict[str, object]] = []
    for student, photo in enumerate(faces):
        motion = _draw_motion(rng, photo.shape[:2], cell)
        base = cv2.resize(photo, None, fx=motion.scale, fy=motion.scale, interpolation=cv2.INTER_AREA)
        pivot = np.array([base.shape[1] / 2.0, float(base.shape[0])])
        bounds, t = [], 0.0
        while t < seconds:
            end = min(seconds, t + float(rng.uniform(*segment_s)))
            action = CLASSES[int(rng.integers(len(CLASSES)))]
            bounds.append((t, end, action))
            script.append({"student": student, "start_s": round(t, 3), "end_s": round(end, 3), "action": action})
            t = end
        origin = ((student % cols) * cell[0], (student // cols) * cell[1])
        placed.append((motion, base, pivot, bounds, origin))

    def frames():
        count = max(1, round(fps * seconds))
        for index in range(count):
            t = index / fps
            frame = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
            for motion, base, pivot, bounds, (x0, y0) in placed:
                start, end, action = next((b for b in bounds if b[0] <= t < b[1]), bounds[-1])
                local = t - start
                linear = _pose(motion, action, local, local / max(end - start, 1e-6))
                shift = motion.jitter_amplitude * np.sin(2.0 * math.pi * motion.jitter_frequency * t + motion.jitter_phase)
                matrix = np.hstack([linear, (motion.anchor + shift - linear @ pivot)[:, None]])
                frame[y0 : y0 + cell[1], x0 : x0 + cell[0]] = cv2.warpAffine(
                    base, matrix, cell, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=(_BACKGROUND, _BACKGROUND, _BACKGROUND))
            yield frame

    write_video(path, frames(), fps)
    return script
