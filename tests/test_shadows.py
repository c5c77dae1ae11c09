"""Two tracks on one student's head are joined once a class chunk is posed (`poseact.people.shadows`)."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np
import pytest

from poseact.people import shadows
from tests.classroom_frames import CCTV

WIDTH, HEIGHT, FRAMES = 1000, 500, 60


def _track(x: float, frames: Iterable[int], y: float = 200.0, shoulders: float = 40.0):
    """A made track: its face at (x, y) pixels and its shoulders below it, found on `frames`."""
    landmarks = np.zeros((FRAMES, 33, 5), np.float32)
    detected = np.zeros(FRAMES, bool)
    for i in frames:
        landmarks[i, :11, :2] = (x / WIDTH, y / HEIGHT)
        landmarks[i, 11, :2] = ((x + shoulders / 2) / WIDTH, (y + 30) / HEIGHT)
        landmarks[i, 12, :2] = ((x - shoulders / 2) / WIDTH, (y + 30) / HEIGHT)
        landmarks[i, :, 3:] = 0.9
        detected[i] = True
    return landmarks, detected, np.tile(np.array([x - 30, y - 30, x + 30, y + 90], np.float32), (FRAMES, 1))


def test_the_spacing_of_a_class_is_read_around_each_student():
    # Five students in a row, 50 px apart, and a second pose 10 px from the middle one: each one's nearest neighbour is
    # 50 px away but for those two (10 px); over the five nearest, everyone's spacing is still 50 px.
    faces = np.array([[100.0 + 50 * i, 200.0] for i in range(5)] + [[200.0, 190.0]])
    assert np.allclose(shadows.local_spacing(faces), 50.0)
    assert np.isnan(shadows.local_spacing(np.array([[1.0, 2.0]]))).all()
    assert shadows.local_spacing(np.zeros((0, 2))).shape == (0,)


def test_the_face_gap_of_two_tracks_alive_together_or_one_after_the_other():
    def faces(x, frames):
        landmarks, detected, _ = _track(x, frames)
        return shadows.face_points(landmarks, detected, WIDTH, HEIGHT)

    assert np.isclose(shadows.face_gap(faces(100, range(0, 40)), faces(112, range(20, 60)), 10), 12.0)
    # One after the other: from where the first ends to where the second begins, within `max_gap` frames.
    assert np.isclose(shadows.face_gap(faces(100, range(0, 20)), faces(109, range(29, 60)), 10), 9.0)
    assert shadows.face_gap(faces(100, range(0, 20)), faces(109, range(30, 60)), 10) == float("inf")
    assert shadows.face_gap(faces(100, range(0)), faces(109, range(29, 60)), 10) == float("inf")
    # The later one first, or one found while the other was lost: their two frames nearest in time.
    assert np.isclose(shadows.face_gap(faces(109, range(29, 60)), faces(100, range(0, 20)), 10), 9.0)
    assert np.isclose(shadows.face_gap(faces(100, [*range(0, 10), *range(40, 50)]), faces(106, range(18, 30)), 10), 6.0)


def test_tracks_on_one_head_are_joined_and_neighbours_are_not():
    # A row of six students 50 px apart: a spacing of 50 px, so faces within 20 px (`SAME_HEAD`) are one student's.
    tracks = {i: _track(100.0 + 50 * i, range(FRAMES)) for i in range(6)}
    tracks[2] = _track(200.0, range(0, 50))  # student 2, lost for the last 10 frames
    tracks[10] = _track(212.0, range(20, 60))  # a second pose 12 px from student 2's face
    # Someone 34 px above student 4 (0.68 of the row's spacing; no two labelled heads are closer than 0.58 of theirs),
    # a neighbour half hidden behind them.
    tracks[11] = _track(300.0, range(FRAMES), y=166.0)
    tracks[5] = _track(350.0, range(0, 20))  # student 5's follower lost them...
    tracks[12] = _track(355.0, range(28, 60))  # ...and the next pass found them under a new id
    tracks[13] = _track(700.0, range(0, 10))  # a place left...
    tracks[14] = _track(702.0, range(40, 60))  # ...and taken again long after (beyond `max_gap`)
    hands = {t: np.full(FRAMES, float(t), np.float32) for t in tracks}
    left, hands_left, joined = shadows.join_shadows(tracks, hands, WIDTH, HEIGHT, max_gap=15)
    assert joined == {10: 2, 5: 12}
    assert set(left) == set(hands_left) == {0, 1, 2, 3, 4, 11, 12, 13, 14}
    # The kept track keeps its own frames and takes the joined one's where it was not found.
    landmarks, detected, _ = left[2]
    assert detected.all()
    assert np.isclose(landmarks[30, 0, 0] * WIDTH, 200.0) and np.isclose(landmarks[55, 0, 0] * WIDTH, 212.0)
    assert (hands_left[2][:50] == 2).all() and (hands_left[2][50:] == 10).all()
    assert left[12][1][:20].all() and not left[12][1][20:28].any() and left[12][1][28:].all()


def test_one_track_or_none_is_left_as_it_is():
    one = {3: _track(100.0, range(FRAMES))}
    assert shadows.join_shadows(one, {}, WIDTH, HEIGHT, 15) == (one, {}, {})
    assert shadows.join_shadows({}, {}, WIDTH, HEIGHT, 15) == ({}, {}, {})




@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_on_a_real_class_frame_a_second_pose_on_a_head_is_joined(tmp_path, monkeypatch):
    # Frame 51 as a 4 s still (two detection passes), through the label path as `bench people` runs it. Without the
    # join, one labelled student was listed twice (26 persons, 23 students found: measured); with it, once (25
    # persons), and the same students are found.
    from pipelines import bench_people, label, options
    from poseact.data.annotations import read_yolo
    from poseact.label import rules
    from poseact.pose import pose_model

    frame = next(f for f in read_yolo(str(CCTV)) if f.key == "51")
    rgb = cv2.cvtColor(cv2.imread(frame.path), cv2.COLOR_BGR2RGB)
    label_args = options.label_parser().parse_args(["--input", "-", "--model", "rules", "--output", "-"])
    label_options = label._options(label_args, rules.card())
    buffer = pose_model.resolve(label._pose_model_spec(label_args)).path.read_bytes()

    def scored() -> dict:
        persons, _ = bench_people.label_frame(rgb, 4.0, label_options, buffer, str(tmp_path))
        return bench_people.totals([bench_people.score_frame(frame.boxes, frame.labels, persons)])

    joined = scored()
    monkeypatch.setattr(shadows, "SAME_HEAD", 0.0)
    apart = scored()
    assert joined["found"] == apart["found"] >= 0.8 * joined["labelled"]
    assert joined["found_twice"] < apart["found_twice"] or joined["on_no_head"] < apart["on_no_head"]
    assert joined["persons"] < apart["persons"]
