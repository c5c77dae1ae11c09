"""One clip in, one example row out: read, decode, pose, normalise. Plain Python; Beam wraps it."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator
from typing import Any

from poseact.common import storage
from poseact.common.errors import ClipError
from poseact.data import schema
from poseact.data.manifest import ClipSpec
from poseact.data.normalize import NORMALIZATION_VERSION, normalize
from poseact.pose import video
from poseact.pose.landmarker import ClipPose, PoseLandmarkerModel


@dataclasses.dataclass(frozen=True)
class ExtractConfig:
    """How clips become examples.

    Attributes:
        fps: Target sampling rate of kept frames (None keeps every frame).
        limits: Video guards.
        max_frames: Model input length (fixed by the schema).
    """

    fps: float | None = 15.0
    limits: video.VideoLimits = video.VideoLimits()
    max_frames: int = 48


@dataclasses.dataclass
class ClipStats:
    """Counts and timings of one clip, summed into `summary.json`."""

    label: str
    split: str
    ok: bool
    frames_decoded: int = 0
    frames_kept: int = 0
    frames_detected: int = 0
    read_s: float = 0.0
    decode_s: float = 0.0
    pose_s: float = 0.0


def clip_id(uri: str) -> str:
    """Stable id of a clip: a digest of its URI."""
    return hashlib.sha256(uri.encode()).hexdigest()[:16]


def _timed(frames: Iterator[video.Frame], stats: ClipStats) -> Iterator[video.Frame]:
    """Attribute time spent inside the decoder to `decode_s` (the rest of the loop is pose time)."""
    while True:
        start = time.perf_counter()
        try:
            frame = next(frames)
        except StopIteration:
            stats.decode_s += time.perf_counter() - start
            return
        stats.decode_s += time.perf_counter() - start
        yield frame


def extract_clip(
    spec: ClipSpec, label_id: int, model: PoseLandmarkerModel, config: ExtractConfig
) -> tuple[dict[str, Any], ClipStats]:
    """Turn one clip into a schema row.

    Args:
        spec: The clip, with its split decided.
        label_id: Index of `spec.label` in the class list.
        model: The worker's landmarker factory.
        config: Sampling and limits.

    Returns:
        The row (keys of `poseact.data.schema`) and its stats.

    Raises:
        ClipError: With the failing stage and a reason; `ClipError.stats` carries the partial stats.
    """
    stats = ClipStats(spec.label, spec.split, ok=False)
    try:
        return _extract(spec, label_id, model, config, stats), stats
    except ClipError as err:
        err.stats = stats
        raise


def _extract(spec, label_id, model, config, stats) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        with storage.local_copy(spec.uri) as path:
            stats.read_s = time.perf_counter() - start
            info = video.probe(path, config.limits)
            counter: dict[str, int] = {}
            start = time.perf_counter()
            frames = _timed(video.iter_frames(path, config.fps, config.limits, counter, info), stats)
            try:
                pose = model.track_clip(frames)
            except RuntimeError as err:  # MediaPipe reports graph failures as RuntimeError
                raise ClipError("pose", f"MediaPipe failed: {err}") from err
            stats.pose_s = time.perf_counter() - start - stats.decode_s
    except FileNotFoundError as err:
        raise ClipError("read", str(err)) from err
    except (OSError, PermissionError) as err:
        raise ClipError("read", f"cannot read {spec.uri}: {err}") from err
    stats.frames_decoded = counter.get("decoded", 0)
    stats.frames_kept = pose.num_frames
    stats.frames_detected = int(pose.detected.sum())
    if pose.num_frames < config.limits.min_frames:
        raise ClipError(
            "decode",
            f"only {pose.num_frames} decodable frame(s) after sampling; at least {config.limits.min_frames} needed",
        )
    if not pose.detected.any():
        raise ClipError("pose", f"nobody detected in any of {pose.num_frames} frames")
    try:
        features, mask = normalize(
            pose.landmarks, pose.detected, aspect=pose.width / pose.height, max_frames=config.max_frames
        )
    except ValueError as err:
        raise ClipError("normalize", str(err)) from err
    stats.ok = True
    return make_row(spec, label_id, pose, features, mask, source_fps=info.fps, fps=float(config.fps or info.fps))


def make_row(spec: ClipSpec, label_id: int, pose: ClipPose, features, mask, *, source_fps: float, fps: float):
    """The schema row of one clip (shared by extraction and import)."""
    return {
        schema.CLIP_ID: clip_id(spec.uri),
        schema.URI: spec.uri,
        schema.LABEL: spec.label,
        schema.LABEL_ID: label_id,
        schema.GROUP: spec.group,
        schema.SPLIT: spec.split,
        schema.WIDTH: pose.width,
        schema.HEIGHT: pose.height,
        schema.SOURCE_FPS: source_fps,
        schema.FPS: fps,
        schema.NUM_FRAMES: pose.num_frames,
        schema.NORMALIZATION_VERSION: NORMALIZATION_VERSION,
        schema.TIMESTAMPS_MS: pose.timestamps_ms,
        schema.DETECTED: pose.detected,
        schema.LANDMARKS: pose.landmarks,
        schema.WORLD_LANDMARKS: pose.world,
        schema.POSE: features,
        schema.FRAME_MASK: mask,
    }


def import_clip(
    spec: ClipSpec, label_id: int, config: ExtractConfig, *, source_fps: float, width: int, height: int
) -> tuple[dict[str, Any], ClipStats]:
    """Turn a landmark file (see `poseact.data.landmark_files`) into a schema row, like `extract_clip`.

    Frames are sampled from `source_fps` to `config.fps`; world landmarks are unknown and stored as zeros.

    Raises:
        ClipError: Stage `read` (missing file), `load` (bad array) or `normalize`.
    """
    import numpy as np  # noqa: PLC0415

    from poseact.data import landmark_files  # noqa: PLC0415

    stats = ClipStats(spec.label, spec.split, ok=False)
    try:
        try:
            with storage.local_copy(spec.uri) as path:
                array = landmark_files.load(path)
        except FileNotFoundError as err:
            raise ClipError("read", str(err)) from err
        except ValueError as err:
            raise ClipError("load", str(err)) from err
        step = source_fps / config.fps if config.fps and config.fps < source_fps else 1.0
        keep = np.unique(np.floor(np.arange(0, array.shape[0], step) + 1e-9).astype(np.int64))
        array = array[keep]
        detected = array.any(axis=(1, 2)).astype(np.int64)
        stats.frames_decoded, stats.frames_kept, stats.frames_detected = len(keep), len(keep), int(detected.sum())
        pose = ClipPose(
            timestamps_ms=keep * 1000.0 / source_fps, landmarks=array,
            world=np.zeros((len(keep), 33, 3), np.float32), detected=detected,
            people=detected.copy(), width=width, height=height,
        )
        if not detected.any():
            raise ClipError("load", "no frame has landmarks (all zeros)")
        try:
            features, mask = normalize(array, detected, aspect=width / height, max_frames=config.max_frames)
        except ValueError as err:
            raise ClipError("normalize", str(err)) from err
    except ClipError as err:
        err.stats = stats
        raise
    stats.ok = True
    fps = float(min(config.fps or source_fps, source_fps))
    return make_row(spec, label_id, pose, features, mask, source_fps=source_fps, fps=fps), stats
