"""The `poseact` command line: usage, errors, and the extract sub-command in a real subprocess."""

import json
import os
import subprocess
import sys

import pytest

from poseact import cli


def test_usage_lists_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("extract", "import", "train", "bench", "model", "demo"):
        assert command in out


def test_unknown_command(capsys):
    assert cli.main(["dance"]) == 2
    assert "unknown command 'dance'" in capsys.readouterr().err


def test_bad_manifest_is_a_clear_error(tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    manifest.write_text("uri,category\na.mp4,x\n")
    assert cli.main(["extract", "--input", str(manifest), "--output", str(tmp_path / "o")]) == 2
    assert "missing column(s) ['label']" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_end_to_end(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    bindir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bindir, "poseact"), "demo", "--output", str(tmp_path / "d"), "--sessions", "1"],
                   check=True, env=env, capture_output=True)
    proc = subprocess.run(
        [os.path.join(bindir, "poseact"), "extract", "--input", str(tmp_path / "d" / "manifest.csv"),
         "--output", str(tmp_path / "o"), "--fps", "10"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "extract:" in proc.stderr  # the progress bar of local runs
    printed = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert printed["clips_in"] == printed["clips_written"] > 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["fps"] == 10.0 and summary["run"]["wall_seconds"] > 0
