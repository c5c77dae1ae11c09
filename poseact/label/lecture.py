"""Labelling long videos, one time chunk at a time: pose everyone, cut windows, stitch ids across chunks.

Memory stays bounded by the chunk length: a chunk keeps its own frames' landmarks only; what crosses
chunk boundaries is small (boxes in the overlap, per-window class scores, per-track counts).

Chunk k owns `[start, end)` and reads to `end + overlap`, where the overlap is at least one classification
window long. So every window that starts in the owned span is whole inside the chunk, and chunks k and
k+1 both see the frames of `[end_k, read_end_k)`: person tracks are matched there (`stitch`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from poseact.data.normalize import normalize
from poseact.label.hand_motion import frame_motion, grey
from poseact.people.shadows import join_shadows
from poseact.people.tracker import Observation, PeopleConfig, PeoplePoser, similarity
from poseact.pose.landmarks import NUM_LANDMARKS
from poseact.pose.video import Chunk, VideoInfo, VideoLimits, iter_frames


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    """Sliding classification windows.

    Attributes:
        fps: Frames per second the model was trained at (frames are sampled at this rate).
        max_frames: Frames per window (the model's input length).
        stride_s: Seconds between window starts.
        min_detected: Least fraction of a window's frames in which the person must be found.
    """

    fps: float
    max_frames: int
    stride_s: float = 1.0
    min_detected: float = 0.5

    @property
    def window_s(self) -> float:
        """Length of a window in seconds."""
        return self.max_frames / self.fps

    @property
    def overlap_s(self) -> float:
        """How far a chunk must read past its owned span: one window plus a second for matching."""
        return self.window_s + 1.0


@dataclasses.dataclass
class ChunkPose:
    """Everyone's landmarks over the sampled frames of one chunk.

    Attributes:
        chunk: The chunk.
        times_ms: (F,) frame times.
        tracks: Local track id -> (landmarks (F, 33, 5) normalised to the frame, detected (F,) bool,
            boxes (F, 4) pixels).
        width: Frame width.
        height: Frame height.
        seconds: Time spent per stage: decode, detect, pose.
        people_per_frame: (F,) people found in each frame.
        tracking: Counts of the tracker's repairs: `duplicates_ended` (tracks ended because another held
            the same body), `jumps_refused` (poses refused because a landmarker jumped to someone else),
            `seats_left` (a class student's poses refused, their follower restarted, because their face left
            their finder box), `camera_moves` (times a class's crops and boxes moved with the picture),
            `upside_down_refused` (poses refused because they stood on their head: a pose on
            an object), and
            the counts of `--hold-still` (`poses_held`, `tiles_searched`, `tiles_reused`); the classroom finder's
            boxes posed and held (`finder_boxes_posed`, `finder_boxes_held`), `class_chunks` (1 where
            `finder="auto"` found a class), and `shadows_joined` (in a class, tracks joined into another
            on the same head: `poseact.people.shadows`).
        hand_motion: Local track id -> (F,) motion of the person's hands low in front since the previous
            sampled frame (`poseact.label.hand_motion.frame_motion`), NaN where not measured. Measured on every
            sampled frame, posed or not (with the person's last posed landmarks).
        refusals: Poses the phantom rules refused: (rule, face x, face y in pixels), one per refusal
            (`poseact.people.tracker.PeoplePoser.refusals`).
    """

    chunk: Chunk
    times_ms: np.ndarray
    tracks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    width: int
    height: int
    seconds: dict[str, float]
    people_per_frame: np.ndarray
    tracking: dict[str, int] = dataclasses.field(default_factory=dict)
    hand_motion: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)
    refusals: list[tuple[str, float, float]] = dataclasses.field(default_factory=list)


def pose_chunk(
    path: str, info: VideoInfo, chunk: Chunk, fps: float, model_buffer: bytes, people: PeopleConfig,
    limits: VideoLimits, finder_buffer: bytes | None = None,
) -> ChunkPose:
    """Decode one chunk at `fps` and pose everyone in it.

    `finder_buffer` is the classroom finder's model (`PeoplePoser`'s; default: read from the cache when needed).

    Raises:
        poseact.common.errors.ClipError: The video cannot be decoded.
    """
    times: list[float] = []
    seen: list[list[Observation]] = []
    decode_s = hands_s = 0.0
    motion: dict[int, dict[int, float]] = {}  # track -> frame index -> hand motion
    last_points: dict[int, np.ndarray] = {}  # track -> landmarks of its last posed frame
    present: list[int] = []  # the tracks found on the last posed frame
    previous = None
    frames = iter_frames(path, fps, limits, info=info, span_ms=(1000 * chunk.start_s, 1000 * chunk.read_end_s))
    with PeoplePoser(model_buffer, people, fps, finder_buffer) as poser:
        while True:
            start = time.perf_counter()
            frame = next(frames, None)
            decode_s += time.perf_counter() - start
            if frame is None:
                break
            times.append(frame.timestamp_ms)
            observations = poser.process(frame.rgb, frame.timestamp_ms)
            seen.append(observations)
            start = time.perf_counter()
            if observations is not None:
                present = [obs.track for obs in observations]
                last_points.update((obs.track, obs.landmarks) for obs in observations)
            current = grey(frame.rgb)
            if previous is not None:
                for track in present:
                    motion.setdefault(track, {})[len(times) - 1] = frame_motion(previous, current, last_points[track])
            previous = current
            hands_s += time.perf_counter() - start
        # The hands' pixels are per-person work beside the pose model: counted with it.
        seconds = {"decode": decode_s, "detect": poser.detection_seconds, "pose": poser.pose_seconds + hands_s}
        tracking = {"duplicates_ended": poser.duplicates_ended, "jumps_refused": poser.jumps_refused,
                    "seats_left": poser.seats_left, "camera_moves": poser.camera_moves,
                    "upside_down_refused": poser.upside_down_refused,
                    "poses_held": poser.poses_held, "tiles_searched": poser.tiles_searched,
                    "tiles_reused": poser.tiles_reused, "finder_boxes_posed": poser.boxes_posed,
                    "finder_boxes_held": poser.boxes_held, "class_chunks": int(poser.class_chunk)}
        refusals = list(poser.refusals)
    count = len(times)
    posed = np.array([s is not None for s in seen], bool)
    tracks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for index, observations in enumerate(seen):
        for obs in observations or ():
            if obs.track not in tracks:
                tracks[obs.track] = (np.zeros((count, NUM_LANDMARKS, 5), np.float32), np.zeros(count, bool),
                                     np.zeros((count, 4), np.float32))
            landmarks, detected, boxes = tracks[obs.track]
            landmarks[index], detected[index], boxes[index] = obs.landmarks, True, obs.box
    hands = {}
    for track in sorted(tracks):
        hands[track] = np.full(count, np.nan, np.float32)
        for index, value in motion.get(track, {}).items():
            hands[track][index] = value
    tracking["shadows_joined"] = 0
    if poser.class_chunk:  # two tracks on one student's head are one student (`poseact.people.shadows`)
        tracks, hands, joined = join_shadows(tracks, hands, info.width, info.height,
                                             max(1, round(poser.config.reuse_s * fps)))
        tracking["shadows_joined"] = len(joined)
    for landmarks, detected, boxes in tracks.values():
        fill_skipped(posed, landmarks, detected, boxes)
    people_per_frame = np.sum([d for _, d, _ in tracks.values()], axis=0) if tracks else np.zeros(count)
    return ChunkPose(chunk, np.asarray(times, np.float64), dict(sorted(tracks.items())), info.width, info.height,
                     seconds, np.asarray(people_per_frame, np.int64), tracking, hands, refusals)


def fill_skipped(posed: np.ndarray, landmarks: np.ndarray, detected: np.ndarray, boxes: np.ndarray) -> None:
    """Fill frames that were not posed (`PeopleConfig.pose_every`), in place: linearly between the posed
    frames before and after, where the person was found in both; frames after the last posed one stay
    empty (nothing is known about them). Visibility and presence are interpolated like the coordinates.

    Args:
        posed: (F,) True where the landmarkers ran.
        landmarks: (F, 33, 5) one person's landmarks.
        detected: (F,) where the person was found.
        boxes: (F, 4) their boxes.
    """
    indices = np.flatnonzero(posed)
    for before, after in zip(indices[:-1], indices[1:]):
        if after - before < 2 or not (detected[before] and detected[after]):
            continue
        for i in range(before + 1, after):
            w = (i - before) / (after - before)
            landmarks[i] = (1 - w) * landmarks[before] + w * landmarks[after]
            boxes[i] = (1 - w) * boxes[before] + w * boxes[after]
            detected[i] = True


@dataclasses.dataclass(frozen=True)
class WindowInput:
    """One model input: a person's normalised window.

    Attributes:
        track: Local track id.
        start_s: Time of the first frame.
        end_s: Time of the last frame plus one frame interval.
        pose: (max_frames, 24, 3) float32.
        frame_mask: (max_frames,) int64.
        hand_motion: (max_frames,) float32, the person's hand motion per frame (`ChunkPose.hand_motion`),
            NaN where not measured and in padding frames; None when the chunk has none.
        crowd: Whether the window's chunk was found and followed as a class (`class_chunks`): the rules read a
            hand raise more strictly there (`poseact.label.rules.raise_levels`).
    """

    track: int
    start_s: float
    end_s: float
    pose: np.ndarray
    frame_mask: np.ndarray
    hand_motion: np.ndarray | None = None
    crowd: bool = False


def window_starts(times_ms: np.ndarray, chunk: Chunk, config: WindowConfig) -> list[int]:
    """Frame indices where windows start: the first frame at or after each multiple of the stride (a grid
    anchored at time 0, so neighbouring chunks agree) inside the chunk's owned span, with a whole window of
    frames after it (at the video's end, half a window is enough)."""
    stride_ms = 1000.0 * config.stride_s
    last_chunk = math.isinf(chunk.read_end_s)
    least = config.max_frames if not last_chunk else max(2, config.max_frames // 2)
    starts, previous_slot = [], None
    for i, t in enumerate(times_ms):
        slot = math.floor(t / stride_ms + 1e-6)
        if slot == previous_slot:
            continue
        previous_slot = slot
        if not (1000 * chunk.start_s <= t < 1000 * chunk.end_s):
            continue
        if len(times_ms) - i < least:
            break
        starts.append(i)
    return starts


def windows(pose: ChunkPose, config: WindowConfig) -> Iterator[WindowInput]:
    """Every person's windows that start in the chunk's owned span, normalised like the training data.

    Windows where the person is found in fewer than `min_detected` of the frames are skipped (they are not
    in view then; the segments show a gap).
    """
    aspect = pose.width / pose.height
    step_s = 1.0 / config.fps
    crowd = bool(pose.tracking.get("class_chunks", 0))
    for start in window_starts(pose.times_ms, pose.chunk, config):
        stop = min(start + config.max_frames, len(pose.times_ms))
        for track, (landmarks, detected, _) in pose.tracks.items():
            found = detected[start:stop]
            if found.sum() < config.min_detected * (stop - start):
                continue
            try:
                x, mask = normalize(landmarks[start:stop], found, aspect=aspect, max_frames=config.max_frames)
            except ValueError:
                continue  # degenerate pose (zero shoulder width): nothing to classify
            hands = None
            if track in pose.hand_motion:
                hands = np.full(config.max_frames, np.nan, np.float32)
                hands[:stop - start] = np.where(found, pose.hand_motion[track][start:stop], np.nan)
            yield WindowInput(track, round(pose.times_ms[start] / 1000.0, 3),
                              round(pose.times_ms[stop - 1] / 1000.0 + step_s, 3), x, mask, hands, crowd)


def model_input(window: WindowInput) -> np.ndarray:
    """A window as the label path's classifiers take it: (max_frames, 24, 6) x, y, visibility, then the frame
    mask, the hand motion per frame (NaN where not measured) and the crowd flag (1 in a class), each repeated on
    every landmark. A trained model reads the first four channels, the rules all six."""
    motion = window.hand_motion if window.hand_motion is not None else np.full(len(window.frame_mask), np.nan)
    crowd = np.full(len(window.frame_mask), float(window.crowd))
    extra = [np.broadcast_to(np.asarray(v, np.float32)[:, None, None], window.pose.shape[:2] + (1,))
             for v in (window.frame_mask, motion, crowd)]
    return np.concatenate([window.pose, *extra], axis=-1)


def boundary_boxes(pose: ChunkPose, config: WindowConfig) -> dict[str, dict[int, dict[int, list[float]]]]:
    """Boxes per local track and frame time (ms, rounded) where this chunk overlaps its neighbours:
    `head` (the first `overlap_s`, seen by the previous chunk too) and `tail` (after the owned span)."""
    head_end = 1000.0 * (pose.chunk.start_s + config.overlap_s)
    out: dict[str, dict[int, dict[int, list[float]]]] = {"head": {}, "tail": {}}
    for track, (_, detected, boxes) in pose.tracks.items():
        for i, t in enumerate(pose.times_ms):
            if not detected[i]:
                continue
            for part, inside in (("head", pose.chunk.index > 0 and t < head_end), ("tail", t >= 1000 * pose.chunk.end_s)):
                if inside:
                    out[part].setdefault(track, {})[int(round(t))] = [round(float(v), 2) for v in boxes[i]]
    return out


def track_stats(pose: ChunkPose) -> dict[int, dict[str, Any]]:
    """Per local track, over the owned span only (so chunks never count a frame twice): first and last
    time seen, frames seen, and the sum of its boxes (for the mean box)."""
    owned = (pose.times_ms >= 1000 * pose.chunk.start_s) & (pose.times_ms < 1000 * pose.chunk.end_s)
    out = {}
    for track, (_, detected, boxes) in pose.tracks.items():
        seen = detected & owned
        if not seen.any():
            continue
        times = pose.times_ms[seen]
        out[track] = {"first_s": round(float(times[0]) / 1000, 3), "last_s": round(float(times[-1]) / 1000, 3),
                      "frames": int(seen.sum()), "box_sum": [float(v) for v in boxes[seen].sum(axis=0)]}
    return out


def stitch(chunks: Sequence[dict[str, Any]], min_similarity: float = 0.4, min_common: int = 3) -> dict[tuple[int, int], int]:
    """Global person ids for every (chunk index, local track) of one video.

    Args:
        chunks: Per chunk: `index`, `tracks` (local ids that appear anywhere in the chunk), and
            `boundary` (`boundary_boxes`).
        min_similarity: Least mean box `similarity` over the shared frames for two tracks to be the same person.
        min_common: Least number of shared frames in which both tracks were found.

    Returns:
        (chunk index, local id) -> person id; ids count up from 0 in order of first appearance (chunk
        order, then local id order).
    """
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    ordered = sorted(chunks, key=lambda c: c["index"])
    mapping: dict[tuple[int, int], int] = {}
    next_id = 0
    previous = None
    for chunk in ordered:
        inherited: dict[int, int] = {}
        if previous is not None and previous["index"] == chunk["index"] - 1:
            tail, head = previous["boundary"]["tail"], chunk["boundary"]["head"]
            left, right = sorted(tail), sorted(head)
            cost = np.ones((len(left), len(right)))
            for a, la in enumerate(left):
                for b, rb in enumerate(right):
                    common = sorted(set(tail[la]) & set(head[rb]))
                    if len(common) >= min_common:
                        cost[a, b] = 1.0 - float(np.mean([similarity(np.array(tail[la][t]), np.array(head[rb][t]))
                                                          for t in common]))
            if left and right:
                for a, b in zip(*linear_sum_assignment(cost)):
                    if 1.0 - cost[a, b] >= min_similarity:
                        inherited[right[b]] = mapping[(previous["index"], left[a])]
        for local in sorted(chunk["tracks"]):
            if local in inherited:
                mapping[(chunk["index"], local)] = inherited[local]
            else:
                mapping[(chunk["index"], local)] = next_id
                next_id += 1
        previous = chunk
    return mapping


def merge_track_stats(chunks: Sequence[dict[str, Any]], mapping: dict[tuple[int, int], int],
                      min_frames: int = 1) -> list[dict[str, Any]]:
    """One row per person: first and last seen, frames seen, mean box (pixels), from per-chunk `track_stats`.

    People seen in fewer than `min_frames` frames in all are left out (a detector glitch, not a student).
    """
    rows: dict[int, dict[str, Any]] = {}
    for chunk in sorted(chunks, key=lambda c: c["index"]):
        for local, stats in sorted(chunk["stats"].items(), key=lambda kv: int(kv[0])):
            person = mapping[(chunk["index"], int(local))]
            row = rows.setdefault(person, {"person": person, "first_s": stats["first_s"], "last_s": stats["last_s"],
                                           "frames": 0, "box_sum": np.zeros(4)})
            row["first_s"] = min(row["first_s"], stats["first_s"])
            row["last_s"] = max(row["last_s"], stats["last_s"])
            row["frames"] += stats["frames"]
            row["box_sum"] = row["box_sum"] + np.asarray(stats["box_sum"])
    out = []
    for person in sorted(rows):
        row = rows[person]
        if row["frames"] < min_frames:
            continue
        mean = row.pop("box_sum") / max(row["frames"], 1)
        out.append({**row, **{k: round(float(v), 1) for k, v in zip(("box_x0", "box_y0", "box_x1", "box_y1"), mean)}})
    return out
