"""`poseact label --model rules` on real clips of ../shared/data (skipped cleanly where that folder is absent).

What each clip shows was checked by eye, frame by frame (docs/rules.md):
- `seated_hand_raise_to_face.mp4`: the hand is down until about 0.55 s, up beside the face from about 0.6 s
  to 1.4 s, then down;
- `torso_no_head.mp4`: a torso with the head out of frame and an open hand; MediaPipe's only pose puts a face
  on the palm and the hips above it, upside down: no person (`poseact.pose.upright.upside_down`);
- ASL `learn` and `brother`: a hand brought to the forehead (not a raise); `book`, `again`: hands in front
  of the chest.
"""

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import label
from poseact.label import rules

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clips"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"no real clips at {DATA}")
CLIPS = ("seated_hand_raise_to_face.mp4", "torso_no_head.mp4", "asl_gestures/learn.mkv", "asl_gestures/brother.mkv",
         "asl_gestures/book.mkv", "asl_gestures/again.mkv")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules-real")
    (root / "list.txt").write_text("".join(f"{DATA / c}\n" for c in CLIPS))
    run = label.run(["--input", str(root / "list.txt"), "--model", "rules", "--output", str(root / "out"),
                     "--no-progress"])
    assert run["videos_labelled"] == len(CLIPS), run
    summaries = [json.loads(p.read_text()) for p in (root / "out" / "lectures").glob("*/summary.json")]
    for summary in summaries:  # who was found, how often, and what the tracker repaired
        assert len(summary["frames_seen_per_person"]) == summary["persons"]
        assert summary["tracks_merged_as_duplicates"] >= 0 and summary["jumps_refused"] >= 0
    rows = pq.read_table(root / "out" / "segments.parquet").to_pylist()
    by_clip = {}
    for row in rows:
        assert row["model"] == rules.MODEL_ID
        by_clip.setdefault(os.path.relpath(row["video"], DATA), []).append(row)
    return by_clip, {os.path.relpath(s["video"], DATA): s for s in summaries}


@pytest.fixture(scope="module")
def segments(labelled):
    return labelled[0]


def at(rows, t):
    return [r["action"] for r in rows if r["start_s"] <= t < r["end_s"]]


def test_seated_hand_raise_while_the_hand_is_up_and_not_before(segments):
    rows = segments["seated_hand_raise_to_face.mp4"]
    raises = [r for r in rows if r["action"] == "hand_raise"]
    assert raises, rows
    assert min(r["start_s"] for r in raises) >= 0.5  # the hand starts up at about 0.55 s
    assert at(rows, 1.0) == ["hand_raise"]
    assert all(a != "hand_raise" for t in (0.1, 0.3, 0.45) for a in at(rows, t))


def test_no_head_and_a_face_on_the_palm_is_no_person(labelled):
    segments, summaries = labelled
    assert "torso_no_head.mp4" not in segments
    assert summaries["torso_no_head.mp4"]["persons"] == 0
    assert summaries["torso_no_head.mp4"]["poses_upside_down_refused"] > 0


@pytest.mark.parametrize("clip", ["asl_gestures/learn.mkv", "asl_gestures/brother.mkv", "asl_gestures/book.mkv",
                                  "asl_gestures/again.mkv"])
def test_hands_at_the_forehead_or_chest_are_no_raise(segments, clip):
    assert "hand_raise" not in {r["action"] for r in segments[clip]}, segments[clip]
