"""Classroom-like crowd scenes for measuring who is found: 6-10 people in 2-3 rows, small and occluded.

People are the demo's real photos (`poseact.demo.media.person_photos`: NASA's portrait of Eileen Collins and the
US Navy's portrait of Grace Hopper, both public domain, and their mirror images), cut out along their
silhouettes (`poseact.demo.puppet.RIGS`) and pasted row by row, back row first, each row behind its desks, so
people are hidden by desks and by the people in front, as seen by a camera at the front of a room. Heads
range over `head_px` (back rows smallest). Every person sways a little (a pixel or two), so MediaPipe's
tracking sees motion as in a real video. The truth is each person's head box (the eyes and the
silhouette above the neck), which stays visible: people are placed so that no head is hidden.

`evaluate` scores the tracks of `poseact.people.tracker.PeoplePoser` (or of the label pipeline) against it:
recall (people tracked in at least half of the frames over people present), duplicates (a second track
on someone already tracked in the same frames) and id switches (a person's frames split between ids).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from poseact.demo import limbs

SIZES: dict[str, tuple[int, int]] = {"480p": (854, 480), "720p": (1280, 720)}


@dataclasses.dataclass(frozen=True)
class Person:
    """One person of a scene (pixels of the frame at rest).

    Attributes:
        photo: Name of the photo (`astronaut`, `hopper`).
        mirrored: Mirror image of the photo.
        scale: Photo pixels to frame pixels.
        origin: Where the photo's top-left corner goes.
        head: Head box (x0, y0, x1, y1).
        row: Row, 0 at the back.
        sway: (amplitude px, frequency Hz, phase).
    """

    photo: str
    mirrored: bool
    scale: float
    origin: tuple[float, float]
    head: tuple[float, float, float, float]
    row: int
    sway: tuple[float, float, float]

    def head_at(self, t: float) -> np.ndarray:
        """Head box at time `t` (seconds)."""
        dx = self.sway[0] * math.sin(2 * math.pi * self.sway[1] * t + self.sway[2])
        return np.asarray(self.head) + np.array([dx, 0.0, dx, 0.0])


@dataclasses.dataclass(frozen=True)
class Scene:
    """A generated scene: its size, people, frame rate and duration."""

    size: tuple[int, int]
    people: tuple[Person, ...]
    fps: float
    seconds: float
    seed: int


@functools.lru_cache(maxsize=4)
def _silhouette(name: str, mirrored: bool) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """The photo, its silhouette alpha, and the head box in photo pixels (cached: the layout and every frame
    ask for it; arrays are shared, never write to them)."""
    from poseact.demo import media, puppet  # noqa: PLC0415

    rig = puppet.RIGS[name]
    photo = media.person_photos()[name].astype(np.float32)
    height, width = photo.shape[:2]
    alpha = np.zeros((height, width), np.uint8)
    cv2.fillPoly(alpha, [np.round(np.asarray(rig.outline)).astype(np.int32)], 255, cv2.LINE_AA)
    outline = np.asarray(rig.outline, np.float64)
    above = outline[outline[:, 1] <= rig.neck_y]
    head = (float(above[:, 0].min()), float(above[:, 1].min()), float(above[:, 0].max()), float(rig.neck_y))
    if mirrored:
        photo, alpha = photo[:, ::-1], alpha[:, ::-1]
        head = (width - 1 - head[2], head[1], width - 1 - head[0], head[3])
    return np.ascontiguousarray(photo), np.ascontiguousarray(alpha.astype(np.float32) / 255.0), head


def make_scene(size: tuple[int, int], rows: int, per_row: Sequence[int], head_px: tuple[float, float],
               seed: int = 0, fps: float = 15.0, seconds: float = 4.0) -> Scene:
    """Lay out a scene.

    Args:
        size: Frame size (width, height).
        rows: Rows of people (2 or 3 make a classroom).
        per_row: People in each row, back row first.
        head_px: Head width of the back row and of the front row (pixels); rows between are in between.
        seed: Layout seed.
        fps: Frame rate.
        seconds: Duration.

    Returns:
        The scene (nothing is drawn until `frames`).
    """
    if len(per_row) != rows:
        raise ValueError(f"per_row needs one count per row, got {len(per_row)} for {rows} rows")
    rng = np.random.default_rng(seed)
    width, height = size
    people = []
    names = ("astronaut", "hopper")
    for row in range(rows):
        share = row / max(rows - 1, 1)
        head_w = head_px[0] + share * (head_px[1] - head_px[0])
        # Head centres from 22% of the height (back) to 45% (front): rows step down the image towards the camera.
        eye_y = height * (0.22 + 0.23 * share)
        count = per_row[row]
        offset = 0.5 if row % 2 else 0.0  # stagger rows, so heads in the back row show between those in front
        for k in range(count):
            name = names[(row + k) % 2]
            mirrored = bool(rng.integers(2))
            photo, _, head = _silhouette(name, mirrored)
            scale = head_w / (head[2] - head[0])
            cx = width * (k + 0.5 + offset * 0.5) / (count + offset * 0.5) + rng.uniform(-0.02, 0.02) * width
            head_cy = eye_y - rng.uniform(0.0, 0.03) * height
            photo_cx, photo_cy = (head[0] + head[2]) / 2, (head[1] + head[3]) / 2
            origin = (cx - photo_cx * scale, head_cy - photo_cy * scale)
            box = (origin[0] + head[0] * scale, origin[1] + head[1] * scale,
                   origin[0] + head[2] * scale, origin[1] + head[3] * scale)
            sway = (float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.2, 0.6)), float(rng.uniform(0, 2 * math.pi)))
            people.append(Person(name, mirrored, scale, origin, box, row, sway))
    return Scene(size, tuple(people), fps, seconds, seed)


def frames(scene: Scene) -> Iterator[np.ndarray]:
    """The scene's RGB uint8 frames: a classroom background, then each row behind its desks."""
    from poseact.demo import scene as props  # noqa: PLC0415

    rng = np.random.default_rng(scene.seed)
    width, height = scene.size
    base = props.background(scene.size, "classroom", rng)
    wood = np.asarray((166, 120, 76), np.float32) * rng.uniform(0.8, 1.1)
    layers = []
    for person in scene.people:
        photo, alpha, head = _silhouette(person.photo, person.mirrored)
        scaled = cv2.resize(photo, None, fx=person.scale, fy=person.scale, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(alpha, None, fx=person.scale, fy=person.scale, interpolation=cv2.INTER_AREA)
        # The desk in front: two head heights below the chin (a seated person's elbows), where the photos end.
        head_h = (person.head[3] - person.head[1])
        layers.append((person, scaled, mask, person.head[3] + 2.0 * head_h))
    for index in range(max(1, round(scene.fps * scene.seconds))):
        t = index / scene.fps
        canvas = base.copy()
        for row in sorted({p.row for p in scene.people}):
            desk_top = None
            for person, scaled, mask, top in (layer for layer in layers if layer[0].row == row):
                dx = person.sway[0] * math.sin(2 * math.pi * person.sway[1] * t + person.sway[2])
                _paste(canvas, scaled, mask, person.origin[0] + dx, person.origin[1])
                desk_top = top if desk_top is None else min(desk_top, top)
            row_w = width * 1.02
            props.desk(canvas, -0.01 * width, row_w, desk_top, 0.03 * height, wood)
        yield np.clip(canvas, 0, 255).astype(np.uint8)


def _paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: float, y: float) -> None:
    height, width = canvas.shape[:2]
    x0, y0 = int(round(x)), int(round(y))
    sx0, sy0 = max(0, -x0), max(0, -y0)
    x1, y1 = min(width, x0 + rgb.shape[1]), min(height, y0 + rgb.shape[0])
    if x1 <= max(x0, 0) or y1 <= max(y0, 0):
        return
    src = (slice(sy0, sy0 + y1 - max(y0, 0)), slice(sx0, sx0 + x1 - max(x0, 0)))
    limbs.blend(canvas, np.ascontiguousarray(rgb[src]), np.ascontiguousarray(alpha[src]),
                (max(x0, 0), max(y0, 0), x1, y1))


def write(scene: Scene, path: str) -> str:
    """Write the scene as an `.mp4` (see `poseact.demo.media.write_video`)."""
    from poseact.demo.media import write_video  # noqa: PLC0415

    write_video(path, frames(scene), scene.fps)
    return path


def _owner(box: np.ndarray, heads: list[np.ndarray]) -> int | None:
    """The person whose head centre lies inside `box` (nearest to the box's top centre when several)."""
    inside = []
    for index, head in enumerate(heads):
        cx, cy = (head[0] + head[2]) / 2, (head[1] + head[3]) / 2
        if box[0] <= cx <= box[2] and box[1] - 0.5 * (head[3] - head[1]) <= cy <= box[3]:
            top = np.array([(box[0] + box[2]) / 2, box[1]])
            inside.append((float(np.linalg.norm(top - np.array([cx, head[1]]))), index))
    return min(inside)[1] if inside else None


def evaluate(scene: Scene, observations: Sequence[Sequence[tuple[int, np.ndarray]]], min_share: float = 0.5
             ) -> dict[str, object]:
    """Score tracks against the scene's people.

    Args:
        scene: The scene.
        observations: Per frame (at the scene's fps, from t = 0), (track id, box) pairs.
        min_share: A person counts as tracked when some track is on them in this share of the frames.

    Returns:
        `people`, `tracked` (people tracked in `min_share` of frames), `recall`, `duplicates` (tracks
        that share a person with a longer track for at least 10% of frames), `id_switches` (sum over people
        of the ids holding them minus one), `false_tracks` (tracks on nobody for most of their frames),
        and `per_person` frame shares.
    """
    count = len(observations)
    people = len(scene.people)
    on: dict[int, dict[int, int]] = {}  # track -> person -> frames
    covered = np.zeros((people, count), bool)
    frames_of: dict[int, int] = {}
    for index, frame in enumerate(observations):
        heads = [p.head_at(index / scene.fps) for p in scene.people]
        for track, box in frame:
            frames_of[track] = frames_of.get(track, 0) + 1
            owner = _owner(np.asarray(box), heads)
            if owner is not None:
                on.setdefault(track, {})[owner] = on.setdefault(track, {}).get(owner, 0) + 1
                covered[owner, index] = True
    share = covered.mean(axis=1) if count else np.zeros(people)
    main_person = {t: max(p.items(), key=lambda kv: (kv[1], -kv[0]))[0] for t, p in on.items()}
    holders: dict[int, list[int]] = {}
    for track, person in main_person.items():
        holders.setdefault(person, []).append(track)
    duplicates = sum(max(0, sum(1 for t in tracks if on[t][person] >= 0.1 * count) - 1)
                     for person, tracks in holders.items())
    switches = sum(max(0, len(tracks) - 1) for tracks in holders.values())
    false_tracks = sum(1 for track, n in frames_of.items() if sum(on.get(track, {}).values()) < 0.5 * n)
    tracked = int((share >= min_share).sum())
    return {"people": people, "tracked": tracked, "recall": round(tracked / people, 3) if people else None,
            "duplicates": int(duplicates), "id_switches": int(switches), "false_tracks": int(false_tracks),
            "per_person": [round(float(s), 3) for s in share]}
