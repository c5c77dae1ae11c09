"""Pictures of people for the lecture report: a thumbnail of each person and a snapshot of each hand raise.

Memory stays small: each chunk keeps, once per video second, every person's box and face box
(`sample_people`); when the video is finished, the frames to show are chosen from those samples
(`plan_pictures`), only those frames are decoded again (`read_frames`), and cut out (`thumbnail`,
`snapshot`), faces blurred on request (`poseact.label.privacy`). Pictures are JPEG bytes, the same for the
same input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from poseact.label import privacy
from poseact.label.lecture import ChunkPose
from poseact.label.segments import Segment
from poseact.people.tracker import iou
from poseact.pose.video import VideoInfo, VideoLimits, iter_frames

SAMPLE_EVERY_S = 1.0  # one sampled frame per video second carries boxes to the finish step
THUMB_HEIGHT = 160  # pixels
SNAPSHOT_WIDTH = 360  # pixels
JPEG_QUALITY = 85
RAISES_PER_PERSON = 12  # snapshots shown per person; the report counts the rest
# Action names that count as each kind, whatever the model calls them (as `segments.person_summary`).
_KINDS = {"hand_raise": ("raise", "hand"), "writing": ("writ",), "reading": ("read",)}


def action_kind(action: str) -> str | None:
    """`hand_raise`, `writing`, `reading` or None, from a class name (`hand_raise`, `raise`, `Writing` ...)."""
    name = action.lower()
    for kind, parts in _KINDS.items():
        if any(part in name for part in parts):
            return kind
    return None


def sample_people(pose: ChunkPose, every_s: float = SAMPLE_EVERY_S, faces: bool = True) -> list[dict[str, Any]]:
    """Boxes of everyone in the first owned frame of each `every_s` slot of a chunk.

    Returns:
        `[{"t_ms": time, "people": {local track: [x0, y0, x1, y1] + face box or []}}]` (pixels), only
        frames where someone was found; face boxes are left out when `faces` is False.
    """
    owned = (pose.times_ms >= 1000 * pose.chunk.start_s) & (pose.times_ms < 1000 * pose.chunk.end_s)
    out, previous = [], None
    for i, t in enumerate(pose.times_ms):
        slot = math.floor(t / (1000 * every_s) + 1e-6)
        if not owned[i] or slot == previous:
            continue
        previous = slot
        people = {}
        for track, (landmarks, detected, boxes) in pose.tracks.items():
            if detected[i]:
                face = privacy.face_box(landmarks[i], pose.width, pose.height) if faces else None
                people[str(track)] = [round(float(v), 1) for v in boxes[i]] + (face or [])
        if people:
            out.append({"t_ms": float(t), "people": people})
    return out


def people_by_time(chunks: Sequence[dict[str, Any]], mapping: dict[tuple[int, int], int]) -> dict[float, dict[int, list[float]]]:
    """The chunks' samples with global person ids: time (ms) -> person -> box (+ face box)."""
    out: dict[float, dict[int, list[float]]] = {}
    for chunk in sorted(chunks, key=lambda c: c["index"]):
        for sample in chunk.get("samples", []):
            people = out.setdefault(sample["t_ms"], {})
            for local, values in sample["people"].items():
                if (chunk["index"], int(local)) in mapping:
                    people[mapping[(chunk["index"], int(local))]] = values
    return dict(sorted(out.items()))


@dataclasses.dataclass(frozen=True)
class PicturePlan:
    """Which frames to cut pictures from.

    Attributes:
        thumbnails: person -> time (ms) of the sample whose box is most like the person's mean box.
        raises: (segment, time in ms) per hand-raise segment, the sample nearest the segment's middle;
            at most `RAISES_PER_PERSON` per person (earliest first).
    """

    thumbnails: dict[int, float]
    raises: list[tuple[Segment, float]]


def plan_pictures(samples: dict[float, dict[int, list[float]]], tracks: Sequence[dict[str, Any]],
                  segments: Sequence[Segment]) -> PicturePlan:
    """Choose the frames for each person's thumbnail and hand-raise snapshots (see `PicturePlan`)."""
    thumbnails = {}
    for track in tracks:
        mean = np.array([track[k] for k in ("box_x0", "box_y0", "box_x1", "box_y1")])
        scored = [(iou(mean, np.array(people[track["person"]][:4])), -t, t)
                  for t, people in samples.items() if track["person"] in people]
        if scored:
            thumbnails[track["person"]] = max(scored)[2]
    raises, shown = [], {}
    for seg in sorted(segments, key=lambda s: (s.person, s.start_s)):
        if action_kind(seg.action) != "hand_raise" or shown.get(seg.person, 0) >= RAISES_PER_PERSON:
            continue
        middle = 500.0 * (seg.start_s + seg.end_s)
        inside = [t for t, people in samples.items() if seg.person in people and 1000 * seg.start_s <= t < 1000 * seg.end_s]
        if inside:
            raises.append((seg, min(inside, key=lambda t: (abs(t - middle), t))))
            shown[seg.person] = shown.get(seg.person, 0) + 1
    return PicturePlan(thumbnails, raises)


def read_frames(path: str, info: VideoInfo, times_ms: Sequence[float]) -> dict[float, np.ndarray]:
    """The RGB frames at exactly these (sampled) times of a local video; a time not found is left out."""
    frames = {}
    for t in sorted(set(times_ms)):
        span = (t - 0.5, t + 0.5)  # the sampled frame's own container time, give or take rounding
        found = next(iter_frames(path, None, VideoLimits(max_duration_s=math.inf), info=info, span_ms=span), None)
        if found is not None:
            frames[t] = found.rgb
    return frames


def _faces(people: dict[int, list[float]]) -> list[list[float]]:
    return [values[4:8] for values in people.values() if len(values) >= 8]


def _jpeg(rgb: np.ndarray) -> bytes:
    import cv2  # noqa: PLC0415

    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode a JPEG")
    return data.tobytes()


def _crop(rgb: np.ndarray, box: Sequence[float], pad_x: float, pad_y: float) -> tuple[np.ndarray, int, int]:
    """The box grown by `pad_x` / `pad_y` of its width / height on each side, clipped; with its origin."""
    height, width = rgb.shape[:2]
    w, h = box[2] - box[0], box[3] - box[1]
    x0, y0 = max(0, int(box[0] - pad_x * w)), max(0, int(box[1] - pad_y * h))
    x1, y1 = min(width, int(math.ceil(box[2] + pad_x * w))), min(height, int(math.ceil(box[3] + pad_y * h)))
    return rgb[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)], x0, y0


def thumbnail(rgb: np.ndarray, box: Sequence[float], people: dict[int, list[float]], blur_faces: bool) -> bytes:
    """A JPEG of one person cut from a frame (box plus a margin), `THUMB_HEIGHT` pixels high."""
    import cv2  # noqa: PLC0415

    frame = rgb.copy()
    if blur_faces:
        privacy.blur_regions(frame, _faces(people))
    crop, _, _ = _crop(frame, box, 0.08, 0.08)
    scale = THUMB_HEIGHT / crop.shape[0]
    return _jpeg(cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA))


def snapshot(rgb: np.ndarray, box: Sequence[float], people: dict[int, list[float]], blur_faces: bool) -> bytes:
    """A JPEG of the scene around one person (their neighbours' seats) with the person boxed."""
    import cv2  # noqa: PLC0415

    frame = rgb.copy()
    if blur_faces:
        privacy.blur_regions(frame, _faces(people))
    crop, x0, y0 = _crop(frame, box, 0.75, 0.4)
    crop = np.ascontiguousarray(crop)
    thick = max(2, crop.shape[1] // 150)
    cv2.rectangle(crop, (int(box[0]) - x0, int(box[1]) - y0), (int(box[2]) - x0, int(box[3]) - y0),
                  (255, 200, 0), thick)
    scale = min(1.0, SNAPSHOT_WIDTH / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    return _jpeg(cv2.resize(crop, size, interpolation=cv2.INTER_AREA))
