"""poseact.people.heads: persons matched to labelled head boxes by their face landmarks."""

import numpy as np

from poseact.people.heads import FACE, head_point, match_heads

HEADS = np.array([[100, 100, 140, 150], [160, 100, 200, 150], [400, 300, 440, 350]], np.float32)


def test_head_point_is_the_median_of_the_face_landmarks_whatever_their_visibility():
    landmarks = np.zeros((33, 5), np.float32)
    landmarks[list(FACE), :2] = [0.25, 0.5]
    landmarks[0, :2] = [0.9, 0.9]  # one face landmark flung off does not move the median
    landmarks[11:, :2] = [0.6, 0.9]  # the body does not count
    landmarks[:, 3] = 0.1  # a head seen from behind: low visibility, still placed on the head
    assert np.allclose(head_point(landmarks, 400, 200), [100, 100])


def test_one_person_per_head_and_one_head_per_person():
    points = np.array([[120, 125], [181, 124], [420, 330]], np.float32)
    match = match_heads(HEADS, points)
    assert sorted(match.pairs) == [(0, 0), (1, 1), (2, 2)]
    assert match.doubles == [] and match.unmatched == [] and match.outside == []


def test_a_bowed_head_just_below_its_box_is_still_its_student():
    # The face centre of a head bent over a book lies low: 10 px below a 50 px tall box is inside the 25% margin.
    assert match_heads(HEADS[:1], np.array([[120, 160]], np.float32)).pairs == [(0, 0)]
    assert match_heads(HEADS[:1], np.array([[120, 175]], np.float32)).pairs == []


def test_two_persons_on_one_head_are_a_student_found_twice():
    points = np.array([[118, 122], [124, 130], [181, 124]], np.float32)
    match = match_heads(HEADS, points)
    assert match.doubles == [0]
    assert len(match.pairs) == 2 and len(match.unmatched) == 1 and match.outside == []


def test_persons_on_no_head_inside_and_outside_the_labelled_rows():
    points = np.array([[300, 200], [900, 800]], np.float32)  # between the rows; far off at the front desk
    match = match_heads(HEADS, points)
    assert match.pairs == [] and match.unmatched == [0, 1] and match.outside == [1]


def test_no_heads_or_no_persons():
    assert match_heads(np.zeros((0, 4)), np.array([[1, 1]], np.float32)).outside == [0]
    match = match_heads(HEADS, np.zeros((0, 2)))
    assert match.pairs == [] and match.unmatched == [] and match.doubles == []
