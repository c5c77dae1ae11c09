"""The rules recognise the demo lecture's scripted actions end to end (video in, labels out), on the exact
path and when posing every 4th frame: the hands' pixels carry writing between poses (rules v3)."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest

from pipelines import label
from poseact.demo import clips as demo
from poseact.label import agreement, path_agreement

ACTIONS = ("hand_raise", "writing", "reading")
SECONDS = 30.0


@pytest.fixture(scope="module")
def lecture(tmp_path_factory) -> tuple[str, list[agreement.ScriptRow]]:
    folder = tmp_path_factory.mktemp("rules_lecture")
    path = str(folder / "lecture.mp4")
    rows = demo.make_demo_lecture(path, seconds=SECONDS, fps=15.0)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return path, agreement.read_script(text.getvalue())


def _label(path: str, out: str, *flags: str) -> tuple[list[dict], list[dict]]:
    run = label.run(["--input", path, "--model", "rules", "--output", out, "--no-progress", *flags])
    assert run["videos_labelled"] == 1
    return (pq.read_table(f"{out}/segments.parquet").to_pylist(), pq.read_table(f"{out}/tracks.parquet").to_pylist())


@pytest.mark.slow
def test_rules_recognise_the_lectures_actions_exact_and_posing_every_fourth_frame(lecture, tmp_path):
    path, script = lecture
    exact = _label(path, str(tmp_path / "exact"), "--exact")
    result = agreement.agreement(script, *exact, actions=ACTIONS)
    print(agreement.format_table("rules --exact", result))
    assert len(result["matched"]) == 4
    # Measured on this lecture: hand_raise 0.99, reading 0.94, writing 0.97 (rules v3; writing 0.71 while a
    # wrist had to be seen to be measured). On the main job's 40 s lecture rules v2 (landmark strokes) read
    # 0.85 / 0.83 of reading / writing, v3 0.99 / 0.97.
    for action in ACTIONS:
        assert result["per_class"][action]["agreement"] >= 0.8, (action, result["per_class"][action])

    fast = _label(path, str(tmp_path / "every4"), "--pose-every", "4")
    result4 = agreement.agreement(script, *fast, actions=ACTIONS)
    print(agreement.format_table("rules --pose-every 4", result4))
    # Measured: hand_raise 0.95, reading 0.97, writing 0.86; the students' labels agreed with the exact
    # path's on 0.90-0.98 of their time.
    for action in ("writing", "reading"):  # the hands' pixels are measured on every frame
        assert result4["per_class"][action]["agreement"] >= 0.8, (action, result4["per_class"][action])
    paths = path_agreement.per_second_agreement(*exact, *fast, SECONDS)
    print("pose every 4 against exact:", paths)
    students = [paths["per_person"][str(p)] for p in result["matched"].values()]
    assert min(students) >= 0.85, paths
