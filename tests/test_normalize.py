"""Units of the one normalisation function."""

import numpy as np
import pytest

from poseact.data.normalize import NORMALIZATION_VERSION, fill_missing, normalize, resample_indices
from poseact.pose.landmarks import MODEL_LANDMARKS, PoseLandmark


def _clip(T=10, seed=0):
    rng = np.random.default_rng(seed)
    lm = np.zeros((T, 33, 5), np.float32)
    lm[:, :, :2] = rng.uniform(0.3, 0.7, size=(T, 33, 2))
    lm[:, PoseLandmark.LEFT_SHOULDER, :2] = [0.6, 0.5]
    lm[:, PoseLandmark.RIGHT_SHOULDER, :2] = [0.4, 0.5]
    lm[:, :, 3] = 0.9
    lm[:, :, 4] = 0.95
    return lm, np.ones(T, bool)


def test_output_layout_and_centre():
    lm, det = _clip()
    pose, mask = normalize(lm, det, aspect=1.0, max_frames=16)
    assert pose.shape == (16, 24, 3) and pose.dtype == np.float32
    assert mask.tolist() == [1] * 10 + [0] * 6
    assert np.all(pose[10:] == 0)
    # landmark 11 is model index 10; shoulders sit at (+-0.5, 0) after centring and scaling
    assert np.allclose(pose[:10, MODEL_LANDMARKS.index(11), :2], [0.5, 0.0], atol=1e-6)
    assert np.allclose(pose[:10, MODEL_LANDMARKS.index(12), :2], [-0.5, 0.0], atol=1e-6)
    assert np.allclose(pose[:10, :, 2], 0.9)


def test_translation_and_scale_invariant():
    lm, det = _clip()
    moved = lm.copy()
    moved[:, :, :2] = (lm[:, :, :2] - 0.5) * 0.5 + [0.2, 0.3]
    a, _ = normalize(lm, det, aspect=1.0, max_frames=12)
    b, _ = normalize(moved, det, aspect=1.0, max_frames=12)
    assert np.allclose(a, b, atol=1e-5)


def test_aspect_ratio_is_undone():
    lm, det = _clip()
    wide = lm.copy()
    wide[:, :, 0] = 0.5 + (lm[:, :, 0] - 0.5) / 2.0  # same scene in a frame twice as wide
    a, _ = normalize(lm, det, aspect=1.0, max_frames=12)
    b, _ = normalize(wide, det, aspect=2.0, max_frames=12)
    assert np.allclose(a, b, atol=1e-5)


def test_missing_frames_interpolated_with_zero_visibility():
    lm, det = _clip(T=5)
    lm[2] = 0
    det[2] = False
    pose, _ = normalize(lm, det, aspect=1.0, max_frames=5)
    a, _ = normalize(lm[[1]], det[[1]], aspect=1.0, max_frames=1)
    c, _ = normalize(lm[[3]], det[[3]], aspect=1.0, max_frames=1)
    assert np.allclose(pose[2, :, :2], 0.5 * (a[0, :, :2] + c[0, :, :2]), atol=1e-5)
    assert np.all(pose[2, :, 2] == 0)


def test_fill_missing_holds_edges():
    values = np.array([[0.0], [1.0], [3.0], [0.0]])
    out = fill_missing(values, np.array([False, True, True, False]))
    assert out[:, 0].tolist() == [1.0, 1.0, 3.0, 3.0]


def test_long_sequences_resampled_uniformly():
    idx = resample_indices(100, 10)
    assert len(idx) == 10 and idx[0] == 0 and idx[-1] == 99 and np.all(np.diff(idx) > 0)
    lm, det = _clip(T=100)
    pose, mask = normalize(lm, det, aspect=1.0, max_frames=10)
    assert mask.sum() == 10


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lm, det: (lm[:, :20], det), r"must be \(T, 33"),
        (lambda lm, det: (lm, np.zeros_like(det)), "no person detected"),
        (lambda lm, det: (np.where(lm == lm, np.nan, lm), det), "NaN"),
        (lambda lm, det: (np.zeros_like(lm), det), "shoulder width is zero"),
        (lambda lm, det: (lm, det[:3]), "detected must be"),
    ],
)
def test_bad_input_raises_clear_errors(change, message):
    lm, det = _clip()
    lm, det = change(lm, det)
    with pytest.raises(ValueError, match=message):
        normalize(lm, det, aspect=1.0, max_frames=8)


def test_version_is_recorded():
    assert NORMALIZATION_VERSION == "shoulder-centre-width/1"
