"""Pictures of people: which frames are chosen, that exactly those frames are decoded, and how they are cut."""

from __future__ import annotations

import cv2
import numpy as np

from poseact.demo import clips as demo
from poseact.label import snapshots
from poseact.label.lecture import ChunkPose
from poseact.label.segments import Segment
from poseact.pose import video

RAISE_COLOUR = (255, 200, 0)


def _pose(detected_1: np.ndarray) -> ChunkPose:
    """A 3 s chunk read to 3.6 s at 5 frames/s: person 0 always found, person 1 where `detected_1`."""
    times = np.arange(0, 3600, 200, dtype=np.float64)
    count = len(times)
    tracks = {}
    for track, found in ((0, np.ones(count, bool)), (1, detected_1)):
        landmarks = np.zeros((count, 33, 5), np.float32)
        landmarks[:, :11, 0] = 0.2 + 0.4 * track + np.linspace(0, 0.05, 11)
        landmarks[:, :11, 1] = 0.3
        boxes = np.tile(np.array([100 + 400 * track, 50, 300 + 400 * track, 400], np.float32), (count, 1))
        boxes[:, 0] += times / 100  # the box drifts: each second's box differs
        tracks[track] = (landmarks, found, boxes)
    return ChunkPose(video.Chunk(0, 0.0, 3.0, 3.6), times, tracks, 1000, 500, {}, np.full(count, 2))


def test_one_sample_per_owned_second_with_everyone_found_then():
    detected = np.ones(18, bool)
    detected[5] = False  # person 1 not found at 1000 ms
    samples = snapshots.sample_people(_pose(detected))
    assert [s["t_ms"] for s in samples] == [0.0, 1000.0, 2000.0]  # 3000 ms is the next chunk's
    assert sorted(samples[1]["people"]) == ["0"] and sorted(samples[0]["people"]) == ["0", "1"]
    box_and_face = samples[0]["people"]["1"]
    assert box_and_face[:4] == [500.0, 50.0, 700.0, 400.0] and len(box_and_face) == 8
    assert box_and_face[4] < 600 * 1.0 < box_and_face[6]  # the face box is around the face points (x 0.6..0.65)
    assert all(len(v) == 4 for v in snapshots.sample_people(_pose(detected), faces=False)[0]["people"].values())


def test_samples_get_global_ids_and_pictures_their_frames():
    chunks = [{"index": 0, "samples": snapshots.sample_people(_pose(np.ones(18, bool)))},
              {"index": 1, "samples": [{"t_ms": 3000.0, "people": {"0": [1, 2, 3, 4]}}]}]
    samples = snapshots.people_by_time(chunks, {(0, 0): 0, (0, 1): 1, (1, 0): 1})
    assert list(samples) == [0.0, 1000.0, 2000.0, 3000.0] and samples[3000.0] == {1: [1, 2, 3, 4]}
    tracks = [{"person": 0, "box_x0": 110.0, "box_y0": 50.0, "box_x1": 310.0, "box_y1": 400.0}]
    raises = [Segment(0, 0.0, 2.5, "hand_raise", 0.9), Segment(0, 2.5, 3.0, "writing", 0.9),
              Segment(1, 2.9, 3.0, "hand_raise", 0.9)]  # person 1: no sample inside its raise
    plan = snapshots.plan_pictures(samples, tracks, raises)
    assert plan.thumbnails == {0: 1000.0}  # the box at 1 s is the mean box
    assert plan.raises == [(raises[0], 1000.0)]  # the sample nearest the middle (1.25 s)


def test_action_kinds_whatever_the_model_calls_them():
    assert [snapshots.action_kind(a) for a in ("hand_raise", "Raise", "raising_hand", "writing", "read", "other")] == [
        "hand_raise", "hand_raise", "hand_raise", "writing", "reading", None]


def test_read_frames_gives_exactly_the_sampled_frames(tmp_path):
    path = str(tmp_path / "count.mp4")
    demo.write_video(path, [np.full((64, 96, 3), 20 * i, np.uint8) for i in range(10)], 10.0)
    info = video.probe(path)
    times = [f.timestamp_ms for f in video.iter_frames(path, 5.0)]
    frames = snapshots.read_frames(path, info, [times[1], times[3], 123456.0])
    assert sorted(frames) == [times[1], times[3]]  # a time with no frame is left out
    assert abs(frames[times[1]].mean() - 40) < 4 and abs(frames[times[3]].mean() - 120) < 4


def _scene() -> tuple[np.ndarray, dict[int, list[float]]]:
    rgb = np.random.default_rng(0).integers(0, 255, (400, 800, 3), dtype=np.uint8)  # all detail, like a face
    return rgb, {0: [100, 50, 300, 390, 150, 60, 250, 160], 1: [500, 50, 700, 390, 550, 60, 650, 160]}


def test_thumbnail_is_the_person_and_blurs_faces_on_request():
    rgb, people = _scene()
    plain = snapshots.thumbnail(rgb, people[0][:4], people, blur_faces=False)
    blurred = snapshots.thumbnail(rgb, people[0][:4], people, blur_faces=True)
    assert plain[:2] == b"\xff\xd8" and snapshots.thumbnail(rgb, people[0][:4], people, False) == plain
    a, b = (cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_GRAYSCALE) for x in (plain, blurred))
    assert a.shape[0] == snapshots.THUMB_HEIGHT and a.shape[1] < snapshots.THUMB_HEIGHT  # a standing crop
    face = (slice(int(0.15 * a.shape[0]), int(0.3 * a.shape[0])), slice(int(0.35 * a.shape[1]), int(0.65 * a.shape[1])))
    assert b[face].std() < 0.3 * a[face].std()  # the face (y 60-160, x 150-250 of the frame) is smooth when blurred
    assert abs(float(b[-20:].std()) - float(a[-20:].std())) < 10  # the body is not


def test_snapshot_boxes_the_person_among_the_neighbours():
    rgb = np.zeros((400, 800, 3), np.uint8)
    _, people = _scene()
    shot = cv2.cvtColor(cv2.imdecode(np.frombuffer(snapshots.snapshot(rgb, people[1][:4], people, True), np.uint8),
                                     cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert shot.shape[1] <= snapshots.SNAPSHOT_WIDTH
    boxed = np.all(np.abs(shot.astype(int) - RAISE_COLOUR) < 60, axis=2)
    assert boxed.sum() > 100  # the person's box is drawn
    rows = np.flatnonzero(boxed.any(axis=1))
    assert rows.min() > 0 or rows.max() < shot.shape[0] - 1  # around the person, not the frame edge
