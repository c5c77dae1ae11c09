"""`poseact bench people`: the label path scored against head boxes, on a made crowd and on a real classroom frame."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipelines import bench_people
from poseact.demo import crowd
from tests.classroom_frames import CCTV, frame_image, linked_set


@pytest.mark.parametrize("width, bucket", [(21, "<30"), (30, "30-45"), (44.9, "30-45"), (59, "45-60"), (92, ">=60")])
def test_size_buckets(width, bucket):
    assert bench_people.size_bucket(width) == bucket


@pytest.mark.parametrize("label, read, right", [("down", "reading", True), ("down", "writing", True),
                                                ("down", "other", False), ("up", "other", True),
                                                ("lookaround", "hand_raise", True), ("up", "reading", False),
                                                ("phone", "reading", None)])
def test_what_counts_as_read_right(label, read, right):
    assert bench_people.action_right(label, read) is right


def test_totals_count_every_head_once():
    heads = np.array([[0, 0, 40, 40], [100, 0, 125, 30], [300, 0, 370, 70]], np.float32)
    persons = [{"head": (20, 20), "action": "reading"}, {"head": (112, 15), "action": "hand_raise"},
               {"head": (114, 16), "action": "other"}, {"head": (200, 30), "action": "other"}]
    frame = bench_people.score_frame(heads, ("down", "lookaround", "up"), persons)
    totals = bench_people.totals([frame])
    assert (totals["labelled"], totals["found"], totals["persons"]) == (3, 2, 4)
    assert totals["recall_by_head_px"] == {"<30": {"found": 1, "labelled": 1, "recall": 1.0},
                                           "30-45": {"found": 1, "labelled": 1, "recall": 1.0},
                                           ">=60": {"found": 0, "labelled": 1, "recall": 0.0}}
    assert totals["found_twice"] == 1 and totals["on_no_head"] == 2 and totals["outside_labelled"] == 0
    assert totals["down_vs_up_right"] == 1.0 and totals["false_raises"] == 1  # lookaround read as a raise


def _yolo(folder: Path, rgb: np.ndarray, boxes: list, name: str = "frame") -> None:
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "classes.txt").write_text("up\n")
    cv2.imwrite(str(folder / "images" / f"{name}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    height, width = rgb.shape[:2]
    (folder / "labels" / f"{name}.txt").write_text("".join(
        f"0 {(x0 + x1) / 2 / width} {(y0 + y1) / 2 / height} {(x1 - x0) / width} {(y1 - y0) / height}\n"
        for x0, y0, x1, y1 in boxes))


def test_a_made_crowd_frame_end_to_end(tmp_path, capsys):
    scene = crowd.make_scene((854, 480), 2, (4, 4), (36.0, 48.0), seed=1, seconds=1.0)
    _yolo(tmp_path / "set", next(crowd.frames(scene)), [p.head for p in scene.people])
    assert bench_people.main(["--boxes", str(tmp_path / "set"), "--output", str(tmp_path / "out")]) == 0
    totals = json.loads((tmp_path / "out" / "people.json").read_text())["totals"]
    assert totals["labelled"] == 8
    # The made crowds are found whole by today's finder (tests/test_crowd.py): the scorer must see that too.
    assert totals["found"] >= 7 and totals["found_twice"] == 0 and totals["on_no_head"] <= 1
    assert (tmp_path / "out" / "frames" / "frame.png").exists()
    assert "students found" in capsys.readouterr().out


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_real_classroom_frame(tmp_path):
    folder = linked_set(tmp_path / "set", [frame_image("108")])
    assert bench_people.main(["--boxes", str(folder), "--output", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "people.json").read_text())
    totals, heads = report["totals"], report["frames"][0]["heads"]
    assert totals["labelled"] == len(heads) == 23
    # Found students are matched one-to-one; each found one has an action read.
    assert totals["found"] == sum(h["found"] for h in heads) <= totals["persons"]
    assert all(h["read"] for h in heads if h["found"])
    # A class (`--finder auto` takes the classroom finder's path): most students found; MediaPipe's landmarker alone
    # found 0.23 of the dev frames' students.
    assert totals["found"] >= 0.6 * 23
    assert set(totals["refused_by_rule"]) <= {"duplicate", "inside_body", "jump", "left_seat", "on_arm", "same_person",
                                              "too_small", "upside_down"}


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_collapsed_pose_on_a_real_student_reads_no_raise(tmp_path, monkeypatch):
    """Real frame 71, a 4 s still: on the student bent over a desk (head box 366-418 x 255-318, labelled `down`) the
    landmark model collapses a pose onto a line after about 1.5 s, its shoulders 3-4 px apart and its arms stacked
    above them. Nobody raises a hand on the frame. Rules v6 read no raise there (the face is taller than the shoulders
    are wide); without that rule (`FACE_MAX` infinite) the same poses read as a hand raise."""
    from poseact.data.annotations import read_yolo  # noqa: PLC0415
    from poseact.label import rules  # noqa: PLC0415

    folder = linked_set(tmp_path / "set", [frame_image("71")])
    boxes = read_yolo(folder)[0].boxes
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    student = int(np.argmin(np.hypot(centres[:, 0] - 392, centres[:, 1] - 286)))
    posed = []
    pose_video = bench_people.pose_video

    def pose_once(*args, **kwargs):  # the rules change between the two runs, the poses do not: pose the still once
        if not posed:
            posed.append(pose_video(*args, **kwargs))
        return posed[0]

    monkeypatch.setattr(bench_people, "pose_video", pose_once)

    def read(out: str) -> tuple[dict, list[str]]:
        assert bench_people.main(["--boxes", str(folder), "--output", str(tmp_path / out), "--seconds", "4"]) == 0
        heads = json.loads((tmp_path / out / "people.json").read_text())["frames"][0]["heads"]
        return heads[student], [h["read"] for h in heads]

    head, reads = read("v6")
    assert head["found"] and head["read"] != "hand_raise", head
    monkeypatch.setattr(rules, "FACE_MAX", np.inf)
    head_before, reads_before = read("without")
    assert head_before["read"] == "hand_raise", head_before
    # Nothing else on the frame changes: the rule silences only poses whose shoulders cannot measure them.
    assert [r for i, r in enumerate(reads) if i != student] == [r for i, r in enumerate(reads_before) if i != student]


def test_refusals_are_sorted_into_students_and_phantoms():
    heads = np.array([[0, 0, 40, 40], [100, 0, 140, 40]], np.float32)
    refusals = [("jump", 20, 20), ("jump", 21, 19), ("jump", 120, 20), ("on_arm", 300, 300), ("on_arm", 302, 301),
                ("on_arm", 500, 300)]
    # Head 0 was found: a jump refused on it refused a second view; head 1 was missed: that jump cost a student.
    assert bench_people.score_refusals(heads, {0}, refusals) == {
        "jump": {"missed": 1, "found": 1, "no_head": 0}, "on_arm": {"missed": 0, "found": 0, "no_head": 2}}
    frames = [{"heads": [], "persons": 0, "on_no_head": 0, "outside_labelled": 0,
               "refused": bench_people.score_refusals(heads, {0}, refusals)}] * 2
    assert bench_people.totals(frames)["refused_by_rule"]["on_arm"]["no_head"] == 4


def test_pan_frames_move_across_the_frame():
    rgb = np.zeros((101, 400, 3), np.uint8)
    frames, lefts = bench_people.pan_frames(rgb, 5)
    assert [f.shape for f in frames] == [(100, 300, 3)] * 5 and lefts.tolist() == [0, 25, 50, 75, 100]


class _Pose:
    """A chunk's tracks as `poseact.label.lecture.pose_chunk` gives them, for two frames of a pan."""

    def __init__(self, tracks):
        self.width, self.height, self.times_ms, self.tracks = 300, 100, np.array([0.0, 66.7]), tracks


def _at(x, y, width=300, height=100):
    landmarks = np.zeros((33, 5), np.float32)
    landmarks[:11, :2] = [x / width, y / height]
    return landmarks


def test_tracks_per_student_counts_every_id_a_student_carried():
    heads = np.array([[20, 20, 40, 40], [120, 20, 140, 40], [390, 20, 410, 40]], np.float32)  # the third: off view
    lefts = np.array([0, 10])
    # Student 0 keeps id 7; student 1 is id 8, then id 9 (lost and found again as a new track).
    tracks = {7: (np.stack([_at(30, 30), _at(20, 30)]), np.array([True, True]), None),
              8: (np.stack([_at(130, 30), _at(0, 0)]), np.array([True, False]), None),
              9: (np.stack([_at(0, 0), _at(120, 30)]), np.array([False, True]), None)}
    result = bench_people.tracks_per_student(heads, lefts, _Pose(tracks))
    assert result == {"students_tracked": 2, "tracks": 3, "tracks_per_student": 1.5}


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_made_class_carries_its_labelled_heads(tmp_path):
    from poseact.data.annotations import read_yolo

    video = str(tmp_path / "class.mp4")
    made = bench_people.write_class_video(str(CCTV), video, seconds=0.2)
    heads = json.loads(Path(made["heads"]).read_text())
    assert len(heads) == made["labelled_students"] == 41
    # Each head lands on the same pixels in the made scene as in its real frame.
    frames = read_yolo(str(CCTV))
    first = cv2.imread(frames[0].path)
    scene = cv2.VideoCapture(video).read()[1]
    x0, y0, x1, y1, label = heads[0]
    original = [b for b, lab in zip(frames[0].boxes, frames[0].labels) if lab == label and abs(b[0] - x0) < 1e-3][0]
    crop = scene[int(y0):int(y1), int(x0):int(x1)].astype(float)
    real = first[int(original[1]):int(original[3]), int(original[0]):int(original[2])].astype(float)
    assert crop.shape == real.shape and np.abs(crop - real).mean() < 12  # the codec's loss only


@pytest.mark.slow
@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_still_class_keeps_one_id_per_student(tmp_path):
    """The made class of 41 (two real frames) held still for 20 s, ten detection passes, through the label path's
    finding and following: at most 1.2 ids per student tracked (issue 21's goal). Followers that slid onto a
    neighbour, or left their student to come back under a new id at the next pass, gave 1.34 (1.12 over the first
    10 s); restarting a student whose face leaves their finder box (`PeoplePoser._left_seat`) gives 1.06."""
    from pipelines import bench_label, label
    from poseact.pose import pose_model

    video = str(tmp_path / "class.mp4")
    made = bench_people.write_class_video(str(CCTV), video, seconds=20.0)
    heads = np.array([h[:4] for h in json.loads(Path(made["heads"]).read_text())], np.float32)
    args = label.build_parser().parse_args(["--input", video, "--model", "rules", "--output", "-"])
    people = label._options(args, {"fps": 15.0, "max_frames": 15}).people
    _, pose = bench_label.bare_loop(video, 20.0, 15.0, str(pose_model.resolve("full").path), people)
    result = bench_people.tracks_per_student(heads, np.zeros(len(pose.times_ms), int), pose)
    assert result["students_tracked"] >= 0.7 * len(heads), result
    assert result["tracks_per_student"] <= 1.2, result


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_class_panned_over_keeps_its_ids(tmp_path):
    """A slow pan (87 px/s) over a real classroom frame: a class's crops and boxes move with the picture
    (`PeoplePoser._follow_camera`), so students keep their ids. With crops fixed between detection passes, the pan
    left them behind: 3.8 ids per student; moved with the camera, 1.29."""
    from pipelines import label
    from poseact.data.annotations import read_yolo
    from poseact.pose import pose_model

    frame = next(f for f in read_yolo(str(CCTV)) if Path(f.path).name.startswith("108_jpg"))
    rgb = cv2.cvtColor(cv2.imread(frame.path), cv2.COLOR_BGR2RGB)
    args = label.build_parser().parse_args(["--input", "x", "--model", "rules", "--output", "-"])
    options = label._options(args, {"fps": 15.0, "max_frames": 15})
    buffer = pose_model.resolve("full").path.read_bytes()
    result = bench_people.pan_frame(rgb, np.asarray(frame.boxes, np.float32), 4.0, options, buffer, str(tmp_path))
    assert result["students_tracked"] >= 0.6 * len(frame.boxes), result
    assert result["tracks_per_student"] <= 1.6, result
