"""poseact.label.segments on hand-made window sequences: windows 2 s long every 1 s unless a test says otherwise."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from poseact.label.segments import UNKNOWN, Segment, Window, person_summary, smooth_probs, to_segments

CLASSES = ("raising_hand", "writing", "reading")
RAISE = (0.95, 0.03, 0.02)
WRITE = (0.05, 0.9, 0.05)
READ = (0.1, 0.1, 0.8)
UNSURE = (0.4, 0.35, 0.25)


def windows(*probs: tuple[float, ...], starts: list[float] | None = None, length: float = 2.0) -> list[Window]:
    """One window per score vector, starting at 0, 1, 2... s (or at `starts`)."""
    starts = list(range(len(probs))) if starts is None else starts
    return [Window(float(s), float(s) + length, p) for s, p in zip(starts, probs)]


def test_smooth_probs_centred_average_shrinking_at_the_edges():
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    got = smooth_probs(probs, 3)
    np.testing.assert_allclose(got[:, 0], [0.5, 2 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_smooth_probs_window_one_is_an_unchanged_copy():
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    got = smooth_probs(probs, 1)
    np.testing.assert_array_equal(got, probs)
    got[0, 0] = 7.0
    assert probs[0, 0] == 1.0


def test_smooth_probs_rejects_one_dimensional_input():
    with pytest.raises(ValueError, match=r"must be an \(N, C\) array"):
        smooth_probs(np.array([0.5, 0.5]), 3)


def test_constant_action_is_one_segment_from_first_start_to_last_end():
    got = to_segments(7, windows(*[WRITE] * 5), CLASSES)
    assert got == [Segment(7, 0.0, 6.0, "writing", 0.9)]


def test_switch_between_actions_cuts_at_the_midpoint_between_window_centres():
    got = to_segments(0, windows(*[WRITE] * 4, *[READ] * 4), CLASSES, smooth=1)
    # Last writing window [3, 5] (centre 4), first reading window [4, 6] (centre 5): cut at 4.5.
    assert got == [Segment(0, 0.0, 4.5, "writing", 0.9), Segment(0, 4.5, 9.0, "reading", 0.8)]


def test_low_confidence_windows_become_unknown_with_mean_max_confidence():
    got = to_segments(0, windows(*[WRITE] * 3, *[UNSURE] * 3, *[WRITE] * 3), CLASSES, smooth=1)
    assert [(s.action, s.start_s, s.end_s) for s in got] == [
        ("writing", 0.0, 3.5), (UNKNOWN, 3.5, 6.5), ("writing", 6.5, 10.0)]
    assert got[1].confidence == 0.4


def test_custom_unknown_label_and_threshold():
    assert to_segments(0, windows(*[UNSURE] * 3), CLASSES, unknown="?")[0].action == "?"
    assert to_segments(0, windows(*[UNSURE] * 3), CLASSES, threshold=0.4)[0].action == "raising_hand"


def test_smoothing_removes_a_single_window_flicker():
    flicker = windows(*[WRITE] * 3, READ, *[WRITE] * 3)
    smoothed = to_segments(0, flicker, CLASSES, smooth=3)
    assert [(s.action, s.start_s, s.end_s) for s in smoothed] == [("writing", 0.0, 8.0)]
    # Smoothed writing scores: 0.9 0.9 0.633 0.633 0.633 0.9 0.9, mean 0.786.
    assert smoothed[0].confidence == 0.786
    raw = to_segments(0, flicker, CLASSES, smooth=1)
    assert [(s.action, s.start_s, s.end_s) for s in raw] == [
        ("writing", 0.0, 3.5), ("reading", 3.5, 4.5), ("writing", 4.5, 8.0)]


def test_tracking_gap_splits_segments_and_ends_them_at_the_windows():
    got = to_segments(0, windows(*[WRITE] * 6, starts=[0, 1, 2, 10, 11, 12]), CLASSES)
    assert [(s.action, s.start_s, s.end_s) for s in got] == [("writing", 0.0, 4.0), ("writing", 10.0, 14.0)]


def test_one_missing_window_does_not_split():
    got = to_segments(0, windows(*[WRITE] * 5, starts=[0, 1, 2, 4, 5]), CLASSES)
    assert [(s.start_s, s.end_s) for s in got] == [(0.0, 7.0)]


def test_smoothing_does_not_reach_across_a_gap():
    # Across the gap, the reading window would be outvoted by its writing neighbours.
    got = to_segments(0, windows(*[WRITE] * 3, READ, starts=[0, 1, 2, 20]), CLASSES, smooth=3)
    assert [s.action for s in got] == ["writing", "reading"]


@pytest.mark.parametrize(("raise_prob", "expected"), [
    (0.7, [("writing", 0.0, 5.5), ("raising_hand", 5.5, 10.0)]),  # writing (0.9) is more confident
    (0.95, [("writing", 0.0, 4.5), ("raising_hand", 4.5, 10.0)]),  # raising_hand (0.95) is
])
def test_min_segment_absorbs_short_segments_into_the_more_confident_neighbour(raise_prob, expected):
    raising = (raise_prob, (1 - raise_prob) / 2, (1 - raise_prob) / 2)
    seq = windows(*[WRITE] * 4, READ, *[raising] * 4)
    assert len(to_segments(0, seq, CLASSES, smooth=1)) == 3
    got = to_segments(0, seq, CLASSES, smooth=1, min_segment_s=2.0)
    assert [(s.action, s.start_s, s.end_s) for s in got] == expected


def test_absorbed_segment_joins_equal_neighbours_and_confidence_counts_its_windows():
    got = to_segments(0, windows(*[WRITE] * 3, READ, *[WRITE] * 3), CLASSES, smooth=1, min_segment_s=1.5)
    # Writing probability over the 7 windows: six 0.9 and the reading window's 0.1.
    assert got == [Segment(0, 0.0, 8.0, "writing", round((6 * 0.9 + 0.1) / 7, 3))]


def test_a_short_run_alone_between_gaps_is_kept():
    got = to_segments(0, windows(*[WRITE] * 4, READ, starts=[0, 1, 2, 3, 30]), CLASSES, smooth=1,
                      min_segment_s=5.0)
    assert [(s.action, s.start_s, s.end_s) for s in got] == [("writing", 0.0, 5.0), ("reading", 30.0, 32.0)]


def test_shuffled_windows_give_the_same_segments():
    seq = windows(*[WRITE] * 5, *[UNSURE] * 2, *[READ] * 4, *[RAISE] * 3, READ, *[RAISE] * 4,
                  starts=[*range(11), *range(20, 28)])
    for min_segment_s in (0.0, 1.5):
        expected = to_segments(3, seq, CLASSES, min_segment_s=min_segment_s)
        assert len(expected) >= 3
        for seed in range(5):
            shuffled = list(seq)
            random.Random(seed).shuffle(shuffled)
            assert to_segments(3, shuffled, CLASSES, min_segment_s=min_segment_s) == expected


def test_no_windows_gives_no_segments():
    assert to_segments(0, [], CLASSES) == []


def test_wrong_number_of_probabilities_is_an_error():
    with pytest.raises(ValueError, match="has 2 probabilities for 3 classes"):
        to_segments(0, [Window(0.0, 2.0, (0.5, 0.5))], CLASSES)


def test_unknown_label_that_is_a_class_name_is_an_error():
    with pytest.raises(ValueError, match="is also a class name"):
        to_segments(0, windows(WRITE), CLASSES, unknown="writing")


def test_person_summary_counts_hand_raises_and_seconds_writing_and_reading():
    segments = [
        Segment(10, 5.0, 6.0, "raising_hand", 0.9),
        Segment(2, 0.0, 4.5, "writing", 0.9), Segment(2, 4.5, 6.0, "raising_hand", 0.9),
        Segment(2, 6.0, 9.25, "reading", 0.8), Segment(2, 9.25, 11.0, "raising_hand", 0.7),
        Segment(2, 11.0, 12.0, UNKNOWN, 0.4), Segment(2, 20.0, 22.0, "writing", 0.8),
    ]
    got = person_summary(segments, CLASSES)
    assert list(got) == ["2", "10"]
    assert got["2"] == {
        "person": 2,
        "seconds": {"raising_hand": 3.25, "writing": 6.5, "reading": 3.25, UNKNOWN: 1.0},
        "counts": {"raising_hand": 2, "writing": 2, "reading": 1, UNKNOWN: 1},
        "first_s": 0.0, "last_s": 22.0,
        "hand_raises": 2, "seconds_writing": 6.5, "seconds_reading": 3.25,
    }
    assert got["10"]["hand_raises"] == 1 and got["10"]["seconds_writing"] == 0.0
    assert json.loads(json.dumps(got)) == got


def test_person_summary_helper_keys_only_for_matching_classes():
    got = person_summary([Segment(0, 0.0, 1.0, "Hand_Up", 0.9)], ["Hand_Up", "sleeping"])["0"]
    assert got["hand_raises"] == 1
    assert "seconds_writing" not in got and "seconds_reading" not in got


def test_person_summary_rejects_actions_outside_the_classes():
    with pytest.raises(ValueError, match="'dancing' is not one of the classes"):
        person_summary([Segment(0, 0.0, 1.0, "dancing", 0.9)], CLASSES)
