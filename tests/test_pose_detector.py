"""BlazePose's person detector run directly (poseact.pose.detector)."""

import io
import zipfile

import numpy as np
import pytest

from poseact.demo import clips as demo
from poseact.pose import detector as pose_detector
from poseact.pose import pose_model


def test_anchors_match_the_models_outputs():
    anchors = pose_detector.anchors()
    assert anchors.shape == (2254, 2)  # 28x28x2 + 14x14x2 + 7x7x6
    assert np.allclose(anchors[0], [0.5 / 28, 0.5 / 28]) and np.allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def test_weighted_nms_merges_overlaps_and_keeps_the_rest():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float64)
    keypoints = np.zeros((3, 4, 2))
    keypoints[:, 0] = [[5, 5], [7, 5], [55, 55]]
    found = pose_detector.weighted_nms(np.array([0.9, 0.6, 0.8]), boxes, keypoints)
    assert len(found) == 2 and found[0].score == 0.9
    assert found[0].keypoints[0, 0] == pytest.approx((5 * 0.9 + 7 * 0.6) / 1.5)


def test_finds_a_real_person_and_nobody_in_an_empty_room():
    with open(pose_model.resolve("full").path, "rb") as handle:
        bundle = handle.read()
    detector = pose_detector.PoseDetector(zipfile.ZipFile(io.BytesIO(bundle)).read("pose_detector.tflite"))
    frame = demo.animate("hopper", "reading", np.random.default_rng(0), seconds=0.2)[0]
    found = detector.detect(frame)
    assert found, "no one found on Grace Hopper's portrait"
    best = max(found, key=lambda d: d.score)
    height, width = frame.shape[:2]
    hips, shoulders = best.keypoints[0], best.keypoints[2]
    assert shoulders[1] < hips[1]  # upright: shoulders above the hips
    assert 0 <= shoulders[0] <= width and 0 <= shoulders[1] <= height
    roi = best.roi()
    assert abs(roi.rotation) < 0.5 and roi.size > 0.3 * height
    assert detector.detect(np.full((240, 320, 3), 200, np.uint8)) == []
