"""The default (fast) labelling path against `--exact`: the options each gives, and the labels on a lecture."""

from __future__ import annotations

import pytest

from pipelines import label, label_models


def _options(*extra: str) -> label.LabelOptions:
    args = label.build_parser().parse_args(["--input", "x.mp4", "--model", "rules", "--output", "o", *extra])
    return label._options(args, label_models.read_card("rules"))


def test_exact_is_todays_path_and_the_default_is_the_fast_one():
    exact = _options("--exact").people
    assert (exact.follower, exact.pose_every) == ("tasks", 1)
    fast = _options().people
    assert (fast.follower, fast.pose_every, fast.hold_still) == (label.FAST_FOLLOWER, label.FAST_POSE_EVERY, False)
    assert _options("--follower", "roi", "--hold-still").people.hold_still
    args = label.build_parser().parse_args(["--input", "x", "--model", "rules", "--output", "o", "--exact"])
    assert label._pose_model_spec(args) == "full"


@pytest.mark.parametrize("flags, message", [
    (["--exact", "--follower", "roi"], "drop --follower"),
    (["--exact", "--pose-every", "2"], "drop --pose-every"),
    (["--exact", "--pose-model", "lite"], "drop --pose-model"),
    (["--exact", "--hold-still"], "drop --hold-still"),
])
def test_exact_refuses_fast_path_flags(flags, message):
    args = label.build_parser().parse_args(["--input", "x", "--model", "rules", "--output", "o", *flags])
    with pytest.raises(ValueError, match=message):
        label._options(args, label_models.read_card("rules"))
        label._pose_model_spec(args)


@pytest.mark.slow
def test_exact_and_the_fast_options_label_the_same_people(tmp_path):
    """A 12 s demo lecture of two students, labelled with `--exact` and with the opt-in fast options: our
    landmark runner (`--follower roi`) finds the same two persons and mostly the same labels (`poseact bench
    label` measures the agreement at length: README, "Speed"); `--hold-still` holds still crops, `--exact`
    never does."""
    import glob
    import json

    import pyarrow.parquet as pq

    from poseact.path_agreement import per_second_agreement
    from tests.label_support import make_lecture

    video = make_lecture(str(tmp_path / "lecture.mp4"), seconds=12.0, students=2, seed=3)
    tables, held = {}, {}
    for name, extra in (("exact", ["--exact"]), ("fast", ["--follower", "roi"]), ("hold", ["--hold-still"])):
        out = str(tmp_path / name)
        summary = label.run(["--input", video, "--model", "rules", "--output", out, "--no-progress", *extra])
        assert summary["videos_labelled"] == 1, summary
        tables[name] = [pq.read_table(f"{out}/{t}.parquet").to_pylist() for t in ("segments", "tracks")]
        with open(glob.glob(f"{out}/lectures/*/summary.json")[0]) as handle:
            lecture = json.load(handle)
        held[name] = lecture["person_frames_held_still"]
        assert lecture["options"]["people"]["follower"] == ("roi" if name == "fast" else "tasks")
    assert held["exact"] == held["fast"] == 0 and held["hold"] > 0, held
    result = per_second_agreement(*tables["exact"], *tables["fast"], 12.0)
    assert result["persons_reference"] == result["persons"] == result["paired"] == 2, result
    assert result["agreement"] >= 0.6, result
