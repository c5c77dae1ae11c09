"""Annotated boxes to training rows: each box's person, found and posed as the label path does, as a sequence.

An annotated image becomes a still sequence (`BoxConfig.still_frames` copies of it at `fps`); an annotated instant of
a video becomes the window around it (`max_frames` sampled frames, centred on the instant). Everyone in it is found and
followed by `poseact.people.tracker.PeoplePoser` with the label path's settings, so a model trained on the rows sees
the landmarks `poseact label` will give it.

A box belongs to the person whose head it holds, on the frame of the annotated instant:
- `head` boxes (the annotation boxes heads, as `classroom_cctv` does): the person's head point (the median of their
  face landmarks, `poseact.people.heads.head_point`) lies in the box grown by a quarter of its size on each side;
- `body` boxes: the head point lies in the box's upper half (a seated student's box runs from the crown to the desk,
  a standing one's to the feet; the face is in the upper half of both).

A box that holds nobody's head, or two persons' heads, is not a row: it comes back with its reason (a dead letter).
A person claimed by two boxes goes to the box whose centre their head point is nearest (in box widths); the other box
then holds nobody.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from poseact.data import schema
from poseact.data.annotations import BoxedImage
from poseact.data.extraction import make_row
from poseact.data.manifest import ClipSpec
from poseact.data.normalize import normalize
from poseact.people.heads import grown, head_point
from poseact.people.tracker import PeopleConfig, PeoplePoser
from poseact.pose.landmarker import ClipPose
from poseact.pose.landmarks import NUM_LANDMARKS

PARTS = ("body", "head")


@dataclasses.dataclass(frozen=True)
class BoxConfig:
    """How boxes become sequences.

    Attributes:
        part: What the boxes hold: "body" (a whole person, or the part of them above a desk) or "head".
        fps: The sampling rate of the sequences (the label path's, the model card's).
        still_frames: Frames of an image's still sequence: 15 at 15 fps is one second, long enough for the followers
            to settle (the label path lists a person seen in a quarter of a window).
        max_frames: Frames of the model input (the schema's).
    """

    part: str = "body"
    fps: float = 15.0
    still_frames: int = 15
    max_frames: int = 48

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, got {self.part!r}")


@dataclasses.dataclass(frozen=True)
class BoxOutcome:
    """What became of one box: its row, or the reason it has none."""

    index: int
    label: str
    box: tuple[float, float, float, float]
    row: dict[str, Any] | None = None
    stage: str = ""
    reason: str = ""


def box_id(image: BoxedImage, index: int) -> str:
    """A box's identity: its frame and its place in the frame's annotation."""
    return f"{image.key}#{index}"


def heads_in_boxes(boxes: np.ndarray, heads: np.ndarray, part: str) -> np.ndarray:
    """(boxes, persons) whether each person's head point (pixels) lies in each box, as `part` boxes hold heads."""
    if part == "head":
        area = grown(boxes)
    else:
        area = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
        area[:, 3] = area[:, 1] + 0.5 * (area[:, 3] - area[:, 1])
    x, y = heads[None, :, 0], heads[None, :, 1]
    return (x >= area[:, None, 0]) & (x <= area[:, None, 2]) & (y >= area[:, None, 1]) & (y <= area[:, None, 3])


def assign_boxes(boxes: np.ndarray, heads: np.ndarray, part: str) -> list[int | str]:
    """Each box's person (an index into `heads`), or the reason it has none: "no person" or "two persons"."""
    inside = heads_in_boxes(boxes, heads, part) if len(heads) else np.zeros((len(boxes), 0), bool)
    owner: dict[int, int] = {}
    if inside.size:
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
        for person in range(len(heads)):
            claims = np.flatnonzero(inside[:, person])
            if len(claims):
                gaps = np.hypot(*(centres[claims] - heads[person]).T) / widths[claims]
                owner[person] = int(claims[np.argmin(gaps)])
    out: list[int | str] = []
    for b in range(len(boxes)):
        persons = [p for p, owned in owner.items() if owned == b]
        out.append(persons[0] if len(persons) == 1 else ("no person" if not persons else "two persons"))
    return out


def box_rows(image: BoxedImage, split: str, group: str, label_ids: dict[str, int],
             times_ms: np.ndarray, tracks: dict[int, tuple[np.ndarray, np.ndarray]], at: int,
             config: BoxConfig) -> list[BoxOutcome]:
    """Every box of `image` with its row or its reason.

    Args:
        image: The annotated frame.
        split: Its split; group: its split group.
        label_ids: Class name -> id.
        times_ms: (F,) the sequence's frame times.
        tracks: Person -> (landmarks (F, 33, 5) frame-normalised, detected (F,)), as the label path found them.
        at: The frame of the annotated instant (its boxes are matched to the persons found there).
        config: How boxes become sequences.
    """
    present = [t for t, (_, detected) in sorted(tracks.items()) if detected[at]]
    heads = np.array([head_point(tracks[t][0][at], image.width, image.height) for t in present],
                     np.float32).reshape(-1, 2)
    owners = assign_boxes(image.boxes, heads, config.part)
    out = []
    for index, (box, label, owner) in enumerate(zip(image.boxes, image.labels, owners)):
        coords = tuple(round(float(v), 1) for v in box)
        if label not in label_ids:
            out.append(BoxOutcome(index, label, coords, stage="label", reason=f"unknown label {label!r}"))
            continue
        if isinstance(owner, str):
            reason = ("no person found with their head in the box" if owner == "no person"
                      else "two persons found with their heads in the box")
            out.append(BoxOutcome(index, label, coords, stage="match", reason=reason))
            continue
        landmarks, detected = tracks[present[owner]]
        try:
            features, mask = normalize(landmarks, detected, aspect=image.width / image.height,
                                       max_frames=config.max_frames)
        except ValueError as err:
            out.append(BoxOutcome(index, label, coords, stage="normalize", reason=str(err)))
            continue
        count = len(times_ms)
        pose = ClipPose(np.asarray(times_ms, np.float64), landmarks.astype(np.float32),
                        np.zeros((count, 33, 3), np.float32), detected.astype(np.int64),
                        np.full(count, len(present), np.int64), image.width, image.height)
        spec = ClipSpec(box_uri(image, index), label, group, split)
        row = make_row(spec, label_ids[label], pose, features, mask, source_fps=config.fps, fps=config.fps)
        row[schema.CLIP_ID] = box_id(image, index)
        out.append(BoxOutcome(index, label, coords, row=row))
    return out


def still_frames(rgb: np.ndarray, config: BoxConfig) -> Iterator[tuple[float, np.ndarray]]:
    """An image as a still sequence: (time in ms, the image) `config.still_frames` times at `config.fps`."""
    for index in range(config.still_frames):
        yield 1000.0 * index / config.fps, rgb


def pose_people(frames: Iterable[tuple[float, np.ndarray]], model_buffer: bytes, people: PeopleConfig, fps: float,
                finder_buffer: bytes | None = None) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Find and follow everyone over `frames` as the label path does; the frame times and each person's landmarks
    (F, 33, 5) and detected frames (F,)."""
    times, seen = [], []
    with PeoplePoser(model_buffer, people, fps, finder_buffer) as poser:
        for time_ms, rgb in frames:
            times.append(time_ms)
            seen.append(poser.process(rgb, time_ms) or [])
    count = len(times)
    tracks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for index, observations in enumerate(seen):
        for obs in observations:
            landmarks, detected = tracks.setdefault(
                obs.track, (np.zeros((count, NUM_LANDMARKS, 5), np.float32), np.zeros(count, bool)))
            landmarks[index], detected[index] = obs.landmarks, True
    return np.asarray(times, np.float64), dict(sorted(tracks.items()))


def instant_index(times_ms: np.ndarray, image: BoxedImage) -> int:
    """The frame the boxes are matched on: the one nearest a video's annotated instant; the middle of a still."""
    if image.time_s is None:
        return len(times_ms) // 2
    return int(np.argmin(np.abs(times_ms - 1000.0 * image.time_s)))


def box_uri(image: BoxedImage, index: int) -> str:
    """Where a row came from: the file, the instant of a video, and the box."""
    at = f"@{image.time_s:g}s" if image.time_s is not None else ""
    return f"{image.path}{at}#box{index}"


__all__ = ["PARTS", "BoxConfig", "BoxOutcome", "assign_boxes", "box_id", "box_rows", "box_uri", "heads_in_boxes",
           "instant_index", "pose_people", "still_frames"]
