"""The one normalisation of landmark sequences into model input. Training and inference both call it.

Rule (version `NORMALIZATION_VERSION`, recorded in every example and model card):
1. Aspect: x is multiplied by width / height so both axes are in image heights (no squashing).
2. Missing frames: frames where the subject was not detected get x, y linearly interpolated in time
   from the nearest detected frames (held constant before the first and after the last one) and
   visibility 0, so the model can tell them apart.
3. Translation: every frame is centred on its own shoulder midpoint (landmarks 11 and 12); they are
   visible in seated, desk-level views where hips often are not.
4. Scale: divided by the clip's median shoulder width over detected frames, robust to single bad frames.
5. Subset: the paper's landmarks 1-24, channels x, y, visibility.
6. Time: longer sequences are resampled uniformly (nearest frame) to `max_frames`; shorter ones are
   padded with zeros at the end. `frame_mask` is 1 for real frames, 0 for padding.
"""

from __future__ import annotations

import numpy as np

from poseact.pose.landmarks import MODEL_LANDMARKS, PoseLandmark

NORMALIZATION_VERSION = "shoulder-centre-width/1"
_MIN_SCALE = 1e-4


def fill_missing(values: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """Linearly interpolate undetected frames over time.

    Args:
        values: (T, ...) array.
        detected: (T,) bool; at least one True.

    Returns:
        A copy where undetected frames are interpolated (held at the edges).
    """
    T = values.shape[0]
    flat = values.reshape(T, -1).astype(np.float64)
    known = np.flatnonzero(detected)
    out = np.empty_like(flat)
    for column in range(flat.shape[1]):
        out[:, column] = np.interp(np.arange(T), known, flat[known, column])
    return out.reshape(values.shape).astype(values.dtype)


def resample_indices(num_frames: int, max_frames: int) -> np.ndarray:
    """Frame indices that map `num_frames` onto at most `max_frames` (uniform, nearest)."""
    if num_frames <= max_frames:
        return np.arange(num_frames)
    return np.round(np.linspace(0, num_frames - 1, max_frames)).astype(np.int64)


def normalize(
    landmarks: np.ndarray, detected: np.ndarray, *, aspect: float, max_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Turn raw image landmarks into the model's input.

    Args:
        landmarks: (T, 33, C) with C >= 4 as x, y, z, visibility[, presence], x and y in [0, 1].
        detected: (T,) truthy where the subject was found.
        aspect: Frame width / height.
        max_frames: Frames of the output.

    Returns:
        `pose` (max_frames, 24, 3) float32 as x, y, visibility and `frame_mask` (max_frames,) int64.

    Raises:
        ValueError: Bad shapes, no detected frame, non-finite values or a degenerate (zero) scale.
    """
    if landmarks.ndim != 3 or landmarks.shape[1] != 33 or landmarks.shape[2] < 4:
        raise ValueError(f"landmarks must be (T, 33, >=4), got {landmarks.shape}")
    T = landmarks.shape[0]
    detected = np.asarray(detected).astype(bool)
    if detected.shape != (T,):
        raise ValueError(f"detected must be ({T},), got {detected.shape}")
    if not detected.any():
        raise ValueError("no person detected in any frame")
    if not np.isfinite(landmarks[detected]).all():
        raise ValueError("landmarks contain NaN or infinite values")
    xy = landmarks[:, :, :2].astype(np.float64) * np.array([aspect, 1.0])
    xy = fill_missing(xy, detected)
    visibility = np.where(detected[:, None], landmarks[:, :, 3], 0.0)
    left, right = xy[:, PoseLandmark.LEFT_SHOULDER], xy[:, PoseLandmark.RIGHT_SHOULDER]
    scale = float(np.median(np.linalg.norm(left - right, axis=-1)[detected]))
    if not scale > _MIN_SCALE:
        raise ValueError("shoulder width is zero: cannot normalise the scale")
    centred = (xy - (0.5 * (left + right))[:, None, :]) / scale
    subset = list(MODEL_LANDMARKS)
    features = np.concatenate([centred[:, subset], visibility[:, subset, None]], axis=-1)
    keep = resample_indices(T, max_frames)
    pose = np.zeros((max_frames, len(subset), 3), np.float32)
    pose[: len(keep)] = features[keep]
    mask = np.zeros((max_frames,), np.int64)
    mask[: len(keep)] = 1
    return pose, mask
