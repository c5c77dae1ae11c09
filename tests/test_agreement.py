"""Tests of poseact.label.agreement: persons matched to scripted students by region, agreement per class."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from poseact.label import agreement

SCRIPT = """student,start_s,end_s,action,x0,y0,x1,y1
0,0,4,reading,0,0,100,100
0,4,8,hand_raise,0,0,100,100
1,0,8,writing,100,0,200,100
"""


def track(person, box, frames=100):
    return {"person": person, "box_x0": box[0], "box_y0": box[1], "box_x1": box[2], "box_y1": box[3],
            "frames_seen": frames}


def seg(person, start, end, action):
    return {"person": person, "start_s": start, "end_s": end, "action": action}


def test_persons_match_students_by_region_and_short_duplicates_lose():
    script = agreement.read_script(SCRIPT)
    tracks = [track(7, (110, 10, 190, 90)), track(3, (10, 10, 90, 90)), track(4, (20, 20, 80, 80), frames=5)]
    assert agreement.match_students(tracks, script) == {0: 3, 1: 7}


def test_agreement_per_class_leaves_out_the_instants_around_changes():
    script = agreement.read_script(SCRIPT)
    tracks = [track(3, (10, 10, 90, 90)), track(7, (110, 10, 190, 90))]
    segments = [seg(3, 0, 4.3, "reading"), seg(3, 4.3, 8, "hand_raise"), seg(7, 0, 6, "writing"), seg(7, 6, 8, "other")]
    result = agreement.agreement(script, segments, tracks)
    assert result["per_class"]["reading"]["agreement"] == 1.0  # the late switch is inside the margin
    assert result["per_class"]["hand_raise"]["agreement"] == 1.0
    writing = result["per_class"]["writing"]
    assert writing["agreement"] == pytest.approx(5.5 / 7.0, abs=0.02)
    assert writing["confusion"]["other"] == 15
    assert "reading 1.00" in agreement.format_table("rules", result)


def test_unmatched_student_counts_as_no_label():
    script = agreement.read_script(SCRIPT)
    result = agreement.agreement(script, [seg(3, 0, 8, "reading")], [track(3, (10, 10, 90, 90))])
    assert result["per_class"]["writing"]["agreement"] == 0.0
    assert result["per_class"]["writing"]["confusion"] == {agreement.NO_LABEL: 70}
    assert result["matched"] == {"0": 3}


def test_bad_script_is_refused():
    with pytest.raises(ValueError, match="columns"):
        agreement.read_script("student,start_s\n0,1\n")
    with pytest.raises(ValueError, match="line 2"):
        agreement.read_script(SCRIPT.splitlines()[0] + "\n0,zero,4,reading,0,0,1,1\n")


def test_command_reads_the_label_tables(tmp_path, capsys):
    (tmp_path / "script.csv").write_text(SCRIPT)
    segments = [dict(s, video="v.mp4", confidence=1.0, model="rules@1") for s in
                [seg(3, 0, 8, "reading"), seg(7, 0, 8, "writing")]]
    tracks = [dict(t, video="v.mp4") for t in [track(3, (10, 10, 90, 90)), track(7, (110, 10, 190, 90))]]
    pq.write_table(pa.Table.from_pylist(segments), tmp_path / "segments.parquet")
    pq.write_table(pa.Table.from_pylist(tracks), tmp_path / "tracks.parquet")
    assert agreement.main(["--labels", str(tmp_path), "--script", str(tmp_path / "script.csv"), "--name", "rules",
                           "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "rules: agreement with the script: hand_raise 0.00, reading 1.00, writing 1.00" in out
    assert json.loads((tmp_path / "a.json").read_text())["matched"] == {"0": 3, "1": 7}


def test_only_some_actions_are_scored():
    script = agreement.read_script(SCRIPT)
    tracks = [track(3, (10, 10, 90, 90)), track(7, (110, 10, 190, 90))]
    result = agreement.agreement(script, [seg(3, 0, 8, "reading")], tracks, actions=["reading"])
    assert list(result["per_class"]) == ["reading"] and result["overall"] == 1.0
