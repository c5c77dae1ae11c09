"""Window scores to labelled segments of a lecture, and per-person summaries of them.

A classifier scores sliding windows over one tracked person's pose sequence; each `Window` carries one
probability per class. Arrays here are laid out (N, C): N windows in time order, C classes.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Sequence

import numpy as np

UNKNOWN = "unknown"
_DECIMALS = 3


@dataclasses.dataclass(frozen=True)
class Window:
    """Classifier scores for one time window of one person.

    Attributes:
        start_s: Window start, seconds from the start of the video.
        end_s: Window end in seconds, at least `start_s`.
        probs: One probability per class, in the model's class order; sums to about 1.
    """

    start_s: float
    end_s: float
    probs: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of time in which one person did one action.

    Attributes:
        person: Tracked person id.
        start_s: Segment start in seconds.
        end_s: Segment end in seconds.
        action: A class name, or the unknown label when no class was confident enough.
        confidence: Mean smoothed probability of `action` over the segment's windows (for the unknown
            label: mean of each window's highest smoothed probability).
    """

    person: int
    start_s: float
    end_s: float
    action: str
    confidence: float

    @property
    def duration_s(self) -> float:
        """Length of the segment in seconds."""
        return self.end_s - self.start_s


@dataclasses.dataclass
class _Piece:
    """A segment under construction: windows `lo:hi` of one tracked run, linked to its neighbours."""

    start: float
    end: float
    action: str
    lo: int
    hi: int
    prev: _Piece | None = None
    next: _Piece | None = None
    alive: bool = True


def smooth_probs(probs: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over time (axis 0) of an (N, C) array.

    Row i averages rows `i - (window - 1) // 2` to `i + window // 2`; near the edges the window shrinks
    to the rows that exist, so every row stays an average of real scores.

    Args:
        probs: (N, C) scores, N windows in time order.
        window: Number of rows averaged; 1 or less means no smoothing.

    Returns:
        A new float64 (N, C) array (a copy when `window <= 1`).

    Raises:
        ValueError: `probs` is not two-dimensional.
    """
    values = np.array(probs, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"probs must be an (N, C) array of N windows by C classes, got shape {values.shape}")
    if window <= 1:
        return values
    before, after = (window - 1) // 2, window // 2
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = values[max(0, i - before):i + after + 1].mean(axis=0)
    return out


def _check_classes(classes: Sequence[str], unknown: str) -> list[str]:
    names = list(classes)
    if not names:
        raise ValueError("classes is empty: pass the model's class names in output order")
    if len(set(names)) != len(names):
        raise ValueError(f"class names must be unique, got {names}")
    if unknown in names:
        raise ValueError(f"the unknown label {unknown!r} is also a class name; pass a different `unknown`")
    return names


def _as_arrays(windows: Sequence[Window], n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts (N,), ends (N,) and probs (N, C) of windows already in time order."""
    for w in windows:
        if len(w.probs) != n_classes:
            raise ValueError(f"window at {w.start_s} s has {len(w.probs)} probabilities for {n_classes} classes; "
                             "the classes must be the model's, in its output order")
    starts = np.array([w.start_s for w in windows], dtype=np.float64)
    ends = np.array([w.end_s for w in windows], dtype=np.float64)
    probs = np.array([w.probs for w in windows], dtype=np.float64)
    if not (np.isfinite(starts).all() and np.isfinite(ends).all() and np.isfinite(probs).all()):
        raise ValueError("window times and probabilities must be finite numbers")
    if (ends < starts).any():
        raise ValueError("a window ends before it starts: end_s must be >= start_s")
    return starts, ends, probs


def _tracked_runs(starts: np.ndarray, ends: np.ndarray) -> list[slice]:
    """Split time-ordered windows where the person was not tracked.

    A gap is the distance between consecutive window centres; it splits when larger than
    max(window length, 2 * stride), the medians over this person's windows: the windows no longer touch
    and more than one stride of windows is missing.
    """
    centres = (starts + ends) / 2
    steps = np.diff(starts)
    stride = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    limit = max(float(np.median(ends - starts)), 2 * stride)
    bounds = [0, *(np.flatnonzero(np.diff(centres) > limit) + 1).tolist(), len(starts)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _label_pieces(starts: np.ndarray, ends: np.ndarray, labels: list[str]) -> list[_Piece]:
    """Cut one run at the midpoints between window centres and merge equal neighbouring labels."""
    centres = (starts + ends) / 2
    cuts = np.concatenate([[starts[0]], (centres[:-1] + centres[1:]) / 2, [ends.max()]])
    cuts = np.maximum.accumulate(cuts)  # windows of unequal length can put centres out of order
    pieces: list[_Piece] = []
    for i, label in enumerate(labels):
        if pieces and pieces[-1].action == label:
            pieces[-1].end, pieces[-1].hi = float(cuts[i + 1]), i + 1
        else:
            pieces.append(_Piece(float(cuts[i]), float(cuts[i + 1]), label, i, i + 1))
    for left, right in zip(pieces[:-1], pieces[1:]):
        left.next, right.prev = right, left
    return pieces


class _Confidence:
    """Mean smoothed probability of an action over windows lo:hi, in O(1) through prefix sums."""

    def __init__(self, smoothed: np.ndarray, names: list[str]) -> None:
        columns = np.concatenate([smoothed, smoothed.max(axis=1, keepdims=True)], axis=1)
        self._sums = np.concatenate([np.zeros((1, columns.shape[1])), np.cumsum(columns, axis=0)])
        self._column = {name: i for i, name in enumerate(names)}

    def __call__(self, piece: _Piece) -> float:
        column = self._column.get(piece.action, -1)  # the unknown label uses the last column, the max
        total = self._sums[piece.hi, column] - self._sums[piece.lo, column]
        return float(total / (piece.hi - piece.lo))


def _merge(target: _Piece, other: _Piece) -> None:
    """Fold the neighbouring piece `other` into `target` and unlink it."""
    target.start, target.end = min(target.start, other.start), max(target.end, other.end)
    target.lo, target.hi = min(target.lo, other.lo), max(target.hi, other.hi)
    other.alive = False
    if other is target.next:
        target.next = other.next
        if other.next:
            other.next.prev = target
    else:
        target.prev = other.prev
        if other.prev:
            other.prev.next = target


def _absorb_short(pieces: list[_Piece], min_s: float, confidence: _Confidence) -> list[_Piece]:
    """Fold pieces shorter than `min_s` into their more confident neighbour, shortest (then earliest) first.

    Ties in confidence go to the earlier neighbour. A short piece with no neighbour (the whole tracked run
    is short) is kept: it is all that is known about that time.
    """
    heap = [(p.end - p.start, p.start, i) for i, p in enumerate(pieces) if p.end - p.start < min_s]
    heapq.heapify(heap)
    index = {id(p): i for i, p in enumerate(pieces)}
    while heap:
        duration, _, i = heapq.heappop(heap)
        piece = pieces[i]
        if not piece.alive or piece.end - piece.start != duration:
            continue  # already merged away, or grown since this entry was pushed
        neighbours = [n for n in (piece.prev, piece.next) if n is not None]
        if not neighbours:
            continue
        target = max(neighbours, key=confidence)  # max keeps the first (earlier) on ties
        _merge(target, piece)
        for side in (target.prev, target.next):
            if side is not None and side.action == target.action:
                _merge(target, side)
        if target.end - target.start < min_s:
            heapq.heappush(heap, (target.end - target.start, target.start, index[id(target)]))
    return [p for p in pieces if p.alive]


@dataclasses.dataclass(frozen=True)
class _Options:
    smooth: int
    threshold: float
    min_segment_s: float
    unknown: str


def _run_segments(person: int, starts: np.ndarray, ends: np.ndarray, probs: np.ndarray, names: list[str],
                  options: _Options) -> list[Segment]:
    """Segments of one tracked run of time-ordered windows."""
    smoothed = smooth_probs(probs, options.smooth)
    best, peak = smoothed.argmax(axis=1), smoothed.max(axis=1)
    labels = [names[b] if p >= options.threshold else options.unknown for b, p in zip(best, peak)]
    confidence = _Confidence(smoothed, names)
    pieces = _label_pieces(starts, ends, labels)
    if options.min_segment_s > 0:
        pieces = _absorb_short(pieces, options.min_segment_s, confidence)
    return [Segment(person, round(p.start, _DECIMALS), round(p.end, _DECIMALS), p.action,
                    round(confidence(p), _DECIMALS)) for p in pieces]


def to_segments(person: int, windows: Sequence[Window], classes: Sequence[str], *, smooth: int = 3,
                threshold: float = 0.5, min_segment_s: float = 0.0, unknown: str = UNKNOWN) -> list[Segment]:
    """Turn one person's scored windows into contiguous labelled segments.

    Windows may come in any order; they are sorted by start (then end, then scores). The timeline is split
    where the person was not tracked (see `_tracked_runs`); within each tracked run the scores are smoothed
    with `smooth_probs` (never across a gap), each window is labelled with its argmax class when the
    smoothed top probability reaches `threshold` and `unknown` otherwise, and each window owns the time
    between the midpoints to its neighbours' centres (the run starts at its first window's start and ends
    at its last end). Neighbouring windows with the same label merge. Segments shorter than
    `min_segment_s` are folded into the neighbour in the same run with the higher confidence.

    Args:
        person: Tracked person id, copied into every segment.
        windows: The person's scored windows.
        classes: Class names in the model's output order.
        smooth: Moving-average length in windows; 1 turns smoothing off.
        threshold: Lowest smoothed top probability that names a class.
        min_segment_s: Shortest segment kept on its own; 0 keeps all.
        unknown: Label for windows below `threshold`.

    Returns:
        Segments in time order, times and confidences rounded to 3 decimals; empty without windows.

    Raises:
        ValueError: a window's score count differs from the class count, times or scores are not finite,
            a window ends before it starts, or the class names are empty, repeated or include `unknown`.
    """
    names = _check_classes(classes, unknown)
    if not windows:
        return []
    ordered = sorted(windows, key=lambda w: (w.start_s, w.end_s, tuple(w.probs)))
    starts, ends, probs = _as_arrays(ordered, len(names))
    options = _Options(smooth, threshold, min_segment_s, unknown)
    segments: list[Segment] = []
    for run in _tracked_runs(starts, ends):
        segments.extend(_run_segments(person, starts[run], ends[run], probs[run], names, options))
    return segments


def _classroom_keys(seconds: dict[str, float], counts: dict[str, int], names: list[str]) -> dict:
    """Hand raises and seconds writing / reading, for the class names that exist in this model."""
    def matching(*parts: str) -> list[str]:
        return [n for n in names if any(part in n.lower() for part in parts)]

    keys: dict = {}
    if raises := matching("raise", "hand"):
        keys["hand_raises"] = sum(counts[n] for n in raises)
    if writing := matching("writ"):
        keys["seconds_writing"] = round(sum(seconds[n] for n in writing), _DECIMALS)
    if reading := matching("read"):
        keys["seconds_reading"] = round(sum(seconds[n] for n in reading), _DECIMALS)
    return keys


def _summarise(person: int, segments: list[Segment], names: list[str], unknown: str) -> dict:
    labels = [*names, unknown]
    seconds = dict.fromkeys(labels, 0.0)
    counts = dict.fromkeys(labels, 0)
    for segment in segments:
        seconds[segment.action] += segment.duration_s
        counts[segment.action] += 1
    return {
        "person": person,
        "seconds": {label: round(s, _DECIMALS) for label, s in seconds.items()},
        "counts": counts,
        "first_s": min(s.start_s for s in segments),
        "last_s": max(s.end_s for s in segments),
        **_classroom_keys(seconds, counts, names),
    }


def person_summary(segments: Sequence[Segment], classes: Sequence[str], unknown: str = UNKNOWN) -> dict:
    """Seconds and segment counts per action for every person, plus classroom totals.

    Each person's entry holds "person", "seconds" and "counts" (every class and `unknown`, zeros
    included), "first_s" and "last_s"; and, when the model has such classes, "hand_raises" (segments whose
    action contains 'raise' or 'hand'), "seconds_writing" ('writ') and "seconds_reading" ('read'), matched
    case-insensitively.

    Args:
        segments: Segments of any number of people, e.g. from `to_segments`.
        classes: Class names in the model's output order.
        unknown: The label used for unconfident segments.

    Returns:
        A JSON-friendly dict keyed by str(person), in ascending numeric order of person id.

    Raises:
        ValueError: a segment's action is neither a class nor `unknown`, or the class names are bad.
    """
    names = _check_classes(classes, unknown)
    by_person: dict[int, list[Segment]] = {}
    for segment in segments:
        if segment.action != unknown and segment.action not in names:
            raise ValueError(f"segment action {segment.action!r} is not one of the classes {names} "
                             f"nor {unknown!r}; pass the classes and unknown label used to make the segments")
        by_person.setdefault(segment.person, []).append(segment)
    return {str(p): _summarise(p, by_person[p], names, unknown) for p in sorted(by_person)}
