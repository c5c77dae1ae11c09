"""Which found person is which labelled student: poses matched to annotated head boxes.

Classroom annotations label heads (a box per student's head), and a pose's head is where its face landmarks are
(nose, eyes, ears, mouth: BlazePose 0-10). The model places them even on a head seen from behind or bent over a
book, with low visibility, and they still fall on the head: so every face landmark counts, whatever its
visibility, and the head point is their median (robust to one landmark flung off).

A person sits on a head box when its head point lies inside the box grown by `GROW` of the box's size on each
side: labelled boxes are tight around the hair, and the landmark model's face centre sits lower on a bowed head
than the box's centre (a quarter of a head is 5-23 px on the dev frames' 21-92 px heads). Pairs are then made
one-to-one by the Hungarian method on the distance from the box centre, in head widths.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

FACE = tuple(range(11))  # BlazePose nose, eyes (inner, centre, outer), ears, mouth corners
GROW = 0.25


@dataclasses.dataclass(frozen=True)
class HeadMatch:
    """Persons matched to head boxes in one frame.

    Attributes:
        pairs: (head index, person index), one-to-one.
        doubles: Head indices with two or more persons on them (the student found twice).
        unmatched: Person indices on no head box.
        outside: Of `unmatched`, those outside the labelled area (beyond every labelled head by more than a
            median head width: people the annotators left out, like a teacher's desk at the front).
    """

    pairs: list[tuple[int, int]]
    doubles: list[int]
    unmatched: list[int]
    outside: list[int]


def head_point(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """The head of a pose, in pixels: the median of its face landmarks (x, y normalised to the frame). Landmarks of
    shape (33, C) give (2,); a stack of poses (..., 33, C), one head point per pose (..., 2)."""
    return np.median(landmarks[..., list(FACE), :2], axis=-2) * np.array([width, height], np.float32)


def grown(boxes: np.ndarray, fraction: float = GROW) -> np.ndarray:
    """Boxes grown by `fraction` of their width and height on each side."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    size = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
    return np.concatenate([boxes[:, :2] - fraction * size, boxes[:, 2:] + fraction * size], axis=1)


def _inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(heads, persons) whether each point lies in each box."""
    x, y = points[None, :, 0], points[None, :, 1]
    return (x >= boxes[:, None, 0]) & (x <= boxes[:, None, 2]) & (y >= boxes[:, None, 1]) & (y <= boxes[:, None, 3])


def match_heads(heads: np.ndarray, points: np.ndarray, grow: float = GROW) -> HeadMatch:
    """Match persons (their head points, pixels) to labelled head boxes (x0, y0, x1, y1 pixels).

    Args:
        heads: (H, 4) labelled head boxes.
        points: (P, 2) the persons' head points (`head_point`).
        grow: How far beyond its box a head still holds a person, as a fraction of the box's size.

    Returns:
        The one-to-one pairs, the heads found twice, the persons on no head and which of those lie outside the
        labelled area.
    """
    heads = np.asarray(heads, np.float32).reshape(-1, 4)
    points = np.asarray(points, np.float32).reshape(-1, 2)
    holds = _inside(points, grown(heads, grow))
    centres = (heads[:, :2] + heads[:, 2:]) / 2
    widths = np.maximum(heads[:, 2] - heads[:, 0], 1.0)
    cost = np.linalg.norm(centres[:, None, :] - points[None, :, :], axis=2) / widths[:, None]
    cost = np.where(holds, cost, 1e6)
    rows, cols = linear_sum_assignment(cost) if holds.size else (np.zeros(0, int), np.zeros(0, int))
    pairs = [(int(h), int(p)) for h, p in zip(rows, cols) if holds[h, p]]
    matched = {p for _, p in pairs}
    unmatched = [p for p in range(len(points)) if p not in matched]
    # A person inside two grown boxes belongs to the nearer one; a head that two persons belong to was found twice.
    owner = np.where(holds.any(axis=0), np.argmin(cost, axis=0), -1) if holds.size else np.zeros(0, int)
    owned = np.bincount(owner[owner >= 0], minlength=len(heads)) if len(heads) else np.zeros(0, int)
    doubles = [int(h) for h in np.flatnonzero(owned >= 2)]
    outside = []
    if len(heads):
        margin = float(np.median(widths))
        lo, hi = heads[:, :2].min(axis=0) - margin, heads[:, 2:].max(axis=0) + margin
        outside = [p for p in unmatched if not bool(np.all((points[p] >= lo) & (points[p] <= hi)))]
    else:
        outside = list(unmatched)
    return HeadMatch(pairs, doubles, unmatched, outside)


__all__ = ["FACE", "GROW", "HeadMatch", "grown", "head_point", "match_heads"]
