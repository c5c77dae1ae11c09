"""Open and decode clips with OpenCV: container timestamps, frame sampling and sanity limits.

Layouts: frames are RGB uint8 arrays (H, W, 3).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterator

import numpy as np

from poseact.common.errors import ClipError

_LOG = logging.getLogger(__name__)
# Seek this far before a span's start: containers seek to the key frame before the target, and some
# land a little after it; decoding forward from earlier is always correct.
_SEEK_BACK_MS = 2000.0


@dataclasses.dataclass(frozen=True)
class VideoLimits:
    """Guards against absurd inputs, checked before and during decoding.

    Attributes:
        max_duration_s: Longest clip accepted (clips are short actions, not lectures).
        max_pixels: Largest frame (width * height) accepted; 4096 x 2160 by default.
        min_frames: Fewest decodable frames for a usable clip.
    """

    max_duration_s: float = 600.0
    max_pixels: int = 4096 * 2160
    min_frames: int = 2


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What the container says about a clip.

    Attributes:
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Nominal frame rate (0 when the container does not say).
        frame_count: Frame count from the header (may be off by one or more).
    """

    width: int
    height: int
    fps: float
    frame_count: int

    @property
    def duration_s(self) -> float:
        """Header duration, or 0 when the frame rate is unknown."""
        return self.frame_count / self.fps if self.fps > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class Frame:
    """One decoded, kept frame.

    Attributes:
        index: Index among all decoded frames of the clip.
        timestamp_ms: Presentation time from the container, strictly increasing.
        rgb: The image, (H, W, 3) uint8.
    """

    index: int
    timestamp_ms: float
    rgb: np.ndarray


def _open(path: str):
    import cv2  # noqa: PLC0415 (heavy import kept out of module import)

    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        capture.release()
        raise ClipError("decode", f"OpenCV cannot open {path!r} as a video (corrupt, empty or not a video)")
    return capture


def probe(path: str, limits: VideoLimits = VideoLimits()) -> VideoInfo:
    """Read the header of a local video and check it against `limits`.

    Raises:
        ClipError: The file is not a video or breaks a limit.
    """
    import cv2  # noqa: PLC0415

    capture = _open(path)
    try:
        info = VideoInfo(
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
            frame_count=int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
        )
    finally:
        capture.release()
    _check_info(info, limits)
    return info


def _check_info(info: VideoInfo, limits: VideoLimits) -> None:
    if info.width <= 0 or info.height <= 0:
        raise ClipError("decode", "the video reports no frame size (no video stream?)")
    if info.width * info.height > limits.max_pixels:
        raise ClipError(
            "decode", f"frame size {info.width}x{info.height} exceeds the limit of {limits.max_pixels} pixels"
        )
    if info.duration_s > limits.max_duration_s:
        raise ClipError(
            "decode", f"duration {info.duration_s:.0f} s exceeds the limit of {limits.max_duration_s:.0f} s"
        )


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A time slice of a long video, processed on its own.

    A chunk owns `[start_s, end_s)`: work that starts there (a classification window, say) belongs to it.
    It reads on to `read_end_s`, so that what starts near its end still sees enough frames, and so that
    two neighbouring chunks see the same frames in `[next.start_s, read_end_s)`, where their person
    tracks are matched.

    Attributes:
        index: Position in the video, from 0.
        start_s: Start of the owned span.
        end_s: End of the owned span.
        read_end_s: End of what is read (end_s plus the overlap, at most the video's end).
    """

    index: int
    start_s: float
    end_s: float
    read_end_s: float


def plan_chunks(duration_s: float, chunk_s: float, overlap_s: float, workers: int = 1) -> list[Chunk]:
    """Cut `[0, duration_s)` into chunks of `chunk_s` that each read `overlap_s` further.

    With `workers` > 1, the chunks are balanced instead: as many as `chunk_s` asks for, rounded up to a
    multiple of `workers`, all of one length, so every worker gets the same work and none idles through
    the last chunk (a 180 s video in 60 s chunks on 2 workers: 4 chunks of 45 s, not 60 + 60 + 60, where
    one worker ran two and the other one). Never so many that a chunk is shorter than twice the overlap
    (each chunk poses its overlap again): short videos get fewer chunks.

    Args:
        duration_s: Length of the video (from its header; the last chunk reads to the end anyway).
        chunk_s: Owned length of each chunk, > 0 (the longest a chunk may be when balancing).
        overlap_s: How far each chunk reads past its owned span, >= 0.
        workers: Worker processes the chunks will share.

    Returns:
        At least one chunk; the last one owns everything to the end of the video (its `end_s` is inf).
    """
    if chunk_s <= 0 or overlap_s < 0:
        raise ValueError(f"chunk_s must be > 0 and overlap_s >= 0, got {chunk_s} and {overlap_s}")
    duration_s = max(duration_s, 0.0)
    count = max(1, math.ceil(duration_s / chunk_s - 1e-9))
    if workers > 1 and duration_s > 0:
        count = math.ceil(count / workers) * workers
        while count > 1 and duration_s / count < 2 * overlap_s:
            count -= 1
        chunk_s = duration_s / count
    chunks = []
    for index in range(count):
        start = index * chunk_s
        last = index == count - 1
        chunks.append(Chunk(index, start, math.inf if last else start + chunk_s,
                            math.inf if last else start + chunk_s + overlap_s))
    return chunks


def iter_frames(
    path: str,
    target_fps: float | None = None,
    limits: VideoLimits = VideoLimits(),
    stats: dict[str, int] | None = None,
    info: VideoInfo | None = None,
    span_ms: tuple[float, float] | None = None,
) -> Iterator[Frame]:
    """Decode a local video, keeping frames at about `target_fps`.

    Timestamps come from the container (`CAP_PROP_POS_MSEC`), so variable frame rates and dropped
    frames keep their true times. Where a container repeats or rewinds a timestamp, the frame gets the
    previous time plus one nominal frame interval, keeping the sequence strictly increasing (MediaPipe's
    VIDEO mode requires that).

    Args:
        path: Local file.
        target_fps: Keep the first frame at or after every 1/target_fps seconds; None keeps all.
        limits: Size and duration guards.
        stats: If given, `stats["decoded"]` counts every decoded frame, kept or not.
        info: The clip's `probe` result when the caller already has it (saves opening it twice).
        span_ms: Only frames with `start <= timestamp < end`, sampled on a grid that starts at time 0, so
            two overlapping spans keep the same frames where they overlap. The reader seeks near
            `start` (to the key frame before it) instead of decoding from the beginning.

    Yields:
        Kept frames in order.

    Raises:
        ClipError: Unreadable file, broken limits.
    """
    import cv2  # noqa: PLC0415

    info = info or probe(path, limits)
    step_ms = 1000.0 / info.fps if info.fps > 0 else 1000.0 / 30.0
    sample_ms = 1000.0 / target_fps if target_fps else 0.0
    if span_ms is not None:
        yield from _iter_span(path, info, target_fps, limits, stats, span_ms)
        return
    capture = _open(path)
    try:
        index, last_ts, next_keep = -1, -np.inf, 0.0
        while capture.grab():
            index += 1
            if stats is not None:
                stats["decoded"] = index + 1
            ts = float(capture.get(cv2.CAP_PROP_POS_MSEC))
            if not np.isfinite(ts) or ts <= last_ts:
                ts = (last_ts + step_ms) if np.isfinite(last_ts) else 0.0
            last_ts = ts
            if ts > limits.max_duration_s * 1000.0:
                raise ClipError("decode", f"clip runs past the limit of {limits.max_duration_s:.0f} s")
            if ts + 1e-6 < next_keep:
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                continue
            next_keep = max(next_keep + sample_ms, ts + 0.5 * sample_ms) if sample_ms else 0.0
            yield Frame(index, ts, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def _iter_span(
    path: str,
    info: VideoInfo,
    target_fps: float | None,
    limits: VideoLimits,
    stats: dict[str, int] | None,
    span_ms: tuple[float, float],
) -> Iterator[Frame]:
    """`iter_frames` over `[start, end)` on a sampling grid anchored at time 0 (see there)."""
    import cv2  # noqa: PLC0415

    start, end = span_ms
    step_ms = 1000.0 / info.fps if info.fps > 0 else 1000.0 / 30.0
    sample_ms = 1000.0 / target_fps if target_fps else 0.0
    capture = _open(path)
    try:
        if start > 0:
            capture.set(cv2.CAP_PROP_POS_MSEC, max(0.0, start - _SEEK_BACK_MS))
            landed = float(capture.get(cv2.CAP_PROP_POS_MSEC))
            if not np.isfinite(landed) or landed > start:
                # The container could not seek to or before the start: decode from the beginning instead.
                _LOG.warning("seek in %s landed at %.0f ms, after %.0f ms: decoding from the start", path, landed, start)
                capture.release()
                capture = _open(path)
        decoded, last_ts, next_slot = 0, -np.inf, math.ceil(start / sample_ms - 1e-9) if sample_ms else 0
        while capture.grab():
            decoded += 1
            if stats is not None:
                stats["decoded"] = decoded
            ts = float(capture.get(cv2.CAP_PROP_POS_MSEC))
            if not np.isfinite(ts) or ts <= last_ts:
                ts = (last_ts + step_ms) if np.isfinite(last_ts) else 0.0
            last_ts = ts
            if ts >= end:
                break
            if ts > limits.max_duration_s * 1000.0:
                raise ClipError("decode", f"video runs past the limit of {limits.max_duration_s:.0f} s")
            if ts < start or (sample_ms and ts + 1e-6 < next_slot * sample_ms):
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                continue
            if sample_ms:
                # The next grid slot strictly after this frame: one kept frame per slot, on the same grid
                # whatever the span's start.
                next_slot = math.floor(ts / sample_ms + 1e-6) + 1
            yield Frame(decoded - 1, ts, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
