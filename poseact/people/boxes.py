"""Person boxes from landmarks, and how two boxes compare: the geometry `poseact.people.tracker` tracks with.

Boxes are (x0, y0, x1, y1) in pixels; landmarks are MediaPipe's 33, whole-frame normalised, with
visibility in column 3.
"""

from __future__ import annotations

import numpy as np

# Landmarks 0-16 (face, shoulders, arms): the part of a seated person a classroom camera sees. Hips and
# legs are left out of boxes because MediaPipe guesses them below the desk, often with high visibility,
# which would stretch a person's box (and crop) over the student sitting in front.
BOX_LANDMARKS = slice(0, 17)
VISIBLE = 0.5


def landmark_box(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel box of the visible upper-body landmarks (all upper-body ones when few are visible)."""
    upper = landmarks[BOX_LANDMARKS]
    visible = upper[upper[:, 3] >= VISIBLE]
    points = visible if len(visible) >= 3 else upper
    xy = points[:, :2] * np.array([width, height], np.float32)
    x0, y0 = np.clip(xy.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(xy.max(axis=0), 0, [width, height])
    return np.array([x0, y0, x1, y1], np.float32)


def body_box(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel box of face, arms and hips whatever their visibility: where this person's body probably is.

    Only used to recognise a second, phantom "person" that MediaPipe sometimes finds on someone's torso
    (seen on the demo lecture: a second pose inside the astronaut's suit, all landmarks 'visible')."""
    xy = landmarks[:25, :2] * np.array([width, height], np.float32)
    x0, y0 = np.clip(xy.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(xy.max(axis=0), 0, [width, height])
    return np.array([x0, y0, x1, y1], np.float32)


def contained(a: np.ndarray, b: np.ndarray) -> float:
    """Share of box `a` inside box `b`."""
    size = area(a)
    return intersection(a, b) / size if size > 0 else 0.0


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller box inside the other."""
    return max(contained(a, b), contained(b, a))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two boxes of a person are, in [0, 1]: the mean of their IoU and of the share of the smaller
    box inside the larger. Unlike IoU alone, it stays high when one view of a person is a part of the other
    (MediaPipe sometimes finds only a head and shoulders where another pass found the arms too)."""
    return 0.5 * (iou(a, b) + overlap(a, b))


def area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def intersection(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return float(max(0.0, w) * max(0.0, h))


def merge_detections(boxes: list[np.ndarray], scores: list[float], iou_max: float = 0.4,
                     contain_max: float = 0.6, bodies: list[np.ndarray] | None = None) -> list[int]:
    """Indices of the boxes kept after dropping duplicates, best score first.

    A box is a duplicate of a kept one when their IoU exceeds `iou_max`, or when most of the smaller box
    (`contain_max` of its area) lies inside the other (a tile that cuts a person finds a part of them), or
    inside the other's `bodies` box (a phantom on someone's torso, see `body_box`).
    """
    bodies = bodies if bodies is not None else boxes
    # A box inside another detection's body (and not the other way round) is a phantom on that body,
    # whatever its score: drop it first, so that it can never make the real person a duplicate of it.
    phantoms = {i for i in range(len(boxes)) for k in range(len(boxes))
                if i != k and contained(boxes[i], bodies[k]) > contain_max
                and contained(boxes[k], bodies[i]) <= contain_max}
    order = sorted((i for i in range(len(boxes)) if i not in phantoms), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    for i in order:
        duplicate = False
        for k in kept:
            if (iou(boxes[i], boxes[k]) > iou_max or overlap(boxes[i], boxes[k]) > contain_max
                    or contained(boxes[i], bodies[k]) > contain_max or contained(boxes[k], bodies[i]) > contain_max):
                duplicate = True
                break
        if not duplicate:
            kept.append(i)
    return kept


def match(track_boxes: list[np.ndarray], boxes: list[np.ndarray], min_similarity: float) -> list[tuple[int, int]]:
    """Pairs (track index, box index) that maximise total `similarity`, each at least `min_similarity`."""
    return best_pairs(np.array([[similarity(t, b) for b in boxes] for t in track_boxes]), min_similarity)


def best_pairs(alike: np.ndarray, least: float) -> list[tuple[int, int]]:
    """Pairs (row, column) of a likeness matrix that maximise its total (Hungarian method), each at least `least`."""
    if alike.size == 0:
        return []
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    rows, cols = linear_sum_assignment(-alike)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if alike[r, c] >= least]


def crop_box(box: np.ndarray, margin: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The pose crop around a person box: grown by `margin` of its size (its larger side, so it is about
    square) on each side and clipped to the frame."""
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    side = max(box[2] - box[0], box[3] - box[1], 8.0) * (1.0 + 2.0 * margin)
    x0, y0 = int(max(0.0, cx - side / 2)), int(max(0.0, cy - side / 2))
    x1, y1 = int(min(float(width), cx + side / 2)), int(min(float(height), cy + side / 2))
    return x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)


def torso_box(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel box of a person's torso: between the shoulders (a quarter shoulder width out on each side),
    from the shoulder line down to the hips, whatever their visibility (MediaPipe guesses hips under a desk).

    A younger track whose box lies mostly inside an older track's torso is a phantom on that person's
    chest, hands or book (seen on the demo lecture: a tiny "person" on a student's hands for 30 s); a real
    student behind shows their face above the shoulders of the one in front, not inside their torso.
    """
    scale = np.array([width, height], np.float32)
    shoulders = points[[11, 12], :2] * scale
    hips = points[[23, 24], :2] * scale
    pad = 0.25 * float(np.linalg.norm(shoulders[0] - shoulders[1]))
    x0, x1 = float(shoulders[:, 0].min()) - pad, float(shoulders[:, 0].max()) + pad
    y0, y1 = float(shoulders[:, 1].min()), float(max(hips[:, 1].max(), shoulders[:, 1].max()))
    return np.array([x0, y0, x1, y1], np.float32)


def face_box(points: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Pixel box around the visible face landmarks (0-10), grown by half its size; None if under 3 visible."""
    face = points[:11]
    seen = face[face[:, 3] >= VISIBLE]
    if len(seen) < 3:
        return None
    xy = seen[:, :2] * np.array([width, height], np.float32)
    (fx0, fy0), (fx1, fy1) = xy.min(axis=0), xy.max(axis=0)
    pad = 0.5 * max(fx1 - fx0, fy1 - fy0)
    return np.array([fx0 - pad, fy0 - pad, fx1 + pad, fy1 + pad], np.float32)


def same_person(a: np.ndarray, b: np.ndarray, min_iou: float, min_contained: float = 0.6) -> bool:
    """Whether two boxes look like the same person: enough IoU, or most of the smaller one inside the other."""
    return iou(a, b) >= min_iou or overlap(a, b) >= min_contained


__all__ = ["BOX_LANDMARKS", "VISIBLE", "area", "body_box", "contained", "crop_box", "face_box", "intersection", "iou",
           "landmark_box", "match", "merge_detections", "overlap", "same_person", "similarity", "torso_box"]
