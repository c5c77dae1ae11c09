"""Label-preserving augmentation of normalised pose clips, in NumPy.

Every function takes one clip, `pose` (T, 24, 3) as x, y, visibility (`poseact.data.normalize`) and `mask`
(T,) with 1 for the real frames, which come first, and 0 for the zero padding after them, plus an
`np.random.Generator`; it returns new arrays (inputs are never modified) that keep that layout:
real frames first, padding frames exactly zero, mask 1...1 0...0 in the input mask's dtype.

Why NumPy per clip: the transforms change the number of real frames (time warp, frame drop), which is
awkward in graph code, and clips are tiny (48 x 24 x 3), so Python cost is negligible next to a
training step. Use `augment_batch` per batch in a NumPy loop, or `tf_augment_fn` inside a tf.data
pipeline (it wraps `augment_batch` in `tf.numpy_function`).

All magnitudes come from `HParams`; a magnitude of 0 makes its transform the identity.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from poseact.learn.hparams import HParams
from poseact.pose.landmarks import MIRROR, MODEL_LANDMARKS

# MIRROR maps the 33 MediaPipe landmarks; restricted to the model's 1..24 it maps model index i
# (landmark i + 1) to the model index of its mirror image. Landmarks 1-24 mirror into 1-24.
MODEL_MIRROR: tuple[int, ...] = tuple(MODEL_LANDMARKS.index(MIRROR[lm]) for lm in MODEL_LANDMARKS)
_KNOTS = 4  # Control points of the local time warp: smooth enough to keep motion shapes.


def _num_real(mask: np.ndarray) -> int:
    """Number of real frames (they come first)."""
    return int(np.count_nonzero(mask))


def _repack(
    frames: np.ndarray, like_pose: np.ndarray, like_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Put `frames` (n, V, C) first in zero arrays shaped like the inputs, and the matching mask."""
    pose = np.zeros_like(like_pose)
    mask = np.zeros_like(like_mask)
    n = min(len(frames), len(pose))
    pose[:n] = frames[:n]
    mask[:n] = 1
    return pose, mask


def mirror(pose: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left/right mirror: negate x and swap each left landmark with its right twin.

    Visibility travels with its landmark and is not otherwise changed; padding stays zero because
    -0 == 0. Mirroring twice is the identity.

    Args:
        pose: (T, 24, 3).
        mask: (T,).

    Returns:
        Mirrored pose and an unchanged copy of the mask.
    """
    out = pose[:, list(MODEL_MIRROR)].copy()
    out[..., 0] = -out[..., 0]
    return out, mask.copy()


def rotate_scale_translate(
    pose: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    *,
    rotation_deg: float,
    scale: float,
    translate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One random similarity transform of x, y for the whole clip (a camera a little off).

    Rotation is about the origin, which normalisation put at the shoulder midpoint, so the body turns
    about itself. Visibility is untouched and padding frames stay zero.

    Args:
        pose: (T, 24, 3).
        mask: (T,).
        rng: Random source.
        rotation_deg: Angle drawn from [-rotation_deg, rotation_deg] degrees.
        scale: Factor drawn from [1 - scale, 1 + scale].
        translate: x and y shifts each drawn from [-translate, translate].

    Returns:
        Transformed pose and a copy of the mask.
    """
    angle = np.deg2rad(rng.uniform(-rotation_deg, rotation_deg))
    factor = rng.uniform(1.0 - scale, 1.0 + scale)
    shift = rng.uniform(-translate, translate, size=2)
    cos, sin = np.cos(angle), np.sin(angle)
    # Points are row vectors, so they multiply the transpose of the usual rotation matrix.
    matrix = factor * np.array([[cos, sin], [-sin, cos]])
    out = pose.copy()
    real = mask.astype(bool)
    out[real, :, :2] = (pose[real, :, :2] @ matrix + shift).astype(pose.dtype)
    return out, mask.copy()


def warp_positions(num_frames: int, num_out: int, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Monotonic, smooth source positions in [0, num_frames - 1] for `num_out` output frames.

    The local playback speed is a piecewise-linear curve through `_KNOTS` random speeds in
    [1 - strength, 1 + strength]; its normalised running sum maps output frames onto input time, so
    the first and last real frames stay the first and last.

    Returns:
        (num_out,) float64, non-decreasing, from 0 to num_frames - 1 (all zeros if either is 1).
    """
    if num_out == 1 or num_frames == 1:
        return np.zeros(num_out)
    speeds = np.interp(
        np.linspace(0.0, 1.0, num_out - 1),
        np.linspace(0.0, 1.0, _KNOTS),
        rng.uniform(1.0 - strength, 1.0 + strength, size=_KNOTS),
    )
    time = np.concatenate([[0.0], np.cumsum(speeds)])
    return time / time[-1] * (num_frames - 1)


def time_warp(
    pose: np.ndarray, mask: np.ndarray, rng: np.random.Generator, *, strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resample the real frames along a smooth monotonic time warp (a student a little faster/slower).

    The clip's length changes by a factor in [1 - strength, 1 + strength] (at most to T frames), and
    its local speed varies (`warp_positions`). Frames are linearly interpolated, visibility included.

    Args:
        pose: (T, 24, 3).
        mask: (T,), real frames first.
        rng: Random source.
        strength: Maximum relative change of length and of local speed, in [0, 1).

    Returns:
        Warped pose and its mask: real frames first, padding zero.
    """
    n = _num_real(mask)
    if n < 2 or strength == 0:
        return pose.copy(), mask.copy()
    num_out = int(np.clip(round(n * rng.uniform(1.0 - strength, 1.0 + strength)), 2, len(pose)))
    positions = warp_positions(n, num_out, rng, strength)
    lower = np.floor(positions).astype(np.int64)
    upper = np.minimum(lower + 1, n - 1)
    weight = (positions - lower)[:, None, None]
    frames = (1.0 - weight) * pose[lower] + weight * pose[upper]
    return _repack(frames.astype(pose.dtype), pose, mask)


def drop_frames(
    pose: np.ndarray, mask: np.ndarray, rng: np.random.Generator, *, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Drop a few random real frames (detector hiccups, frame-rate jitter) and close the gaps.

    Between 0 and floor(fraction * n) of the n real frames are dropped, keeping at least two; the rest
    keep their order and are followed by zero padding.

    Args:
        pose: (T, 24, 3).
        mask: (T,), real frames first.
        rng: Random source.
        fraction: Maximum fraction of real frames dropped, in [0, 1).

    Returns:
        Pose and mask with fewer real frames.
    """
    n = _num_real(mask)
    most = min(int(fraction * n), n - 2)
    if most <= 0:
        return pose.copy(), mask.copy()
    dropped = rng.choice(n, size=rng.integers(0, most + 1), replace=False)
    keep = np.setdiff1d(np.arange(n), dropped)  # sorted, so order is kept
    return _repack(pose[keep], pose, mask)


def augment(
    pose: np.ndarray, mask: np.ndarray, rng: np.random.Generator, hp: HParams
) -> tuple[np.ndarray, np.ndarray]:
    """Compose the transforms with `hp`'s magnitudes.

    Order: time warp, frame drop, mirror (with probability `hp.mirror_prob`), then rotation, scale and
    translation. Applies regardless of `hp.augment`: whether to augment is the caller's decision.

    Args:
        pose: (T, 24, 3).
        mask: (T,), real frames first.
        rng: Random source.
        hp: Magnitudes (time_warp, frame_drop, mirror_prob, rotation_deg, scale, translate).

    Returns:
        Augmented pose (same dtype) and mask (same dtype).
    """
    pose, mask = time_warp(pose, mask, rng, strength=hp.time_warp)
    pose, mask = drop_frames(pose, mask, rng, fraction=hp.frame_drop)
    if rng.random() < hp.mirror_prob:
        pose, mask = mirror(pose, mask)
    return rotate_scale_translate(
        pose, mask, rng, rotation_deg=hp.rotation_deg, scale=hp.scale, translate=hp.translate
    )


def augment_batch(
    pose: np.ndarray, mask: np.ndarray, rng: np.random.Generator, hp: HParams
) -> tuple[np.ndarray, np.ndarray]:
    """`augment` every clip of a batch, (B, T, 24, 3) and (B, T), independently."""
    pairs = [augment(p, m, rng, hp) for p, m in zip(pose, mask)]
    if not pairs:
        return pose.copy(), mask.copy()
    return np.stack([p for p, _ in pairs]), np.stack([m for _, m in pairs])


def tf_augment_fn(hp: HParams, seed: int | None = None) -> Callable:
    """A tf.data map function that augments batched `({"pose", "frame_mask", ...}, label)` elements.

    Use after `.batch()`: `dataset.map(tf_augment_fn(hp))`. Other feature keys and the label pass
    through. The random state is one Python `np.random.Generator` seeded with `seed` (default
    `hp.seed`); it advances across epochs, so each epoch sees new augmentations, and runs are
    reproducible as long as the map runs sequentially (no `num_parallel_calls`, which would interleave
    draws between threads). `tf.numpy_function` holds the GIL and cannot be serialised, so keep it in
    the input pipeline, never in an exported model.
    """
    import tensorflow as tf  # noqa: PLC0415  (kept out of module import: the NumPy API needs no TF)

    from poseact.data.schema import FRAME_MASK, POSE  # noqa: PLC0415

    rng = np.random.default_rng(hp.seed if seed is None else seed)

    def _numpy(pose: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return augment_batch(pose, mask, rng, hp)

    def _map(features: dict, label):
        pose, mask = features[POSE], features[FRAME_MASK]
        new_pose, new_mask = tf.numpy_function(_numpy, [pose, mask], [pose.dtype, mask.dtype], stateful=True)
        # numpy_function forgets static shapes; Keras needs them back.
        new_pose.set_shape(pose.shape)
        new_mask.set_shape(mask.shape)
        return {**features, POSE: new_pose, FRAME_MASK: new_mask}, label

    return _map
