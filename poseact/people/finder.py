"""The classroom person finder: COCO NanoDet on overlapping tiles, every person box in a frame.

Why this finder: MediaPipe's pose detector finds a person by their face and body alignment, for one person near
the camera; on real classroom frames (`classroom_cctv`: 24 students, heads 21-92 px) it found 2-3.5% of the
students on the whole frame and 19-32% on tiles. A COCO person detector finds the body, seen from the front, the
side, the back or bent over a desk. NanoDet-g on the whole frame and tiles found 0.84 of them (docs/people.md,
the candidates measured). Decoding follows NanoDet's GFL head (github.com/RangiLyu/nanodet, `gfl_head.py`):
- input 416 x 416 (each tile stretched), BGR, normalised by mean (103.53, 116.28, 123.675) and std
  (57.375, 57.12, 58.395), channels first;
- three levels of cells (strides 8, 16, 32; 52 x 52, 26 x 26, 13 x 13, row-major), each with 80 sigmoid class
  scores (COCO, person first) and 4 x 11 bins: the distances from the cell centre ((i + 0.5) x stride) to the
  box's left, top, right and bottom edges are each the softmax-weighted mean of 0..10, times the stride.

Tiles: a head must be at least `FINDER_HEAD_PX` wide in the model's input to be found, so the grid's tiles are
at most `INPUT_PX * min_head_px / FINDER_HEAD_PX` pixels on a side (20% overlap), and the whole frame is searched
too (a near student cut by every tile is whole there). A box cut by an inner tile edge is dropped where more than
half of it lies in an uncut box; then non-maximum suppression at IoU `NMS_IOU`.
"""

from __future__ import annotations

import math

import numpy as np

from poseact.pose.landmark_runner import tflite_interpreter

INPUT_PX = 416
REG_MAX = 10
STRIDES = (8, 16, 32)
MEAN = np.array([103.53, 116.28, 123.675], np.float32)
STD = np.array([57.375, 57.12, 58.395], np.float32)
# Measured on classroom_cctv (60 frames, 1,481 heads): whole frame + 3x2 tiles found 0.90 / 0.84 / 0.75 of the
# heads at 0.30 / 0.35 / 0.40 with 6.1 / 3.4 / 2.0 boxes a frame on no labelled head; 0.35 is the knee.
MIN_SCORE = 0.35
# Heads 21-30 px wide found at 0.87 on 3x2 tiles of those 1400x900 frames, which shrink a tile by 0.77 into the
# input: 16-23 px there. Below 16 px nothing was measured, so that is the floor the tiles are sized for.
FINDER_HEAD_PX = 16.0
TILE_OVERLAP = 0.2
# Two boxes of one person from two tiles overlap by about 0.5 or more; neighbours in a row by less (measured:
# NMS at 0.3 lost 0.04 of the recall, at 0.5 kept it; the tracker merges the rest by their poses).
NMS_IOU = 0.5
_EDGE_PX = 2.0


def grid_for(width: int, height: int, min_head_px: float) -> tuple[int, int]:
    """Columns and rows of overlapping tiles small enough that a `min_head_px` head is found in each."""
    side = INPUT_PX * min_head_px / FINDER_HEAD_PX

    def count(length: int) -> int:
        return max(1, math.ceil((length / side - TILE_OVERLAP) / (1.0 - TILE_OVERLAP) - 1e-9))

    return count(width), count(height)


def tiles(width: int, height: int, grid: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (x0, y0, x1, y1) of equal size covering the frame, row by row."""
    cols, rows = grid
    if (cols, rows) == (1, 1):
        return [(0, 0, width, height)]
    tw = math.ceil(width / (cols - (cols - 1) * TILE_OVERLAP))
    th = math.ceil(height / (rows - (rows - 1) * TILE_OVERLAP))
    xs = np.linspace(0, width - tw, cols).round().astype(int) if cols > 1 else np.zeros(1, int)
    ys = np.linspace(0, height - th, rows).round().astype(int) if rows > 1 else np.zeros(1, int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of boxes (x0, y0, x1, y1)."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first (ties: lower index first)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        overlap = iou_matrix(boxes[best:best + 1], boxes[order[1:]])[0]
        order = order[1:][overlap <= iou]
    return np.asarray(keep, int)


def decode(outputs: list[np.ndarray], min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (input pixels) and scores from NanoDet's six outputs (any order)."""
    scores_by_cells = {o.shape[1]: o[0] for o in outputs if o.shape[2] == 80}
    boxes_by_cells = {o.shape[1]: o[0] for o in outputs if o.shape[2] == 4 * (REG_MAX + 1)}
    found_boxes, found_scores = [np.zeros((0, 4))], [np.zeros(0)]
    for stride in STRIDES:
        cells = math.ceil(INPUT_PX / stride)
        person = scores_by_cells[cells * cells][:, 0]
        keep = np.flatnonzero(person >= min_score)
        if not keep.size:
            continue
        logits = boxes_by_cells[cells * cells][keep].reshape(-1, 4, REG_MAX + 1).astype(np.float64)
        prob = np.exp(logits - logits.max(axis=-1, keepdims=True))
        prob /= prob.sum(axis=-1, keepdims=True)
        distance = (prob * np.arange(REG_MAX + 1)).sum(axis=-1) * stride
        cx, cy = (keep % cells + 0.5) * stride, (keep // cells + 0.5) * stride
        found_boxes.append(np.stack([cx - distance[:, 0], cy - distance[:, 1], cx + distance[:, 2],
                                     cy + distance[:, 3]], axis=1))
        found_scores.append(person[keep].astype(np.float64))
    return np.concatenate(found_boxes), np.concatenate(found_scores)


def merge(boxes: np.ndarray, scores: np.ndarray, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One box per person from the tiles' boxes: a box cut by an inner tile edge goes where more than half of it
    lies inside an uncut box (the person seen whole in another tile or the whole frame); then NMS."""
    if cut.any() and (~cut).any():
        inner, whole = boxes[cut], boxes[~cut]
        x0 = np.maximum(inner[:, None, 0], whole[None, :, 0])
        y0 = np.maximum(inner[:, None, 1], whole[None, :, 1])
        x1 = np.minimum(inner[:, None, 2], whole[None, :, 2])
        y1 = np.minimum(inner[:, None, 3], whole[None, :, 3])
        inside = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        own = np.maximum((inner[:, 2] - inner[:, 0]) * (inner[:, 3] - inner[:, 1]), 1e-9)
        drop = np.zeros(len(boxes), bool)
        drop[np.flatnonzero(cut)[(inside / own[:, None]).max(axis=1) > 0.5]] = True
        boxes, scores = boxes[~drop], scores[~drop]
    keep = nms(boxes, scores)
    return boxes[keep], scores[keep]


class PersonFinder:
    """NanoDet in a TFLite interpreter (one thread).

    Args:
        model: Bytes of the finder's `.tflite` (`poseact.people.finder_model.resolve`).
        min_head_px: The smallest head to find (sizes the tiles).
        min_score: Least person score.
    """

    def __init__(self, model: bytes, min_head_px: float = 20.0, min_score: float = MIN_SCORE,
                 threads: int = 1) -> None:
        self._interpreter = tflite_interpreter(model, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self.min_head_px = min_head_px
        self.min_score = min_score

    def detect_region(self, rgb: np.ndarray, region: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (frame pixels) and scores in one region of the frame, stretched to the input."""
        import cv2  # noqa: PLC0415

        x0, y0, x1, y1 = region
        part = rgb[y0:y1, x0:x1]
        bgr = cv2.resize(part, (INPUT_PX, INPUT_PX), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
        tensor = ((bgr.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(tensor))
        self._interpreter.invoke()
        boxes, scores = decode([self._interpreter.get_tensor(i) for i in self._outputs], self.min_score)
        if len(boxes):
            keep = nms(boxes, scores)
            boxes, scores = boxes[keep], scores[keep]
        scale = np.array([(x1 - x0) / INPUT_PX, (y1 - y0) / INPUT_PX] * 2)
        return boxes * scale + np.array([x0, y0, x0, y0], np.float64), scores

    def regions(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The whole frame, then the tiles (when one tile is not enough)."""
        grid = grid_for(width, height, self.min_head_px)
        whole = [(0, 0, width, height)]
        return whole if grid == (1, 1) else whole + tiles(width, height, grid)

    def find(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every person in a frame: boxes (N, 4) in pixels and scores (N,), best first."""
        height, width = rgb.shape[:2]
        all_boxes, all_scores, all_cut = [np.zeros((0, 4))], [np.zeros(0)], [np.zeros(0, bool)]
        for x0, y0, x1, y1 in self.regions(width, height):
            boxes, scores = self.detect_region(rgb, (x0, y0, x1, y1))
            cut = np.zeros(len(boxes), bool)
            for axis, low, high, size in ((0, x0, x1, width), (1, y0, y1, height)):
                if low > 0:
                    cut |= boxes[:, axis] <= low + _EDGE_PX
                if high < size:
                    cut |= boxes[:, axis + 2] >= high - _EDGE_PX
            all_boxes.append(boxes)
            all_scores.append(scores)
            all_cut.append(cut)
        boxes, scores, cut = (np.concatenate(v) for v in (all_boxes, all_scores, all_cut))
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        return merge(boxes, scores, cut)


__all__ = ["FINDER_HEAD_PX", "INPUT_PX", "MIN_SCORE", "NMS_IOU", "PersonFinder", "decode", "grid_for", "merge",
           "nms", "tiles"]
