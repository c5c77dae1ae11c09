"""Faces out of pictures: where a person's face is, from the pose's face landmarks, and blurring it.

Students are often minors; with `poseact label --blur-faces` every face the pose model found is blurred
in thumbnails, snapshots and `overlay.mp4`. Faces are located from the landmarks, not by a face
detector, so a face is blurred only where its person was found in that frame.
"""

from __future__ import annotations

import numpy as np

from poseact.pose.landmarks import PoseLandmark

# Nose, eyes (inner, centre, outer), ears and mouth corners: MediaPipe's 11 face landmarks.
FACE_LANDMARKS = tuple(range(int(PoseLandmark.MOUTH_RIGHT) + 1))
_SHOULDERS = (int(PoseLandmark.LEFT_SHOULDER), int(PoseLandmark.RIGHT_SHOULDER))
# The landmarks span eyes to mouth and ear to ear; the head (hair, forehead, chin) is about twice that.
_HEAD_SCALE = 2.0
BLOCKS = 6  # a blurred face is at most this many coarse blocks across: no identity is left in it


def face_box(landmarks: np.ndarray, width: int, height: int) -> list[float] | None:
    """A square around the head, in pixels, from one person's landmarks in one frame.

    The side is twice the larger of the face landmarks' span and 0.3 of the shoulder width (so a face
    seen from the side, whose landmarks bunch up, still gets a head-sized box).

    Args:
        landmarks: (33, C) with x, y normalised to the frame in columns 0 and 1 (C >= 2).
        width: Frame width in pixels.
        height: Frame height in pixels.

    Returns:
        [x0, y0, x1, y1] (may reach outside the frame), or None when the face points are not finite.
    """
    points = np.asarray(landmarks, np.float64)[list(FACE_LANDMARKS), :2] * [width, height]
    if not np.isfinite(points).all():
        return None
    shoulders = np.asarray(landmarks, np.float64)[list(_SHOULDERS), :2] * [width, height]
    shoulder_width = float(np.linalg.norm(shoulders[0] - shoulders[1])) if np.isfinite(shoulders).all() else 0.0
    span = float(max(np.ptp(points[:, 0]), np.ptp(points[:, 1]), 0.3 * shoulder_width, 4.0))
    cx, cy = points.mean(axis=0)
    half = 0.5 * _HEAD_SCALE * span
    return [round(float(cx - half), 1), round(float(cy - 1.25 * half), 1), round(float(cx + half), 1),
            round(float(cy + 0.85 * half), 1)]


def blur_regions(rgb: np.ndarray, boxes: list[list[float]]) -> np.ndarray:
    """Pixelate, then smooth, each box of an (H, W, 3) image in place; returns the image.

    Pixelation to at most `BLOCKS` blocks across removes the detail a face is recognised by; the blur
    after it hides the block edges.
    """
    import cv2  # noqa: PLC0415

    height, width = rgb.shape[:2]
    for box in boxes:
        x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
        x1, y1 = min(width, int(np.ceil(box[2]))), min(height, int(np.ceil(box[3])))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = rgb[y0:y1, x0:x1]
        small = cv2.resize(region, (min(BLOCKS, x1 - x0), min(BLOCKS, y1 - y0)), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        kernel = max(3, (min(x1 - x0, y1 - y0) // 4) | 1)
        rgb[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (kernel, kernel), 0)
    return rgb
