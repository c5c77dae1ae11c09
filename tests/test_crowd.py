"""Who is found in classroom-like crowds (poseact.demo.crowd scenes, made from the demo's real photos).

Scenes of 8-10 people in 2-3 rows, behind desks and partly behind the people in front, heads 25-60 px,
at 480p and 720p. Every person must be tracked in most frames, once, under one id.
"""

import numpy as np
import pytest

from poseact.demo import crowd
from poseact.people.tracker import PeopleConfig, PeoplePoser, detection_grids, same_body
from poseact.pose import pose_model

SCENES = {
    "480p, 3 rows of 3, heads 25-45 px": (crowd.SIZES["480p"], 3, (3, 3, 3), (25, 45)),
    "720p, 3 rows of 3-4, heads 25-60 px": (crowd.SIZES["720p"], 3, (3, 4, 3), (25, 60)),
}


def test_detection_pyramid_reaches_the_smallest_head():
    grids = detection_grids(1280, 720, PeopleConfig())
    assert grids[0] == (1, 1) and grids[-1] == (7, 4)
    cols, rows = grids[-1]
    tile = 1280 / cols * (1 + 2 * PeopleConfig().tile_overlap)  # an inner tile, overlap included
    assert 24 * 224 / tile >= 18  # a 24 px head is at least 18 px in the detector's input
    assert detection_grids(1280, 720, PeopleConfig(grid=(2, 2))) == [(1, 1), (2, 2)]
    assert detection_grids(340, 256, PeopleConfig()) == [(1, 1), (2, 2)]


def _pose(nose, shoulder_l, shoulder_r, vis=0.9):
    points = np.zeros((33, 5), np.float32)
    for index, xy in ((0, nose), (2, (nose[0] + 0.01, nose[1] - 0.01)), (5, (nose[0] - 0.01, nose[1] - 0.01)),
                      (11, shoulder_l), (12, shoulder_r)):
        points[index, :2], points[index, 3] = xy, vis
    return points


def test_same_body_by_face_and_shoulders_not_by_box():
    a = _pose((0.5, 0.3), (0.55, 0.4), (0.45, 0.4))
    b = _pose((0.505, 0.305), (0.555, 0.41), (0.455, 0.4))  # the same person, a little apart
    c = _pose((0.62, 0.3), (0.67, 0.4), (0.57, 0.4))  # the neighbour, a shoulder width over
    assert same_body(a, b, 640, 480)
    assert not same_body(a, c, 640, 480)
    assert not same_body(a, _pose((0.5, 0.3), (0.55, 0.4), (0.45, 0.4), vis=0.1), 640, 480)  # nothing visible


@pytest.fixture(scope="module")
def model_buffer():
    with open(pose_model.resolve("full").path, "rb") as handle:
        return handle.read()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENES))
def test_everyone_tracked_once(name, model_buffer):
    size, rows, per_row, heads = SCENES[name]
    scene = crowd.make_scene(size, rows, per_row, heads, seed=1, seconds=3.0)
    observations = []
    with PeoplePoser(model_buffer, PeopleConfig()) as poser:
        for index, frame in enumerate(crowd.frames(scene)):
            seen = poser.process(frame, 1000.0 * index / scene.fps) or []
            observations.append([(o.track, o.box) for o in seen])
        detect, pose = poser.detection_seconds, poser.pose_seconds
    result = crowd.evaluate(scene, observations)
    print(name, result, f"detection share {detect / (detect + pose):.2f}")
    assert result["recall"] >= 0.95, result
    assert min(result["per_person"]) >= 0.8, result
    assert result["duplicates"] == 0 and result["id_switches"] == 0 and result["false_tracks"] == 0, result


def test_torso_box_holds_the_hands_in_front_not_the_face_behind():
    from poseact.people.tracker import torso_box

    points = np.zeros((33, 5), np.float32)
    points[11, :2], points[12, :2] = (0.6, 0.5), (0.4, 0.5)  # shoulders
    points[23, :2], points[24, :2] = (0.57, 0.9), (0.43, 0.9)  # hips, guessed under the desk
    box = torso_box(points, 100, 100)
    assert np.allclose(box, [35, 50, 65, 90])
    hands = np.array([45, 70, 55, 80])  # a phantom on the hands: inside
    face_behind = np.array([45, 30, 55, 45])  # a student behind: above the shoulders
    inside = lambda b: (min(b[2], box[2]) - max(b[0], box[0])) * (min(b[3], box[3]) - max(b[1], box[1])) > 0  # noqa: E731
    assert inside(hands) and not inside(face_behind)


@pytest.mark.slow
def test_ids_survive_chunk_boundaries(model_buffer, tmp_path):
    """The 720p scene as a video cut into chunks as `poseact label` cuts it (3 s chunks that read 2 s on):
    each chunk tracked on its own, ids joined across the boundaries by `lecture.stitch`. Every person keeps
    one id over the whole video, nobody is counted twice."""
    from poseact.label import lecture
    from poseact.pose.video import VideoLimits, plan_chunks, probe

    size, rows, per_row, heads = SCENES["720p, 3 rows of 3-4, heads 25-60 px"]
    scene = crowd.make_scene(size, rows, per_row, heads, seed=2, seconds=6.0)
    path = crowd.write(scene, str(tmp_path / "crowd.mp4"))
    limits = VideoLimits()
    info = probe(path, limits)
    windows = lecture.WindowConfig(fps=scene.fps, max_frames=int(scene.fps))
    chunks, poses = [], []
    for chunk in plan_chunks(info.duration_s, 3.0, windows.overlap_s):
        pose = lecture.pose_chunk(path, info, chunk, scene.fps, model_buffer, PeopleConfig(), limits)
        poses.append(pose)
        chunks.append({"index": chunk.index, "tracks": sorted(pose.tracks),
                       "boundary": lecture.boundary_boxes(pose, windows)})
    assert len(chunks) == 2
    mapping = lecture.stitch(chunks)
    observations: dict[int, list] = {}
    for pose in poses:
        for track, (_, detected, boxes) in pose.tracks.items():
            for index, t in enumerate(pose.times_ms):
                owned = t < 1000 * pose.chunk.end_s
                if detected[index] and owned:
                    frame = int(round(t * scene.fps / 1000))
                    observations.setdefault(frame, []).append((mapping[(pose.chunk.index, track)], boxes[index]))
    result = crowd.evaluate(scene, [observations.get(i, []) for i in range(int(scene.seconds * scene.fps))])
    print(result)
    assert result["recall"] >= 0.95, result
    assert result["duplicates"] == 0 and result["id_switches"] == 0, result
