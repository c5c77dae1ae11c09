"""Landmark files from other tools: NumPy and CSV layouts, and bad arrays."""

import numpy as np
import pytest

from poseact.data import landmark_files
from poseact.pose.landmarks import PoseLandmark


def test_channels_3_4_5_filled_to_5():
    three = landmark_files.to_full(np.full((4, 33, 3), 0.5, np.float32))
    assert three.shape == (4, 33, 5) and np.all(three[..., 3:] == 1.0)
    four = landmark_files.to_full(np.full((2, 33, 4), 0.25, np.float32))
    assert np.all(four[..., 3] == 0.25) and np.all(four[..., 4] == 1.0)
    five = landmark_files.to_full(np.full((2, 33, 5), 0.5, np.float32))
    assert np.all(five == 0.5)


def test_zero_frames_stay_undetected():
    array = np.full((3, 33, 4), 0.5, np.float32)
    array[1] = 0
    full = landmark_files.to_full(array)
    assert not full[1].any() and full[0].any()


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((5, 17, 3)), r"shaped \(T, 33, 3\|4\|5\), got \(5, 17, 3\)"),
        (np.zeros((5, 33, 2)), "got"),
        (np.zeros((0, 33, 4)), "no frames"),
        (np.where(np.arange(5 * 33 * 4).reshape(5, 33, 4) == 200, np.nan, 0.5), "NaN or infinite values .first in frame 1"),
    ],
)
def test_bad_arrays(array, message):
    with pytest.raises(ValueError, match=message):
        landmark_files.to_full(np.asarray(array, np.float32))


def test_csv_index_and_name_columns():
    header_idx = ["frame"] + [f"{c}{i}" for i in range(33) for c in ("x", "y", "z", "visibility")]
    row = ["0"] + [str(v) for i in range(33) for v in (i / 100, 0.5, 0.0, 0.9)]
    full = landmark_files.parse_csv(",".join(header_idx) + "\n" + ",".join(row) + "\n")
    assert full.shape == (1, 33, 5) and full[0, 7, 0] == pytest.approx(0.07) and full[0, 7, 3] == pytest.approx(0.9)
    names = [lm.name.lower() for lm in PoseLandmark]
    header_named = [f"{n}_{c}" for n in names for c in ("x", "y")]
    row_named = [str(v) for i in range(33) for v in (0.1 * (i % 10), 0.2)]
    named = landmark_files.parse_csv(",".join(header_named) + "\n" + ",".join(row_named) + "\n")
    assert named[0, PoseLandmark.LEFT_SHOULDER, 0] == pytest.approx(0.1) and named[0, 0, 3] == 1.0


def test_csv_errors():
    with pytest.raises(ValueError, match="lacks x/y columns for landmarks"):
        landmark_files.parse_csv("frame,x0,y0\n0,0.1,0.2\n")
    header = ",".join(f"{c}{i}" for i in range(33) for c in ("x", "y"))
    with pytest.raises(ValueError, match="CSV row 2"):
        landmark_files.parse_csv(header + "\n" + ",".join(["oops"] * 66) + "\n")


def test_load_refuses_pickles(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a plain NumPy array"):
        landmark_files.load(str(path))
    with pytest.raises(ValueError, match="unsupported landmark file"):
        landmark_files.load(str(tmp_path / "x.json"))
