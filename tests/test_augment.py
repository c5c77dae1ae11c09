"""Augmentation: inverses, invariants and the (T, 24, 3) / mask layout every transform must keep."""

import numpy as np
import pytest

from poseact.learn.augment import (
    MODEL_MIRROR,
    augment,
    augment_batch,
    drop_frames,
    mirror,
    rotate_scale_translate,
    tf_augment_fn,
    time_warp,
    warp_positions,
)
from poseact.learn.hparams import HParams
from poseact.pose.landmarks import MIRROR, MODEL_LANDMARKS, PoseLandmark

T = 48


def _clip(n=30, seed=0, mask_dtype=np.int64):
    """Random clip with n real frames; x of frame t encodes t (so tests can tell frames apart)."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((T, 24, 3), np.float32)
    pose[:n, :, 0] = np.arange(n)[:, None] + rng.uniform(-0.1, 0.1, size=(n, 24))
    pose[:n, :, 1] = rng.normal(size=(n, 24))
    pose[:n, :, 2] = rng.uniform(0.0, 1.0, size=(n, 24))
    mask = np.zeros(T, mask_dtype)
    mask[:n] = 1
    return pose, mask


def _assert_layout(pose, mask, like_pose, like_mask):
    """Shapes and dtypes kept, mask is 1...1 0...0, padding frames exactly zero."""
    assert pose.shape == like_pose.shape and pose.dtype == like_pose.dtype
    assert mask.shape == like_mask.shape and mask.dtype == like_mask.dtype
    n = int(mask.sum())
    assert mask[:n].tolist() == [1] * n and not mask[n:].any()
    assert not pose[n:].any()


# --- mirror -------------------------------------------------------------------------------


def test_model_mirror_is_the_landmark_mirror_on_1_to_24():
    assert sorted(MODEL_MIRROR) == list(range(24))
    assert all(MODEL_MIRROR[MODEL_MIRROR[i]] == i for i in range(24))
    for i, landmark in enumerate(MODEL_LANDMARKS):
        assert MODEL_LANDMARKS[MODEL_MIRROR[i]] == MIRROR[landmark]
    left = MODEL_LANDMARKS.index(PoseLandmark.LEFT_WRIST)
    right = MODEL_LANDMARKS.index(PoseLandmark.RIGHT_WRIST)
    assert MODEL_MIRROR[left] == right


def test_mirror_twice_is_identity_and_keeps_visibility():
    pose, mask = _clip()
    once, mask_once = mirror(pose, mask)
    twice, _ = mirror(once, mask_once)
    np.testing.assert_array_equal(twice, pose)
    np.testing.assert_array_equal(mask_once, mask)
    # The left wrist takes the right wrist's place, x negated, y and visibility as they were.
    left = MODEL_LANDMARKS.index(PoseLandmark.LEFT_WRIST)
    right = MODEL_LANDMARKS.index(PoseLandmark.RIGHT_WRIST)
    np.testing.assert_array_equal(once[:, left, 0], -pose[:, right, 0])
    np.testing.assert_array_equal(once[:, left, 1:], pose[:, right, 1:])
    _assert_layout(once, mask_once, pose, mask)


def test_mirror_of_a_symmetric_pose_is_itself():
    pose, mask = _clip()
    pose[..., 0] -= pose[..., 0].mean()
    symmetric = pose.copy()
    symmetric[:, list(MODEL_MIRROR), 0] = -pose[..., 0]
    symmetric[:, list(MODEL_MIRROR), 1:] = pose[..., 1:]
    symmetric = (symmetric + pose) / 2  # the average of a pose and its mirror is symmetric
    symmetric[30:] = 0
    np.testing.assert_allclose(mirror(symmetric, mask)[0], symmetric, atol=1e-6)


# --- rotation, scale, translation ---------------------------------------------------------


def test_zero_magnitudes_are_identity():
    pose, mask = _clip()
    rng = np.random.default_rng(0)
    out, out_mask = rotate_scale_translate(pose, mask, rng, rotation_deg=0, scale=0, translate=0)
    np.testing.assert_allclose(out, pose, atol=1e-6)
    np.testing.assert_array_equal(out_mask, mask)


@pytest.mark.parametrize("seed", range(5))
def test_similarity_transform_within_bounds(seed):
    pose, mask = _clip(seed=seed)
    rng = np.random.default_rng(seed)
    out, out_mask = rotate_scale_translate(pose, mask, rng, rotation_deg=15, scale=0.2, translate=0.1)
    _assert_layout(out, out_mask, pose, mask)
    np.testing.assert_array_equal(out[..., 2], pose[..., 2])  # visibility untouched
    # Undo it: fit x' = A x + b by least squares over all real points; A must be a scaled rotation.
    src = pose[:30, :, :2].reshape(-1, 2).astype(np.float64)
    dst = out[:30, :, :2].reshape(-1, 2).astype(np.float64)
    design = np.hstack([src, np.ones((len(src), 1))])
    solution, *_ = np.linalg.lstsq(design, dst, rcond=None)
    matrix, shift = solution[:2], solution[2]
    np.testing.assert_allclose(design @ solution, dst, atol=1e-4)
    factor = np.sqrt(abs(np.linalg.det(matrix)))
    assert 0.8 - 1e-6 <= factor <= 1.2 + 1e-6
    np.testing.assert_allclose(matrix / factor @ (matrix / factor).T, np.eye(2), atol=1e-4)  # orthogonal
    assert np.linalg.det(matrix) > 0  # no reflection
    angle = np.degrees(np.arctan2(matrix[0, 1], matrix[0, 0]))
    assert abs(angle) <= 15 + 1e-4
    assert np.all(np.abs(shift) <= 0.1 + 1e-4)


# --- time warp ----------------------------------------------------------------------------


def test_warp_positions_monotonic_and_pinned():
    rng = np.random.default_rng(0)
    for num_frames, num_out in [(30, 30), (30, 25), (10, 40), (2, 2)]:
        positions = warp_positions(num_frames, num_out, rng, strength=0.5)
        assert positions.shape == (num_out,)
        assert np.all(np.diff(positions) > 0)
        assert positions[0] == 0 and positions[-1] == pytest.approx(num_frames - 1)


@pytest.mark.parametrize("seed", range(5))
def test_time_warp_resamples_real_frames_monotonically(seed):
    pose, mask = _clip(n=30, seed=seed)
    out, out_mask = time_warp(pose, mask, np.random.default_rng(seed), strength=0.3)
    _assert_layout(out, out_mask, pose, mask)
    n = int(out_mask.sum())
    assert round(30 * 0.7) <= n <= round(30 * 1.3)
    # x encodes time: starts at frame 0, ends at frame 29, never goes back.
    time_of_frame = out[:n, :, 0].mean(axis=1)
    assert np.all(np.diff(time_of_frame) > 0)
    assert time_of_frame[0] == pytest.approx(pose[0, :, 0].mean(), abs=1e-5)
    assert time_of_frame[-1] == pytest.approx(pose[29, :, 0].mean(), abs=1e-5)
    assert out[:n, :, 2].min() >= 0 and out[:n, :, 2].max() <= 1  # visibility interpolated, in range


def test_time_warp_keeps_at_most_max_frames_and_zero_strength_is_identity():
    pose, mask = _clip(n=T)
    out, out_mask = time_warp(pose, mask, np.random.default_rng(1), strength=0.5)
    assert out_mask.sum() <= T
    _assert_layout(out, out_mask, pose, mask)
    same, same_mask = time_warp(pose, mask, np.random.default_rng(1), strength=0.0)
    np.testing.assert_array_equal(same, pose)
    np.testing.assert_array_equal(same_mask, mask)


# --- frame drop ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_drop_frames_keeps_an_ordered_subsequence(seed):
    pose, mask = _clip(n=30, seed=seed)
    out, out_mask = drop_frames(pose, mask, np.random.default_rng(seed), fraction=0.3)
    _assert_layout(out, out_mask, pose, mask)
    n = int(out_mask.sum())
    assert 30 - 9 <= n <= 30
    kept = [int(np.argmin(np.abs(pose[:30, :, 0].mean(axis=1) - frame[:, 0].mean()))) for frame in out[:n]]
    assert kept == sorted(set(kept))
    np.testing.assert_array_equal(out[:n], pose[kept])


def test_drop_frames_keeps_two_frames_and_zero_fraction_is_identity():
    pose, mask = _clip(n=3)
    out, out_mask = drop_frames(pose, mask, np.random.default_rng(0), fraction=0.9)
    assert out_mask.sum() >= 2
    same, _ = drop_frames(*_clip(n=30), np.random.default_rng(0), fraction=0.0)
    np.testing.assert_array_equal(same, _clip(n=30)[0])


# --- composition --------------------------------------------------------------------------


def test_augment_keeps_layout_and_inputs_and_is_seeded():
    hp = HParams(augment=True, mirror_prob=0.5, frame_drop=0.3, time_warp=0.3)
    rng = np.random.default_rng(0)
    for n in (1, 2, 10, T):
        pose, mask = _clip(n=n)
        before = pose.copy(), mask.copy()
        for _ in range(10):
            out, out_mask = augment(pose, mask, rng, hp)
            _assert_layout(out, out_mask, pose, mask)
            assert out_mask.sum() >= min(n, 2)
        np.testing.assert_array_equal(pose, before[0])
        np.testing.assert_array_equal(mask, before[1])
    pose, mask = _clip()
    a = augment(pose, mask, np.random.default_rng(7), hp)
    b = augment(pose, mask, np.random.default_rng(7), hp)
    np.testing.assert_array_equal(a[0], b[0])


def test_augment_with_zero_magnitudes_is_identity():
    hp = HParams(rotation_deg=0, scale=0, translate=0, time_warp=0, frame_drop=0, mirror_prob=0)
    pose, mask = _clip()
    out, out_mask = augment(pose, mask, np.random.default_rng(0), hp)
    np.testing.assert_allclose(out, pose, atol=1e-6)
    np.testing.assert_array_equal(out_mask, mask)


def test_augment_batch_and_tf_data_map():
    import tensorflow as tf

    hp = HParams(augment=True)
    clips = [_clip(n=n, seed=n) for n in (5, 20, T)]
    pose = np.stack([p for p, _ in clips])
    mask = np.stack([m for _, m in clips])
    out, out_mask = augment_batch(pose, mask, np.random.default_rng(0), hp)
    assert out.shape == pose.shape and out_mask.shape == mask.shape
    features = {"pose": pose, "frame_mask": mask, "clip_id": [b"a", b"b", b"c"]}
    dataset = tf.data.Dataset.from_tensor_slices((features, [0, 1, 2]))
    features, label = next(iter(dataset.batch(3).map(tf_augment_fn(hp, seed=0))))
    assert features["pose"].shape == (3, T, 24, 3) and features["pose"].dtype == tf.float32
    assert features["frame_mask"].dtype == tf.int64
    assert features["clip_id"].numpy().tolist() == [b"a", b"b", b"c"] and label.numpy().tolist() == [0, 1, 2]
    # Same seed, same draws as the NumPy path.
    np.testing.assert_array_equal(features["pose"].numpy(), out)
    np.testing.assert_array_equal(features["frame_mask"].numpy(), out_mask)
