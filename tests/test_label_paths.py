"""The default (fast) labelling path against `--exact`: the options each gives, and the labels on a lecture."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines import label, label_models, options


def _options(*extra: str) -> label.LabelOptions:
    args = label.build_parser().parse_args(["--input", "x.mp4", "--model", "rules", "--output", "o", *extra])
    return label._options(args, label_models.read_card("rules"))


def test_exact_is_todays_path_and_the_default_is_the_fast_one():
    exact = _options("--exact").people
    assert (exact.follower, exact.pose_every, exact.finder, exact.min_head_px) == ("tasks", 1, "landmarker", 24.0)
    assert exact.poses_per_second is None
    fast = _options().people
    assert (fast.pose_every, fast.hold_still, fast.poses_per_second) == (label.FAST_POSE_EVERY, False, 75.0)
    # Each chunk chooses its finder (poseact.people.tracker.CLASS_SIZE), and with it the follower and head floor.
    assert (fast.finder, fast.max_people, fast.follower, fast.min_head_px) == ("auto", 60, None, None) == (
        label.FINDER, options.MAX_PEOPLE, None, None)
    landmarker = _options("--finder", "landmarker").people
    assert (landmarker.finder, landmarker.min_head_px, landmarker.follower) == ("landmarker", 24.0, "tasks")
    # For a class: the classroom finder, heads from 20 px, each student followed by our landmark runner.
    classroom = _options("--finder", "classroom").people
    assert (classroom.finder, classroom.min_head_px, classroom.follower) == ("classroom", 20.0, "roi")
    assert _options("--exact", "--finder", "classroom").people.follower == "tasks"
    assert _options("--follower", "roi", "--hold-still").people.hold_still
    assert _options("--poses-per-second", "0").people.poses_per_second is None
    # The head finder is asked for (docs/people.md#the-head-finder---find-heads), not on by default.
    assert (_options().people.find_heads, _options("--find-heads").people.find_heads) == (False, True)
    assert (_options().workers, _options("--balance-workers", "2").workers) == (1, 2)  # chunks: see plan_chunks
    args = label.build_parser().parse_args(["--input", "x", "--model", "rules", "--output", "o", "--exact"])
    assert label._pose_model_spec(args) == "full"


@pytest.mark.parametrize("flags, message", [
    (["--exact", "--follower", "roi"], "drop --follower"),
    (["--exact", "--pose-every", "2"], "drop --pose-every"),
    (["--exact", "--pose-model", "lite"], "drop --pose-model"),
    (["--exact", "--hold-still"], "drop --hold-still"),
    (["--exact", "--poses-per-second", "40"], "drop --poses-per-second"),
    (["--poses-per-second", "-1"], "0 \\(no cap\\) or more"),
])
def test_exact_refuses_fast_path_flags(flags, message):
    args = label.build_parser().parse_args(["--input", "x", "--model", "rules", "--output", "o", *flags])
    with pytest.raises(ValueError, match=message):
        label._options(args, label_models.read_card("rules"))
        label._pose_model_spec(args)


@pytest.mark.slow
def test_exact_and_the_fast_options_label_the_same_people(tmp_path):
    """An 8 s demo lecture of two students, labelled with `--exact` and with our landmark runner
    (`--follower roi`): the same two persons and mostly the same labels (`poseact bench label` measures the
    agreement at length: docs/speed.md)."""
    import glob
    import json

    import pyarrow.parquet as pq

    from poseact.label.path_agreement import per_second_agreement
    from tests.label_support import make_lecture

    video = make_lecture(str(tmp_path / "lecture.mp4"), seconds=8.0, students=2, seed=3)
    tables, held = {}, {}
    for name, extra in (("exact", ["--exact"]), ("fast", ["--follower", "roi"])):
        out = str(tmp_path / name)
        summary = label.run(["--input", video, "--model", "rules", "--output", out, "--no-progress", *extra])
        assert summary["videos_labelled"] == 1, summary
        tables[name] = [pq.read_table(f"{out}/{t}.parquet").to_pylist() for t in ("segments", "tracks")]
        with open(glob.glob(f"{out}/lectures/*/summary.json")[0]) as handle:
            lecture = json.load(handle)
        held[name] = lecture["person_frames_held_still"]
        assert lecture["options"]["people"]["follower"] == ("roi" if name == "fast" else "tasks")
    assert held["exact"] == held["fast"] == 0, held
    result = per_second_agreement(*tables["exact"], *tables["fast"], 8.0)
    assert result["persons_reference"] == result["persons"] == result["paired"] == 2, result
    assert result["agreement"] >= 0.6, result


@pytest.mark.parametrize("follower", ["tasks", "roi"])
def test_hold_still_reuses_poses_and_tiles_while_nothing_moves(follower):
    """A still frame shown 10 times: with `hold_still` the model runs on the first frames only (the pose and
    the detection tiles are reused), without it on every frame."""
    import numpy as np

    from poseact.demo import clips as demo
    from poseact.people.tracker import PeopleConfig, PeoplePoser
    from poseact.pose import pose_model

    frame = demo.animate("hopper", "reading", np.random.default_rng(0), seconds=0.2)[0]
    with open(pose_model.resolve("full").path, "rb") as handle:
        bundle = handle.read()
    counts = {}
    for hold in (False, True):
        config = PeopleConfig(grid=(1, 1), follower=follower, hold_still=hold, detect_every_s=0.3)
        with PeoplePoser(bundle, config) as poser:
            seen = [poser.process(frame, 1000.0 * i / 15) for i in range(10)]
            counts[hold] = (poser.poses_held, poser.tiles_reused)
        assert all(len(s) == 1 for s in seen), seen
    assert counts[False] == (0, 0)
    held, reused = counts[True]
    assert held >= 8 and reused >= 1, counts


def test_local_jobs_get_a_worker_per_core_for_long_videos_only(monkeypatch):
    from pipelines import runs

    # One worker process per 30 s of video, at most one per core; none added where the user chose, or off this machine.
    assert runs.with_local_workers([], 40.0, cpus=2) == []
    assert runs.with_local_workers([], 61.0, cpus=2) == ["--direct_num_workers=2",
                                                          "--direct_running_mode=multi_processing"]
    assert runs.with_local_workers([], 3600.0, cpus=4)[0] == "--direct_num_workers=4"
    assert runs.with_local_workers(["--direct_num_workers=1"], 3600.0, cpus=4) == ["--direct_num_workers=1"]
    assert runs.with_local_workers(["--runner=DataflowRunner"], 3600.0, cpus=4) == ["--runner=DataflowRunner"]
    assert runs.direct_workers(["--direct_num_workers=3"]) == 3 and runs.direct_workers([]) == 1
    monkeypatch.setattr(runs.os, "cpu_count", lambda: 5)
    assert runs.direct_workers(["--direct_num_workers=0"]) == 5  # Beam's 0: every core


def test_long_local_videos_get_a_worker_per_core_and_balanced_chunks(tmp_path):
    from poseact.demo.media import write_video

    video = str(tmp_path / "still.mp4")
    write_video(video, (np.zeros((64, 64, 3), np.uint8) for _ in range(20)), 10.0)  # 2 s
    seconds = label._local_seconds([video, str(tmp_path / "missing.mp4"), "gs://b/v.mp4"], 2)
    assert seconds == pytest.approx(2.0, abs=0.2)  # the missing file and the remote one are not counted
    # 2 s of video: one in-process worker, chunks as --chunk-seconds cuts them.
    assert label.local_workers([], [video], None, cpus=2) == ([], None)
    # 62 s: a worker per core, balanced; the user's own workers or balancing are kept.
    long = [video] * 31
    assert label.local_workers([], long, None, cpus=2) == (
        ["--direct_num_workers=2", "--direct_running_mode=multi_processing"], 2)
    assert label.local_workers([], long, 3, cpus=2)[1] == 3
    assert label.local_workers(["--direct_num_workers=2"], long, None, cpus=2) == (["--direct_num_workers=2"], None)
