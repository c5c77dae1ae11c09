"""Per-second agreement of a fast labelling path with --exact (poseact.label.path_agreement)."""

from poseact.label.path_agreement import pair_persons, per_second_agreement


def _track(person, x0):
    return {"person": person, "box_x0": x0, "box_y0": 0.0, "box_x1": x0 + 100.0, "box_y1": 100.0}


def _seg(person, start, end, action):
    return {"person": person, "start_s": start, "end_s": end, "action": action}


def test_persons_paired_by_box_and_seconds_compared():
    exact_tracks = [_track(0, 0.0), _track(1, 300.0)]
    fast_tracks = [_track(7, 310.0), _track(8, 5.0)]  # other ids, boxes a little apart
    assert pair_persons(exact_tracks, fast_tracks) == {0: 8, 1: 7}
    exact = [_seg(0, 0, 10, "reading"), _seg(1, 0, 10, "writing")]
    fast = [_seg(8, 0, 10, "reading"), _seg(7, 0, 8, "writing"), _seg(7, 8, 10, "reading")]
    result = per_second_agreement(exact, exact_tracks, fast, fast_tracks, 10.0)
    assert result["agreement"] == 0.9 and result["seconds"] == 20 and result["paired"] == 2
    assert result["per_person"] == {"0": 1.0, "1": 0.8}


def test_a_person_missing_from_either_path_disagrees():
    exact_tracks = [_track(0, 0.0)]
    fast_tracks = [_track(0, 0.0), _track(1, 600.0)]  # the fast path found someone extra
    exact = [_seg(0, 0, 4, "reading")]
    fast = [_seg(0, 0, 4, "reading"), _seg(1, 0, 2, "hand_raise")]
    result = per_second_agreement(exact, exact_tracks, fast, fast_tracks, 4.0)
    assert result["seconds"] == 6 and result["agreement"] == round(4 / 6, 3)
    assert per_second_agreement(exact, exact_tracks, [], [], 4.0)["agreement"] == 0.0
