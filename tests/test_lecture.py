"""Chunk planning, window cutting and cross-chunk stitching on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poseact.label import lecture
from poseact.pose.video import Chunk, plan_chunks


def test_plan_chunks_covers_the_video_and_overlaps():
    chunks = plan_chunks(150.0, 60.0, 4.2)
    assert [(c.index, c.start_s, c.end_s) for c in chunks] == [(0, 0.0, 60.0), (1, 60.0, 120.0), (2, 120.0, math.inf)]
    assert chunks[0].read_end_s == pytest.approx(64.2)
    assert math.isinf(chunks[-1].read_end_s)
    assert len(plan_chunks(0.0, 60.0, 4.0)) == 1
    assert len(plan_chunks(120.0, 60.0, 4.0)) == 2
    with pytest.raises(ValueError):
        plan_chunks(10.0, 0.0, 1.0)


def _pose(chunk: Chunk, times_ms: np.ndarray, tracks: dict[int, tuple[np.ndarray, np.ndarray]]) -> lecture.ChunkPose:
    """A ChunkPose whose tracks are boxes (x0, y0, x1, y1) per frame, with simple upright skeletons inside."""
    out = {}
    for track, (boxes, detected) in tracks.items():
        landmarks = np.zeros((len(times_ms), 33, 5), np.float32)
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            cx = (x0 + x1) / 2 / 640
            landmarks[i, :, 0] = cx
            landmarks[i, :, 1] = (y0 + y1) / 2 / 480
            landmarks[i, 11, 0], landmarks[i, 12, 0] = cx + 0.05, cx - 0.05  # shoulders
            landmarks[i, :, 3] = 1.0
        out[track] = (landmarks, detected.astype(bool), boxes.astype(np.float32))
    return lecture.ChunkPose(chunk, times_ms, out, 640, 480, {}, np.zeros(len(times_ms), np.int64))


def test_window_starts_follow_a_global_grid_inside_the_owned_span():
    config = lecture.WindowConfig(fps=10.0, max_frames=20, stride_s=1.0)
    times = np.arange(50.0, 96.0, 0.1) * 1000  # chunk reads 50 s .. 96 s at 10 fps
    chunk = Chunk(1, 50.0, 90.0, 96.0)
    starts = lecture.window_starts(times, chunk, config)
    assert [round(times[i] / 1000, 3) for i in starts][:3] == [50.0, 51.0, 52.0]
    # Windows need 20 frames (2 s) after their start, so the last start is 89 s (reads to 96 s).
    assert round(times[starts[-1]] / 1000, 3) == 89.0
    last = Chunk(2, 90.0, math.inf, math.inf)
    tail = np.arange(90.0, 93.0, 0.1) * 1000
    starts_last = lecture.window_starts(tail, last, config)
    # At the video's end half a window (10 frames) is enough: starts at 90, 91, 92 s? 92 s has 10 frames left.
    assert [round(tail[i] / 1000, 3) for i in starts_last] == [90.0, 91.0, 92.0]


def test_windows_skip_people_mostly_out_of_view_and_are_normalised():
    config = lecture.WindowConfig(fps=10.0, max_frames=10, stride_s=1.0, min_detected=0.5)
    times = np.arange(0.0, 3.0, 0.1) * 1000
    boxes = np.tile([100.0, 100.0, 200.0, 300.0], (len(times), 1))
    seen = np.ones(len(times), bool)
    rarely = np.zeros(len(times), bool)
    rarely[::5] = True  # 2 of every 10 frames
    pose = _pose(Chunk(0, 0.0, math.inf, math.inf), times, {0: (boxes, seen), 1: (boxes + 300, rarely)})
    out = list(lecture.windows(pose, config))
    assert {w.track for w in out} == {0}
    assert [w.start_s for w in out] == [0.0, 1.0, 2.0]
    assert out[0].end_s == pytest.approx(1.0)
    assert out[0].pose.shape == (10, 24, 3) and out[0].frame_mask.tolist() == [1] * 10


def _boundary(track_boxes: dict[int, dict[int, list[float]]], part: str) -> dict:
    return {"head": track_boxes if part == "head" else {}, "tail": track_boxes if part == "tail" else {}}


def test_stitch_keeps_one_id_across_a_chunk_boundary():
    t = range(60000, 64000, 200)
    a, b = [10, 10, 110, 210], [400, 20, 500, 220]
    chunk0 = {"index": 0, "tracks": [0, 1], "boundary": _boundary({0: {ms: a for ms in t}, 1: {ms: b for ms in t}}, "tail")}
    # In the next chunk the same two people got the local ids in the other order, plus a newcomer.
    moved_b = [402, 22, 502, 222]
    chunk1 = {"index": 1, "tracks": [0, 1, 2],
              "boundary": _boundary({0: {ms: moved_b for ms in t}, 1: {ms: a for ms in t}}, "head")}
    chunk2 = {"index": 2, "tracks": [0], "boundary": _boundary({0: {ms: a for ms in range(120000, 124000, 200)}}, "head")}
    chunk1["boundary"]["tail"] = {1: {ms: a for ms in range(120000, 124000, 200)}}
    mapping = lecture.stitch([chunk2, chunk0, chunk1])  # any order in
    assert mapping[(0, 0)] == mapping[(1, 1)] == mapping[(2, 0)] == 0
    assert mapping[(0, 1)] == mapping[(1, 0)] == 1
    assert mapping[(1, 2)] == 2


def test_stitch_does_not_join_different_people_or_too_few_frames():
    t = list(range(0, 4000, 200))
    chunk0 = {"index": 0, "tracks": [0], "boundary": _boundary({0: {ms: [0, 0, 100, 100] for ms in t}}, "tail")}
    far = {"index": 1, "tracks": [0], "boundary": _boundary({0: {ms: [300, 300, 400, 400] for ms in t}}, "head")}
    assert lecture.stitch([chunk0, far]) == {(0, 0): 0, (1, 0): 1}
    brief = {"index": 1, "tracks": [0], "boundary": _boundary({0: {t[0]: [0, 0, 100, 100]}}, "head")}
    assert lecture.stitch([chunk0, brief]) == {(0, 0): 0, (1, 0): 1}


def test_track_stats_count_owned_frames_once():
    times = np.arange(0.0, 14.0, 1.0) * 1000
    chunk = Chunk(0, 0.0, 10.0, 14.0)
    boxes = np.tile([0.0, 0.0, 10.0, 20.0], (len(times), 1))
    pose = _pose(chunk, times, {0: (boxes, np.ones(len(times), bool))})
    stats = lecture.track_stats(pose)
    assert stats[0]["frames"] == 10 and stats[0]["first_s"] == 0.0 and stats[0]["last_s"] == 9.0
    mapping = {(0, 0): 0, (1, 0): 0}
    rows = lecture.merge_track_stats(
        [{"index": 0, "stats": {"0": stats[0]}}, {"index": 1, "stats": {"0": {**stats[0], "first_s": 10.0, "last_s": 19.0}}}],
        mapping)
    assert rows == [{"person": 0, "first_s": 0.0, "last_s": 19.0, "frames": 20,
                     "box_x0": 0.0, "box_y0": 0.0, "box_x1": 10.0, "box_y1": 20.0}]


def test_fill_skipped_interpolates_between_posed_frames_where_the_person_was_found():
    posed = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0], bool)
    detected = np.array([1, 0, 1, 0, 0, 0, 0, 1, 0], bool)  # lost at the third posed frame
    landmarks = np.zeros((9, 33, 5), np.float32)
    boxes = np.zeros((9, 4), np.float32)
    for i in np.flatnonzero(detected):
        landmarks[i] = i
        boxes[i] = 10 * i
    lecture.fill_skipped(posed, landmarks, detected, boxes)
    assert detected.tolist() == [1, 1, 1, 0, 0, 0, 0, 1, 0]  # no guess next to a miss, nor after the end
    assert np.allclose(landmarks[1], 1.0) and np.allclose(boxes[1], 10.0)
    assert not landmarks[3].any() and not landmarks[8].any()


def test_plan_chunks_balanced_over_workers():
    """180 s in 60 s chunks on 2 workers: 4 equal chunks (2 each), not 3 (one worker idle for a third)."""
    chunks = plan_chunks(180.0, 60.0, 4.2, workers=2)
    assert [(c.start_s, c.end_s) for c in chunks] == [(0.0, 45.0), (45.0, 90.0), (90.0, 135.0), (135.0, math.inf)]
    assert chunks[0].read_end_s == pytest.approx(49.2)
    assert len(plan_chunks(240.0, 60.0, 4.2, workers=2)) == 4  # already a multiple: unchanged
    assert len(plan_chunks(20.0, 60.0, 2.0, workers=2)) == 2  # a short video still keeps both busy
    assert len(plan_chunks(6.0, 60.0, 4.2, workers=2)) == 1  # ... unless a chunk would be mostly overlap


def test_windows_carry_the_hand_motion_of_their_frames():
    config = lecture.WindowConfig(fps=10.0, max_frames=10, stride_s=1.0, min_detected=0.5)
    times = np.arange(0.0, 3.0, 0.1) * 1000
    boxes = np.tile([100.0, 100.0, 200.0, 300.0], (len(times), 1))
    seen = np.ones(len(times), bool)
    seen[3] = False  # not found in one frame: its motion says nothing about the person
    pose = _pose(Chunk(0, 0.0, math.inf, math.inf), times, {0: (boxes, seen)})
    pose.hand_motion[0] = np.arange(len(times), dtype=np.float32) / 100
    first = next(lecture.windows(pose, config))
    assert first.hand_motion.shape == (10,)
    assert np.isnan(first.hand_motion[3])
    assert first.hand_motion[[0, 1, 9]].tolist() == pytest.approx([0.0, 0.01, 0.09])
    pose.hand_motion.clear()  # a chunk without the hands' pixels: no motion, not zeros
    assert next(lecture.windows(pose, config)).hand_motion is None


def test_windows_of_a_class_chunk_carry_the_crowd_flag_to_the_model_input():
    config = lecture.WindowConfig(fps=10.0, max_frames=10, stride_s=1.0, min_detected=0.5)
    times = np.arange(0.0, 2.0, 0.1) * 1000
    boxes = np.tile([100.0, 100.0, 200.0, 300.0], (len(times), 1))
    pose = _pose(Chunk(0, 0.0, math.inf, math.inf), times, {0: (boxes, np.ones(len(times), bool))})
    few = next(lecture.windows(pose, config))
    pose.tracking["class_chunks"] = 1  # the chunk was found and followed as a class
    crowd = next(lecture.windows(pose, config))
    assert not few.crowd and crowd.crowd
    # A trained model reads x, y, visibility and the frame mask; the rules read the motion and the flag too.
    assert lecture.model_input(few).shape == (10, 24, 6)
    assert np.all(lecture.model_input(few)[..., 5] == 0.0) and np.all(lecture.model_input(crowd)[..., 5] == 1.0)
    assert np.array_equal(lecture.model_input(few)[..., :4], lecture.model_input(crowd)[..., :4])
