"""Open and decode clips with OpenCV: container timestamps, frame sampling and sanity limits.

Layouts: frames are RGB uint8 arrays (H, W, 3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from poseact.errors import ClipError


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


def iter_frames(
    path: str,
    target_fps: float | None = None,
    limits: VideoLimits = VideoLimits(),
    stats: dict[str, int] | None = None,
    info: VideoInfo | None = None,
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

    Yields:
        Kept frames in order.

    Raises:
        ClipError: Unreadable file, broken limits.
    """
    import cv2  # noqa: PLC0415

    info = info or probe(path, limits)
    step_ms = 1000.0 / info.fps if info.fps > 0 else 1000.0 / 30.0
    sample_ms = 1000.0 / target_fps if target_fps else 0.0
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
