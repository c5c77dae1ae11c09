"""Faces located from real pose landmarks, and blurred so that no detail is left."""

from __future__ import annotations

import numpy as np
import pytest

from poseact.demo import clips as demo
from poseact.label import privacy
from poseact.pose import pose_model
from poseact.pose.landmarker import PoseConfig, PoseLandmarkerModel
from poseact.pose.landmarks import PoseLandmark
from poseact.pose.video import Frame


def _detail(rgb: np.ndarray) -> float:
    """Variance of the Laplacian: the fine detail (edges of eyes, mouth, hair) a face is recognised by."""
    import cv2

    return float(cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.fixture(scope="module")
def astronaut():
    photo = demo.person_photos()["astronaut"]
    model = PoseLandmarkerModel(str(pose_model.resolve("full").path), PoseConfig(num_poses=1))
    pose = model.track_clip([Frame(0, 0.0, photo)])
    assert pose.detected[0]
    return photo, pose.landmarks[0]


def test_face_box_holds_the_real_face_and_not_the_body(astronaut):
    photo, landmarks = astronaut
    height, width = photo.shape[:2]
    box = privacy.face_box(landmarks, width, height)
    for point in (PoseLandmark.NOSE, PoseLandmark.LEFT_EYE, PoseLandmark.RIGHT_EYE, PoseLandmark.MOUTH_LEFT,
                  PoseLandmark.LEFT_EAR, PoseLandmark.RIGHT_EAR):
        x, y = landmarks[point, 0] * width, landmarks[point, 1] * height
        assert box[0] <= x <= box[2] and box[1] <= y <= box[3], point.name
    # A head, not the picture: smaller than the shoulders' span, and the shoulders stay out of it.
    shoulders = landmarks[[PoseLandmark.LEFT_SHOULDER, PoseLandmark.RIGHT_SHOULDER], :2] * [width, height]
    assert box[2] - box[0] < abs(shoulders[0, 0] - shoulders[1, 0])
    assert box[3] < shoulders[:, 1].min()


def test_blurred_face_keeps_no_detail_and_the_rest_is_untouched(astronaut):
    photo, landmarks = astronaut
    box = privacy.face_box(landmarks, photo.shape[1], photo.shape[0])
    x0, y0, x1, y1 = (int(v) for v in box)
    blurred = privacy.blur_regions(photo.copy(), [box])
    assert _detail(blurred[y0 + 2:y1 - 2, x0 + 2:x1 - 2]) < 0.01 * _detail(photo[y0:y1, x0:x1])
    outside = np.ones(photo.shape[:2], bool)
    outside[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = False
    assert np.array_equal(blurred[outside], photo[outside])


def test_face_box_edge_cases():
    assert privacy.face_box(np.full((33, 5), np.nan), 100, 100) is None
    flat = np.zeros((33, 5))
    flat[:, :2] = 0.5  # every point in one place: still a head-sized box, not an empty one
    box = privacy.face_box(flat, 200, 100)
    assert box[2] - box[0] >= 8
    image = np.full((20, 20, 3), 7, np.uint8)
    assert np.array_equal(privacy.blur_regions(image.copy(), [[-50, -50, -40, -40], [5, 5, 5.5, 5.5]]), image)
