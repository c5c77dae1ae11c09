"""BlazePose's landmark model run directly: one rotated crop per person, its region from their last landmarks.

Why our own runner instead of one MediaPipe `PoseLandmarker` per person (the `--exact` path): measured in
`poseact bench label`, a person-frame cost about 29 ms through the Tasks API, of which the landmark model
itself (full) is about 18 ms; the rest is the graph (image copies and conversion, the crop's own detector
state, segmentation smoothing we never read). Here one TFLite interpreter serves every person of a chunk
and a crop is one `cv2.warpAffine`. What MediaPipe's tracking does is reproduced step by step, with its
constants (`mediapipe/modules/pose_landmark/*.pbtxt`):

1. Region of interest (ROI) from two alignment points, the model's auxiliary landmarks 33 (hip centre) and
   34 (a point whose distance from it is the radius of a circle around the whole body): centred on 33,
   side 2 x that radius x 1.25, rotated so that 33 -> 34 points up (`AlignmentPointsRectsCalculator`,
   `RectTransformationCalculator` scale 1.25, square_long).
2. Crop the ROI to 256 x 256 (edge pixels repeated outside the frame), pixels scaled to [0, 1]; run the model.
3. Decode 39 landmarks (x, y, z in crop pixels; visibility and presence logits -> sigmoid), refine x, y
   from the 64 x 64 heatmaps (7 x 7 kernel, where the peak confidence is at least 0.5), project back.
4. Temporal filters, as in VIDEO mode: a One Euro filter on x, y, z (min cutoff 0.05, beta 80, derivative
   cutoff 1, values scaled by the body's size) and on the alignment points (0.01, 10, 1), and a low-pass
   filter on visibility. MediaPipe's visibility filter takes 0.1 of each new value per call, so its time
   constant depends on how often it is called; here the weight follows the time elapsed (0.1 per
   `reference_fps` frame), so posing every k-th frame gives the visibility the exact path would give.
5. The next frame's ROI comes from the filtered alignment points. The pose flag (model output) under
   `min_presence` means the person is lost; the caller re-detects.
"""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile

import numpy as np

INPUT_PX = 256  # the landmark model's input side
HEATMAP_PX = 64
NUM_OUTPUT_LANDMARKS = 39  # 33 body landmarks, then the alignment points and 4 more auxiliary ones
CENTER, SCALE_POINT = 33, 34
ROI_SCALE = 1.25
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
LANDMARK_FILTER = (0.05, 80.0, 1.0)  # One Euro: min cutoff (Hz), beta, derivative cutoff (Hz)
ALIGNMENT_FILTER = (0.01, 10.0, 1.0)
VISIBILITY_ALPHA = 0.1  # MediaPipe's low-pass weight of a new visibility, per call


@dataclasses.dataclass(frozen=True)
class Roi:
    """A square region of the frame, in pixels: centre, side and rotation (radians, MediaPipe's sign)."""

    cx: float
    cy: float
    size: float
    rotation: float = 0.0

    def crop_to_frame(self) -> np.ndarray:
        """(2, 3) affine taking crop pixels (0..INPUT_PX) to frame pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / INPUT_PX
        return np.array([[c * k, -s * k, self.cx - (c - s) * self.size / 2],
                         [s * k, c * k, self.cy - (s + c) * self.size / 2]], np.float64)


def roi_from_alignment(center: np.ndarray, scale_point: np.ndarray) -> Roi:
    """The ROI MediaPipe crops for the next frame from the two alignment points (pixels)."""
    dx, dy = float(scale_point[0] - center[0]), float(scale_point[1] - center[1])
    rotation = _normalize_radians(math.pi / 2 - math.atan2(-dy, dx))
    return Roi(float(center[0]), float(center[1]), 2.0 * math.hypot(dx, dy) * ROI_SCALE, rotation)


def roi_from_body(points: np.ndarray, width: int, height: int) -> Roi:
    """A first ROI from 33 landmarks (whole-frame normalised) found by the detection pass, which gives no
    alignment points: centred on the hips, upright along hips -> shoulders, radius reaching the farthest
    landmark. One run of the model on it yields the real alignment points (`PoseTracker.start`).
    """
    xy = points[:33, :2] * np.array([width, height], np.float64)
    center = (xy[23] + xy[24]) / 2
    up = (xy[11] + xy[12]) / 2 - center
    length = float(np.linalg.norm(up))
    radius = float(np.max(np.linalg.norm(xy - center, axis=1)))
    direction = up / length if length > 0 else np.array([0.0, -1.0])
    return roi_from_alignment(center, center + direction * radius)


def _normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def bundle_file(bundle: bytes, name: str) -> bytes:
    """One model inside a PoseLandmarker `.task` bundle (`pose_detector.tflite`, `pose_landmarks_detector.tflite`)."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return archive.read(name)


def landmark_model_bytes(bundle: bytes) -> bytes:
    """The landmark model (`pose_landmarks_detector.tflite`) inside a PoseLandmarker `.task` bundle."""
    return bundle_file(bundle, "pose_landmarks_detector.tflite")


# The landmark model's outputs that poseact reads (see `LandmarkModel`). The model also computes a 256 x 256
# segmentation mask (Identity_2) and world landmarks (Identity_4), which nothing here uses.
LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_3")


def prune_outputs(model: bytes, keep: tuple[str, ...]) -> bytes:
    """The TFLite model with only the operators that the outputs named `keep` depend on.

    TFLite runs every operator of a graph, read or not: the full landmark model spent 14.2 ms a pose on one core;
    without its segmentation and world-landmark heads (50 of 332 operators) it runs in 8.3 ms (`poseact bench
    label` prints both) and gives byte-identical landmarks, pose flag and heatmap (`tests/test_landmark_runner.py`). Edited with TF's own flatbuffer helpers
    (`tensorflow.lite.tools.flatbuffer_utils`); the unused tensors and weights stay in the file, unread.

    Args:
        model: A `.tflite` model with one subgraph.
        keep: Names of the output tensors to keep, in the order they should come.

    Raises:
        ValueError: When the model has no output of one of the names.
    """
    from tensorflow.lite.tools import flatbuffer_utils  # noqa: PLC0415

    graph = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    subgraph = graph.subgraphs[0]
    by_name = {subgraph.tensors[index].name.decode(): index for index in subgraph.outputs}
    missing = [name for name in keep if name not in by_name]
    if missing:
        raise ValueError(f"the model has no output {', '.join(missing)} (it has {', '.join(by_name)})")
    producer = {tensor: op for op, operator in enumerate(subgraph.operators) for tensor in operator.outputs}
    needed: set[int] = set()
    pending = [by_name[name] for name in keep]
    while pending:
        op = producer.get(pending.pop())
        if op is not None and op not in needed:
            needed.add(op)
            pending.extend(int(tensor) for tensor in subgraph.operators[op].inputs if tensor >= 0)
    subgraph.operators = [operator for op, operator in enumerate(subgraph.operators) if op in needed]
    subgraph.outputs = np.array([by_name[name] for name in keep], np.int32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))


def tflite_interpreter(model: bytes, threads: int):
    """A TFLite interpreter (TF's) for `model` with its tensors allocated, one per worker and model."""
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice, once per worker
        from tensorflow import lite  # noqa: PLC0415

        interpreter = lite.Interpreter(model_content=model, num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe's `RefineLandmarksFromHeatmapCalculator`: each landmark (x, y in [0, 1] of the crop) moves
    to the confidence-weighted mean of the 7 x 7 heatmap cells around it, where the best cell's sigmoid
    is at least 0.5; landmarks off the heatmap stay.

    Args:
        xy: (39, 2) crop-normalised positions.
        heatmap: (64, 64, 39) raw heatmap logits.
    """
    out = xy.copy()
    size = heatmap.shape[0]
    half = (HEATMAP_KERNEL - 1) // 2
    for i, (x, y) in enumerate(xy):
        col, row = int(x * size), int(y * size)  # MediaPipe truncates, as here
        if not (0 <= col < size and 0 <= row < size):
            continue
        r0, r1, c0, c1 = max(0, row - half), min(size, row + half + 1), max(0, col - half), min(size, col + half + 1)
        conf = sigmoid(heatmap[r0:r1, c0:c1, i])
        total = float(conf.sum())
        if conf.max() >= HEATMAP_MIN_CONFIDENCE and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i] = (float((cols * conf).sum()) / size / total, float((rows * conf).sum()) / size / total)
    return out


@dataclasses.dataclass(frozen=True)
class RawPose:
    """One model run: `points` (39, 5) x, y in frame pixels, z in pixels (scaled like x), visibility and
    presence in [0, 1]; `flag`, the model's confidence that a person is in the crop."""

    points: np.ndarray
    flag: float


class LandmarkModel:
    """The landmark model in a TFLite interpreter (one thread: one busy core per worker process).

    Args:
        model: Bytes of the landmark `.tflite` (not the `.task` bundle; see `landmark_model_bytes`).
        threads: Interpreter threads.
    """

    def __init__(self, model: bytes, threads: int = 1) -> None:
        self._interpreter = tflite_interpreter(prune_outputs(model, LANDMARK_OUTPUTS), threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        # Identity: landmarks (1, 195); Identity_1: pose flag (1, 1); Identity_3: heatmap (1, 64, 64, 39).
        self._landmarks, self._flag, self._heatmap = outputs["Identity"], outputs["Identity_1"], outputs["Identity_3"]

    def run(self, crop: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """Model outputs for one (256, 256, 3) float32 crop in [0, 1]: (39, 5) raw landmarks in crop pixels
        (logit visibility and presence), the pose flag, and the (64, 64, 39) heatmap."""
        self._interpreter.set_tensor(self._input, crop[None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._landmarks).reshape(NUM_OUTPUT_LANDMARKS, 5)
        flag = float(self._interpreter.get_tensor(self._flag).reshape(-1)[0])
        heatmap = self._interpreter.get_tensor(self._heatmap)[0]
        return raw.copy(), flag, heatmap

    def pose(self, rgb: np.ndarray, roi: Roi, hide: list[np.ndarray] | None = None,
             clip: tuple[int, int, int, int] | None = None) -> RawPose:
        """Run the model on `roi` of a frame.

        Args:
            rgb: The frame.
            roi: Where to look.
            hide: Frame-pixel boxes (x0, y0, x1, y1) to grey out in the crop (other people's faces).
            clip: Only this part (x0, y0, x1, y1) of the frame is seen; beyond it its edges repeat, as for
                MediaPipe given a crop of the frame. A seated person's ROI is a circle around a whole body
                with guessed legs, several shoulder widths wide: on a classroom frame it holds the
                neighbours, and the model lost a back-row student among four people (found in 0.43 of
                frames instead of all); clipped to the person's detection crop, as the `--exact` path's
                landmarker sees them, it kept them.
        """
        import cv2  # noqa: PLC0415

        matrix = roi.crop_to_frame()
        source, sampled = rgb, matrix
        if clip is not None:
            x0, y0, x1, y1 = clip
            source = rgb[y0:y1, x0:x1]
            sampled = matrix - np.array([[0, 0, x0], [0, 0, y0]], np.float64)
        # Edge pixels repeated beyond the frame, as MediaPipe's ImageToTensorCalculator does on the CPU. It
        # matters: with black beyond the frame, a seated person's hips (below the frame) were "seen" with
        # visibility 0.9 instead of 0.02 and the landmarks were 0.20 shoulder widths off the exact path's;
        # repeated edges gave 0.04 (real seated hand raise clip, full model).
        crop = cv2.warpAffine(source, sampled, (INPUT_PX, INPUT_PX), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        if hide:
            _grey_out(crop, matrix, hide)
        raw, flag, heatmap = self.run(crop.astype(np.float32) * (1.0 / 255.0))
        xy = refine_from_heatmap(raw[:, :2] / INPUT_PX, heatmap) * INPUT_PX
        points = np.empty((NUM_OUTPUT_LANDMARKS, 5), np.float64)
        points[:, :2] = xy @ matrix[:, :2].T + matrix[:, 2]
        points[:, 2] = raw[:, 2] * roi.size / INPUT_PX
        points[:, 3:] = sigmoid(raw[:, 3:])
        return RawPose(points, flag)


def _grey_out(crop: np.ndarray, matrix: np.ndarray, boxes: list[np.ndarray]) -> None:
    """Fill frame-pixel boxes, as seen in the crop, with the crop's median colour (in place)."""
    import cv2  # noqa: PLC0415

    inverse = cv2.invertAffineTransform(matrix)
    fill = tuple(int(v) for v in np.median(crop.reshape(-1, 3), axis=0))
    for x0, y0, x1, y1 in boxes:
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64) @ inverse[:, :2].T + inverse[:, 2]
        cv2.fillConvexPoly(crop, np.round(corners).astype(np.int32), fill)


class OneEuro:
    """MediaPipe's One Euro filter (`mediapipe/util/filtering/one_euro_filter.cc`) over an array of values.

    Args:
        min_cutoff: Cutoff frequency (Hz) of a still value.
        beta: How fast the cutoff rises with speed (speed in body sizes per second).
        derivate_cutoff: Cutoff (Hz) of the speed estimate.
        frequency: Assumed rate until two timestamps are seen.
    """

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float, frequency: float = 30.0) -> None:
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self.frequency = frequency
        self._last_ms: float | None = None
        self._raw: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def _alpha(self, cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * self.frequency)

    def __call__(self, value: np.ndarray, time_ms: float, value_scale: float = 1.0) -> np.ndarray:
        if self._last_ms is not None:
            if time_ms <= self._last_ms:
                return value
            self.frequency = 1000.0 / (time_ms - self._last_ms)
        self._last_ms = time_ms
        speed = (value - self._raw) * value_scale * self.frequency if self._raw is not None else np.zeros_like(value)
        a = self._alpha(self.derivate_cutoff)
        self._speed = speed if self._speed is None else a * speed + (1 - a) * self._speed
        alpha = self._alpha(self.min_cutoff + self.beta * np.abs(self._speed))
        self._value = value if self._value is None else alpha * value + (1 - alpha) * self._value
        self._raw = value
        return self._value


class PoseTracker:
    """One person's pose over time: ROI tracking and the temporal filters of VIDEO mode.

    Args:
        model: The shared landmark model.
        reference_fps: Calls per second at which the visibility filter takes `VISIBILITY_ALPHA` of each new
            value (the rate the exact path calls MediaPipe at: the sampling rate).
        min_presence: Least pose flag to accept a pose (MediaPipe's `min_tracking_confidence` default).
    """

    def __init__(self, model: LandmarkModel, reference_fps: float, min_presence: float = 0.5) -> None:
        self.model = model
        self.reference_fps = reference_fps
        self.min_presence = min_presence
        self.roi: Roi | None = None
        self._reset_filters()

    def _reset_filters(self) -> None:
        self._points = OneEuro(*LANDMARK_FILTER)
        self._alignment = OneEuro(*ALIGNMENT_FILTER)
        self._visibility: np.ndarray | None = None
        self._visibility_ms: float | None = None

    def begin(self, roi: Roi) -> None:
        """Begin (or restart) tracking at a detector's ROI, as MediaPipe does: the next `step` poses there."""
        self._reset_filters()
        self.roi = roi

    def start(self, rgb: np.ndarray, roi: Roi, clip: tuple[int, int, int, int] | None = None) -> None:
        """Begin (or restart) tracking from a detector's ROI; one model run refines it to the pose's own ROI."""
        self._reset_filters()
        self.roi = roi
        found = self.model.pose(rgb, roi, clip=clip)
        self.roi = roi_from_alignment(found.points[CENTER, :2], found.points[SCALE_POINT, :2]) \
            if found.flag >= self.min_presence else None

    def step(self, rgb: np.ndarray, time_ms: float, hide: list[np.ndarray] | None = None,
             clip: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
        """Pose the person in this frame (see `LandmarkModel.pose` for `hide` and `clip`); (33, 5) landmarks
        x, y, z in frame pixels, visibility, presence, or None when lost (then `roi` is None until `start`)."""
        if self.roi is None:
            return None
        found = self.model.pose(rgb, self.roi, hide, clip)
        if found.flag < self.min_presence:
            self.roi = None
            return None
        points = found.points
        alignment = points[[CENTER, SCALE_POINT], :3]
        size = 2.0 * float(np.linalg.norm(alignment[1, :2] - alignment[0, :2]))
        scale = 1.0 / size if size > 1.0 else 0.0
        aligned = self._alignment(alignment, time_ms, scale)
        self.roi = roi_from_alignment(aligned[0, :2], aligned[1, :2])
        out = np.empty((33, 5), np.float64)
        out[:, :3] = self._points(points[:33, :3], time_ms, scale) if scale else points[:33, :3]
        out[:, 4] = points[:33, 4]
        out[:, 3] = self._smooth_visibility(points[:33, 3], time_ms)
        return out

    def _smooth_visibility(self, visibility: np.ndarray, time_ms: float) -> np.ndarray:
        if self._visibility is None or self._visibility_ms is None or time_ms <= self._visibility_ms:
            self._visibility = visibility.copy()
        else:
            frames = (time_ms - self._visibility_ms) * self.reference_fps / 1000.0
            alpha = 1.0 - (1.0 - VISIBILITY_ALPHA) ** max(frames, 1e-3)
            self._visibility = alpha * visibility + (1 - alpha) * self._visibility
        self._visibility_ms = time_ms
        return self._visibility.copy()
