"""BlazePose's person detector run directly: boxes and alignment points of everyone in an image (a tile).

Used where our landmark runner (`poseact.pose.landmark_runner`) starts following a person: MediaPipe's
landmarker, given a crop, starts from its detector's region of interest, and so does ours, so that the
first frames (and the visibility filter, which starts from them) match the `--exact` path. Started from a
region guessed from the detection pass's landmarks instead, the raised wrist of the real seated hand raise
began at visibility 0.26 instead of 0.49, and the slow visibility filter kept it under the rules' 0.5
while the hand was up.

Note: the detector's face box has a fixed size (the model regresses 44.8 of 224 pixels for every face
here); only its keypoints place a person.

Steps and constants follow `mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt`:
- the image is letterboxed into 224 x 224 (aspect kept, zero padding), pixels scaled to [-1, 1];
- 2,254 SSD anchors (strides 8, 16, 32, 32, 32; two anchors per cell; fixed anchor size);
- each anchor regresses a face box and four keypoints (hip centre, full-body scale point, shoulder
  centre, upper-body scale point); scores through a sigmoid, kept from 0.5;
- weighted non-maximum suppression at IoU 0.3 (overlapping boxes averaged, weighted by score).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from poseact.pose.landmark_runner import Roi, roi_from_alignment, sigmoid, tflite_interpreter

INPUT_PX = 224
_STRIDES = (8, 16, 32, 32, 32)
MIN_SCORE = 0.5
NMS_IOU = 0.3


def anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1] (x, y), in the model's output order."""
    out = []
    layer = 0
    while layer < len(_STRIDES):
        stride = _STRIDES[layer]
        same = 0
        while layer < len(_STRIDES) and _STRIDES[layer] == stride:
            same += 1
            layer += 1
        size = int(np.ceil(INPUT_PX / stride))
        for y in range(size):
            for x in range(size):
                out.extend([((x + 0.5) / size, (y + 0.5) / size)] * (2 * same))
    return np.array(out, np.float64)


@dataclasses.dataclass(frozen=True)
class Detection:
    """One person: `score`, face `box` (x0, y0, x1, y1) and `keypoints` (4, 2), in frame pixels."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray

    def roi(self) -> Roi:
        """The region MediaPipe gives the landmark model for this detection."""
        return roi_from_alignment(self.keypoints[0], self.keypoints[1])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box `a` (4,) with each of `b` (N, 4)."""
    w = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou: float = NMS_IOU) -> list[Detection]:
    """MediaPipe's weighted non-maximum suppression: best first, each kept detection the score-weighted
    mean of the candidates overlapping it by more than `iou`; its score stays the best one's."""
    order = list(np.argsort(-scores, kind="stable"))
    out = []
    while order:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order]) > iou
        group = [order[i] for i in range(len(order)) if overlap[i]]
        weights = scores[group] / scores[group].sum()
        out.append(Detection(float(scores[best]), (boxes[group] * weights[:, None]).sum(axis=0),
                             (keypoints[group] * weights[:, None, None]).sum(axis=0)))
        order = [order[i] for i in range(len(order)) if not overlap[i]]
    return out


class PoseDetector:
    """The pose detector in a TFLite interpreter.

    Args:
        model: Bytes of `pose_detector.tflite` (inside the `.task` bundle).
        threads: Interpreter threads.
    """

    def __init__(self, model: bytes, threads: int = 1) -> None:
        self._interpreter = tflite_interpreter(model, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._boxes, self._scores = outputs["Identity"], outputs["Identity_1"]
        self._anchors = anchors()

    def detect(self, rgb: np.ndarray, region: tuple[int, int, int, int] | None = None) -> list[Detection]:
        """People in `region` (x0, y0, x1, y1; default the whole image), in image pixels."""
        import cv2  # noqa: PLC0415

        x0, y0, x1, y1 = region or (0, 0, rgb.shape[1], rgb.shape[0])
        part = rgb[y0:y1, x0:x1]
        height, width = part.shape[:2]
        scale = INPUT_PX / max(width, height)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (INPUT_PX - w) // 2, (INPUT_PX - h) // 2
        tensor = np.zeros((INPUT_PX, INPUT_PX, 3), np.float32)
        tensor[pad_y:pad_y + h, pad_x:pad_x + w] = cv2.resize(part, (w, h), interpolation=cv2.INTER_AREA)
        tensor = tensor * (2.0 / 255.0) - 1.0
        tensor[:pad_y], tensor[pad_y + h:], tensor[:, :pad_x], tensor[:, pad_x + w:] = 0, 0, 0, 0
        self._interpreter.set_tensor(self._input, tensor[None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._boxes)[0].astype(np.float64)
        logits = self._interpreter.get_tensor(self._scores)[0, :, 0].astype(np.float64)
        keep = logits >= np.log(MIN_SCORE / (1 - MIN_SCORE))
        if not keep.any():
            return []
        raw, scores, centres = raw[keep], sigmoid(logits[keep]), self._anchors[keep]
        cx, cy = raw[:, 0] / INPUT_PX + centres[:, 0], raw[:, 1] / INPUT_PX + centres[:, 1]
        bw, bh = raw[:, 2] / INPUT_PX, raw[:, 3] / INPUT_PX
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) * INPUT_PX
        keypoints = raw[:, 4:12].reshape(-1, 4, 2) / INPUT_PX + centres[:, None, :]
        keypoints = keypoints * INPUT_PX
        # letterboxed 224-pixel coordinates -> region pixels -> image pixels
        offset = np.array([pad_x, pad_y], np.float64)
        boxes = (boxes - np.tile(offset, 2)) / scale + np.array([x0, y0, x0, y0], np.float64)
        keypoints = (keypoints - offset) / scale + np.array([x0, y0], np.float64)
        return weighted_nms(scores, boxes, keypoints)

