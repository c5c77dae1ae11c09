"""`poseact extract --boxes`: annotated frames in, one row per box whose person is found, every box accounted for,
splits grouped by recording and time, the same bytes on a re-run; and on real classroom frames."""

import json
from pathlib import Path

import cv2
import pytest

from pipelines import extract
from poseact.demo import crowd
from tests.classroom_frames import CCTV, linked_set

pytestmark = pytest.mark.slow


def _yolo_set(root: Path) -> int:
    """Three frames of a made class of 8 (frames 1 and 2 one block of the recording, 25 another), each head boxed and
    labelled; frame 1 also has a box on an empty wall and a broken row. Returns the boxes written down."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("up\ndown\n")
    boxes = 0
    for number, seed in ((1, 1), (2, 1), (25, 2)):
        scene = crowd.make_scene((854, 480), 2, (4, 4), (36.0, 48.0), seed=seed, seconds=1.0)
        rgb = next(crowd.frames(scene))
        cv2.imwrite(str(root / "images" / f"{number}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        lines = [f"{i % 2} {(x0 + x1) / 2 / 854} {(y0 + y1) / 2 / 480} {(x1 - x0) / 854} {(y1 - y0) / 480}"
                 for i, (x0, y0, x1, y1) in enumerate(p.head for p in scene.people)]
        if number == 1:
            lines += ["0 0.05 0.95 0.03 0.04", "up 0.5 0.5 0.1 0.1"]  # nobody there; a class that is not a number
        (root / "labels" / f"{number}.txt").write_text("\n".join(lines) + "\n")
        boxes += len(lines)
    return boxes


def test_yolo_boxes_to_shards_every_box_accounted_for(tmp_path):
    written_down = _yolo_set(tmp_path / "set")
    out = tmp_path / "out"
    args = ["--boxes", str(tmp_path / "set"), "--box-part", "head", "--output", str(out), "--no-progress",
            "--val-fraction", "0.3", "--test-fraction", "0.3"]
    summary = extract.run(args)
    assert summary["box_format"] == "yolo" and summary["classes"] == ["down", "up"]
    assert summary["boxes_in"] == written_down == 26
    assert summary["rows_written"] + summary["dead_letters"] == summary["boxes_in"]
    assert summary["rows_written"] >= 20  # the made crowds are found whole by the label path (tests/test_crowd.py)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == summary["dead_letters"]
    reasons = {e["reason"] for e in errors}
    assert "no person found with their head in the box" in reasons
    assert any("expected `class cx cy w h`" in r for r in reasons)
    # Frames 1 and 2 are one block of the recording: one split; frame 25 is another group.
    groups = summary["groups_by_split"]
    assert sorted(g for gs in groups.values() for g in gs) == ["frames:#0", "frames:#2"]
    # The shards read back with the schema, one row per box written, each in its group's split.
    from poseact.data.training_data import load_shards

    clips, classes = load_shards(str(out))
    assert len(clips) == summary["rows_written"] and classes == ["down", "up"]
    split_of = {g: s for s, gs in groups.items() for g in gs}
    assert all(split == split_of["frames:#0" if not cid.startswith("25#") else "frames:#2"]
               for cid, split in zip(clips.clip_id, clips.split))
    assert clips.pose.shape[1:] == (48, 24, 3) and (clips.frame_mask.sum(axis=1) > 0).all()
    # The same bytes when run again.
    first = {p.name: p.read_bytes() for p in sorted(out.glob("*.tfrecord"))}
    extract.run(args[:5] + [str(tmp_path / "again")] + args[6:])
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "again").glob("*.tfrecord"))} == first
    assert (tmp_path / "again" / "errors.jsonl").read_bytes() == (out / "errors.jsonl").read_bytes()


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_real_classroom_frames(tmp_path):
    # Two real frames (their YOLO files linked into a small set): most head boxes become rows, the rest dead letters.
    folder = linked_set(tmp_path / "set", sorted((CCTV / "test" / "images").glob("*.jpg"))[:2])
    summary = extract.run(["--boxes", str(folder), "--box-part", "head", "--output", str(tmp_path / "out"),
                           "--no-progress"])
    assert summary["frames"] == 2 and summary["rows_written"] + summary["dead_letters"] == summary["boxes_in"]
    assert summary["rows_written"] >= 0.5 * summary["boxes_in"]


def test_ava_csv_instants_of_a_video(tmp_path):
    # A made class of 6 filmed for 4 s; its heads boxed at 2 s (AVA-style, normalised; actions named by number).
    scene = crowd.make_scene((854, 480), 2, (3, 3), (40.0, 52.0), seed=3, seconds=4.0)
    crowd.write(scene, str(tmp_path / "lesson.mp4"))
    (tmp_path / "classes.txt").write_text("listening\nwriting\n")
    rows = [f"lesson,2.0,{x0 / 854:.4f},{y0 / 480:.4f},{x1 / 854:.4f},{y1 / 480:.4f},{1 + i % 2},{i}"
            for i, (x0, y0, x1, y1) in enumerate(p.head_at(2.0) for p in scene.people)]
    (tmp_path / "boxes.csv").write_text("\n".join(rows + ["lesson,2.0,0.9,0.9,0.95,0.95,1,99"]) + "\n")
    out = tmp_path / "out"
    summary = extract.run(["--boxes", str(tmp_path / "boxes.csv"), "--box-part", "head", "--output", str(out),
                           "--no-progress"])
    assert summary["box_format"] == "ava" and summary["boxes_in"] == 7 and summary["frames"] == 1
    assert summary["rows_written"] >= 5 and summary["rows_written"] + summary["dead_letters"] == 7
    from poseact.data.training_data import load_shards

    clips, classes = load_shards(str(out))
    assert classes == ["listening", "writing"]
    # The window around the instant: max_frames frames at 15 fps (3.2 s), all of them in the video here.
    assert (clips.frame_mask.sum(axis=1) >= 40).all()


def test_without_the_finder_model_the_landmarker_finds_the_students(tmp_path, monkeypatch):
    # Offline with no npm, as `poseact label` does: MediaPipe's landmarker path, with a warning, and the job runs.
    from poseact.people import finder_model

    def unavailable(*args, **kwargs):
        raise finder_model.FinderModelError("no registry here")

    monkeypatch.setattr(finder_model, "resolve", unavailable)
    _yolo_set(tmp_path / "set")
    for number in ("2", "25"):
        (tmp_path / "set" / "images" / f"{number}.png").unlink()
        (tmp_path / "set" / "labels" / f"{number}.txt").unlink()
    summary = extract.run(["--boxes", str(tmp_path / "set"), "--box-part", "head", "--output", str(tmp_path / "out"),
                           "--no-progress"])
    assert summary["finder"] == "landmarker" and summary["boxes_in"] == 10
    assert summary["rows_written"] >= 6 and summary["rows_written"] + summary["dead_letters"] == 10
