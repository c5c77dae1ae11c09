"""What every demo module shares: the real photos the demo people are made of, the frame rate, the video writer.

One module below the others, so that the clips, the lecture, the puppets and the crowds import it and none of them
imports another in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

PEOPLE: tuple[str, ...] = ("astronaut", "hopper")
FPS = 15.0
_FOURCC = "mp4v"


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


__all__ = ["FPS", "PEOPLE", "person_photos", "write_video"]
