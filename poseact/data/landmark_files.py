"""Landmark sequences made elsewhere (NumPy or CSV files of MediaPipe's 33 landmarks) as schema rows.

NumPy: one `.npy` per clip shaped (T, 33, C): C = 3 (x, y, z), 4 (+ visibility) or 5 (+ presence).
Missing channels default to 1 (visibility and presence of a landmark someone chose to store). A frame
of all zeros means "no person in this frame" (the convention of most exporters).

CSV, one row per frame: a column per landmark and channel, named `x0`, `x_0`, `0_x`, `landmark_0_x` or
`nose_x` (MediaPipe's names, lower case), for x, y, z, optional `visibility` (or `v`) and `presence`.
Other columns (frame number, time) are ignored.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from poseact.pose.landmarks import NUM_LANDMARKS, PoseLandmark

LANDMARK_EXTENSIONS = (".npy", ".csv")
_CHANNELS = {"x": 0, "y": 1, "z": 2, "visibility": 3, "v": 3, "presence": 4}
_NAMES = {lm.name.lower(): int(lm) for lm in PoseLandmark}
_PATTERNS = [
    re.compile(r"^(?:landmark_?)?(?P<idx>\d+)_(?P<ch>[a-z]+)$"),
    re.compile(r"^(?P<ch>[a-z]+)_?(?P<idx>\d+)$"),
    re.compile(r"^(?P<name>[a-z_]+)_(?P<ch>[a-z]+)$"),
]


def _column_slot(column: str) -> tuple[int, int] | None:
    key = column.strip().lower()
    for pattern in _PATTERNS:
        match = pattern.match(key)
        if not match or match.group("ch") not in _CHANNELS:
            continue
        groups = match.groupdict()
        index = int(groups["idx"]) if groups.get("idx") is not None else _NAMES.get(groups.get("name", ""))
        if index is not None and 0 <= index < NUM_LANDMARKS:
            return index, _CHANNELS[match.group("ch")]
    return None


def parse_csv(text: str) -> np.ndarray:
    """(T, 33, 5) landmarks from one-row-per-frame CSV text.

    Raises:
        ValueError: No landmark columns, landmarks missing x or y, or non-numeric cells.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValueError("empty CSV")
    slots = {i: slot for i, column in enumerate(header) if (slot := _column_slot(column))}
    have = {slot for slot in slots.values()}
    missing = [i for i in range(NUM_LANDMARKS) if (i, 0) not in have or (i, 1) not in have]
    if missing:
        raise ValueError(f"CSV lacks x/y columns for landmarks {missing[:8]}{'...' if len(missing) > 8 else ''}")
    frames = []
    for number, row in enumerate(reader, start=2):
        frame = np.ones((NUM_LANDMARKS, 5), np.float32)
        frame[:, 2] = 0.0
        try:
            for column, (index, channel) in slots.items():
                frame[index, channel] = float(row[column])
        except (ValueError, IndexError) as err:
            raise ValueError(f"CSV row {number}: {err}") from err
        frames.append(frame)
    return np.asarray(frames, np.float32).reshape(len(frames), NUM_LANDMARKS, 5)


def to_full(array: np.ndarray) -> np.ndarray:
    """Check a (T, 33, 3|4|5) array and return it as (T, 33, 5) float32.

    Raises:
        ValueError: Wrong shape, no frames, or NaN/infinite values.
    """
    if array.ndim != 3 or array.shape[1] != NUM_LANDMARKS or array.shape[2] not in (3, 4, 5):
        raise ValueError(f"expected landmarks shaped (T, 33, 3|4|5), got {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("no frames")
    bad = ~np.isfinite(array)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise ValueError(f"NaN or infinite values (first in frame {frame}); mark missing frames with zeros")
    full = np.ones((array.shape[0], NUM_LANDMARKS, 5), np.float32)
    full[:, :, 2] = 0.0
    full[:, :, : array.shape[2]] = array
    if array.shape[2] == 4:
        full[:, :, 4] = 1.0
    empty = ~array.any(axis=(1, 2))
    full[empty] = 0.0
    return full


def load(path: str) -> np.ndarray:
    """(T, 33, 5) landmarks from a local `.npy` or `.csv` file.

    Raises:
        ValueError: Unknown extension or bad content (see `to_full`, `parse_csv`).
    """
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)  # never unpickle inputs
        except ValueError as err:
            raise ValueError(f"not a plain NumPy array file: {err}") from err
        return to_full(np.asarray(array, dtype=np.float32))
    if path.lower().endswith(".csv"):
        with open(path, encoding="utf-8-sig") as handle:
            return to_full(parse_csv(handle.read()))
    raise ValueError(f"unsupported landmark file {path!r}; use {', '.join(LANDMARK_EXTENSIONS)}")
