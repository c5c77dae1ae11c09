"""Our own run of BlazePose's landmark model: ROI geometry, filters, and agreement with MediaPipe's landmarker."""

import math

import cv2
import numpy as np
import pytest

from poseact.demo import clips as demo
from poseact.pose import landmark_runner as lr
from poseact.pose import pose_model


def test_roi_maps_the_crop_centre_and_corners():
    roi = lr.Roi(cx=300.0, cy=200.0, size=128.0, rotation=0.0)
    matrix = roi.crop_to_frame()
    centre = matrix @ np.array([128.0, 128.0, 1.0])
    corner = matrix @ np.array([0.0, 0.0, 1.0])
    assert np.allclose(centre, [300, 200]) and np.allclose(corner, [236, 136])
    turned = lr.Roi(300.0, 200.0, 128.0, rotation=math.pi / 2).crop_to_frame()
    assert np.allclose(turned @ np.array([128.0, 128.0, 1.0]), [300, 200])  # turning keeps the centre
    assert np.allclose(turned @ np.array([256.0, 128.0, 1.0]), [300, 264])  # crop's right edge points down


def test_roi_from_alignment_points_is_upright_and_a_quarter_larger_than_the_body_circle():
    roi = lr.roi_from_alignment(np.array([100.0, 300.0]), np.array([100.0, 200.0]))  # scale point above
    assert roi.rotation == pytest.approx(0.0) and roi.size == pytest.approx(2 * 100 * 1.25)
    assert (roi.cx, roi.cy) == (100.0, 300.0)
    leaning = lr.roi_from_alignment(np.array([100.0, 300.0]), np.array([200.0, 300.0]))  # body lying right
    assert leaning.rotation == pytest.approx(math.pi / 2)


def test_heatmap_refinement_moves_a_landmark_to_its_peak_only_when_confident():
    heatmap = np.full((64, 64, 39), -10.0, np.float32)
    heatmap[20, 30, 0] = 10.0  # a sure peak for landmark 0 at column 30, row 20
    heatmap[40, 40, 1] = -1.0  # landmark 1: nothing above 0.5 confidence
    xy = np.array([[31 / 64, 21 / 64], [40 / 64, 40 / 64]] + [[2.0, 2.0]] * 37)  # the rest off the map
    out = lr.refine_from_heatmap(xy, heatmap)
    assert np.allclose(out[0], [30 / 64, 20 / 64], atol=1e-3)
    assert np.allclose(out[1:], xy[1:])


def test_one_euro_passes_the_first_value_and_follows_fast_moves_more_than_slow():
    still, fast = lr.OneEuro(*lr.LANDMARK_FILTER), lr.OneEuro(*lr.LANDMARK_FILTER)
    assert still(np.array([1.0]), 0.0, 0.01)[0] == 1.0
    fast(np.array([1.0]), 0.0, 0.01)
    slow_step = still(np.array([1.2]), 66.7, 0.01)[0] - 1.0  # a small move: mostly filtered out
    fast_step = fast(np.array([41.0]), 66.7, 0.01)[0] - 1.0  # a big move: mostly followed
    assert slow_step / 0.2 < fast_step / 40.0


def test_visibility_filter_depends_on_time_not_on_how_often_it_is_called():
    """Posing every 3rd frame gives the visibility the exact path gives every frame (issue 11, --pose-every)."""
    every, third = lr.PoseTracker(None, 15.0), lr.PoseTracker(None, 15.0)
    times = [1000 * i / 15 for i in range(31)]
    for i, t in enumerate(times):
        value = np.full(33, 0.0 if i == 0 else 1.0)
        a = every._smooth_visibility(value, t)
        if i % 3 == 0:
            b = third._smooth_visibility(value, t)
    assert a[0] == pytest.approx(b[0], abs=1e-9)
    assert a[0] == pytest.approx(1 - 0.9 ** 30)


@pytest.fixture(scope="module")
def bundle():
    with open(pose_model.resolve("full").path, "rb") as handle:
        return handle.read()


def test_runner_tracks_a_real_person_like_mediapipes_landmarker(bundle):
    """Grace Hopper's portrait (matplotlib, public domain) raising a hand: our runner's landmarks stay within
    0.05 shoulder widths of MediaPipe's VIDEO-mode landmarker on the same frames, on average."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core import base_options

    frames = demo.animate("hopper", "hand_raise", np.random.default_rng(0), seconds=1.0)
    options = vision.PoseLandmarkerOptions(base_options=base_options.BaseOptions(model_asset_buffer=bundle),
                                           running_mode=vision.RunningMode.VIDEO, num_poses=1)
    tracker = lr.PoseTracker(lr.LandmarkModel(lr.landmark_model_bytes(bundle)), demo.FPS)
    gaps = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for index, rgb in enumerate(frames):
            t = 1000.0 * index / demo.FPS
            found = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(t))
            assert found.pose_landmarks
            exact = np.array([[p.x, p.y, p.visibility] for p in found.pose_landmarks[0]])
            height, width = rgb.shape[:2]
            if tracker.roi is None:
                start = np.zeros((33, 5))
                start[:, :2] = exact[:, :2]
                tracker.start(rgb, lr.roi_from_body(start, width, height))
            ours = tracker.step(rgb, t)
            assert ours is not None, f"lost the person in frame {index}"
            scale = np.array([width, height])
            shoulders = np.linalg.norm((exact[11, :2] - exact[12, :2]) * scale)
            gaps.append(np.linalg.norm(ours[:25, :2] - exact[:25, :2] * scale, axis=1).mean() / shoulders)
    assert np.mean(gaps) < 0.05, [round(g, 3) for g in gaps]


def test_runner_finds_nobody_in_an_empty_room(bundle):
    model = lr.LandmarkModel(lr.landmark_model_bytes(bundle))
    wall = np.full((256, 256, 3), 200, np.uint8)
    assert model.pose(wall, lr.Roi(128.0, 128.0, 256.0)).flag < 0.5


def test_pruned_model_gives_the_same_outputs_with_fewer_operators(bundle):
    """The landmark model without its segmentation and world-landmark heads gives byte-identical landmarks,
    pose flag and heatmap on a real person's crop, and runs fewer operators."""
    from tensorflow.lite.tools import flatbuffer_utils

    full = lr.landmark_model_bytes(bundle)
    pruned = lr.prune_outputs(full, lr.LANDMARK_OUTPUTS)
    rgb = demo.animate("hopper", "hand_raise", np.random.default_rng(0), seconds=0.2)[0]
    roi = lr.Roi(rgb.shape[1] / 2, rgb.shape[0] * 0.9, max(rgb.shape[:2]) * 1.5)  # around her, as the runner crops
    crop = cv2.warpAffine(rgb, roi.crop_to_frame(), (lr.INPUT_PX, lr.INPUT_PX),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    crop = crop.astype(np.float32) / 255.0

    def outputs(model: bytes) -> dict[str, np.ndarray]:
        interpreter = lr.tflite_interpreter(model, 1)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], crop[None])
        interpreter.invoke()
        return {d["name"]: interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()}

    before, after = outputs(full), outputs(pruned)
    assert sorted(after) == sorted(lr.LANDMARK_OUTPUTS)
    assert {"Identity_2", "Identity_4"} <= set(before)
    for name in lr.LANDMARK_OUTPUTS:
        np.testing.assert_array_equal(after[name], before[name])
    assert float(after["Identity_1"].reshape(-1)[0]) > 0.5, "the crop holds a person"
    ops = [len(flatbuffer_utils.read_model_from_bytearray(bytearray(m)).subgraphs[0].operators) for m in (full, pruned)]
    assert ops[1] < ops[0] * 0.9, ops
    with pytest.raises(ValueError, match="no output nope"):
        lr.prune_outputs(full, ("Identity", "nope"))
