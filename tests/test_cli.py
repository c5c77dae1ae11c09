"""The `poseact` command line: usage, errors, and the extract sub-command in a real subprocess."""

import json
import os
import re
import shutil
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


# `poseact COMMAND --help` in a fresh interpreter: argparse's text alone, and none of the heavy libraries
# imported (their import is what took 5-29 s and printed TF/absl lines before the usage text).
HELP_PROBE = """
import sys
from poseact import cli
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
heavy = sorted(m for m in ("tensorflow", "apache_beam", "mediapipe", "keras", "tfx_bsl", "cv2") if m in sys.modules)
print("HEAVY", ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["extract", "import", "train", "label", "bench", "bench label", "bench people",
                                     "model", "demo", "agree"])
def test_help_is_argparse_text_alone_with_no_heavy_import(command):
    done = subprocess.run([sys.executable, "-c", HELP_PROBE, *command.split(), "--help"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["HEAVY "], done.stderr  # no chatter, no heavy library
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"usage: poseact {command}") and "options:" in lines
    assert not [line for line in lines if CHATTER.search(line)]


# What must never reach the user's screen: Beam's INFO lines and Prism attempt, absl and Python logging
# INFO, TensorFlow / MediaPipe / LiteRT C++ logs, FFmpeg's complaints about a corrupt file.
CHATTER = re.compile(r"INFO|Prism|absl|^[IWE]\d{4} |oneDNN|cuda|XNNPACK|LiteRT|Converting string literal|"
                     r"moov atom|tensorflow|Epoch \d+/\d+|DestroyAccelerator")


def _poseact(tmp_path, *args: str) -> tuple[int, list[str]]:
    """Run the console script with its output in a file (not a terminal); its return code and lines."""
    out = tmp_path / f"{args[0]}.out"
    with open(out, "w") as handle:
        code = subprocess.run([os.path.join(os.path.dirname(sys.executable), "poseact"), *args], stdout=handle,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False).returncode
    return code, out.read_text().splitlines()


@pytest.mark.slow
def test_extract_of_two_clips_one_bad_prints_a_few_clear_lines(tmp_path):
    from poseact.demo import clips as demo

    manifest = demo.make_demo_dataset(str(tmp_path / "d"), sessions=1, seconds=1.0)
    good = open(manifest).read().splitlines()[1].split(",")[0]
    clips = tmp_path / "clips" / "raise"
    clips.mkdir(parents=True)
    shutil.copy(os.path.join(os.path.dirname(manifest), good), clips / "good.mp4")
    demo.make_corrupt_clip(str(clips / "bad.mp4"))
    code, lines = _poseact(tmp_path, "extract", "--input", str(tmp_path / "clips"), "--output",
                           str(tmp_path / "o"), "--fps", "10")
    assert code == 0, lines
    assert len(lines) <= 20, lines
    assert not [line for line in lines if CHATTER.search(line)], lines
    assert any(line.startswith("extract: 2 clips in, 1 written, 1 failed") for line in lines), lines
    assert any(line.strip().startswith("failed: bad.mp4 (decode:") for line in lines), lines
    log = (tmp_path / "o" / "extract.log").read_text()
    assert "Converting string literal" in log or "INFO" in log  # the chatter went here
    assert "Prism" not in log  # the in-process runner was chosen: no download attempted
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["fps"] == 10.0 and summary["clips_written"] == 1 and summary["run"]["wall_seconds"] > 0


@pytest.mark.slow
def test_import_train_and_label_print_a_few_clear_lines(tmp_path):
    from tests.kinematics import write_dataset
    from tests.label_support import make_lecture

    manifest = write_dataset(tmp_path / "kin", subjects=5, clips_per_action=1)
    code, lines = _poseact(tmp_path, "import", "--input", manifest, "--output", str(tmp_path / "shards"))
    assert code == 0 and len(lines) <= 20, lines
    assert any(line.startswith("import: 15 clips in, 15 written, 0 failed") for line in lines), lines
    code, lines = _poseact(tmp_path, "train", "--data", str(tmp_path / "shards"), "--output", str(tmp_path / "m"),
                           "--epochs", "3")
    assert code == 0 and len(lines) <= 20, lines
    assert not [line for line in lines if CHATTER.search(line)], lines
    assert any(line.startswith("train: paper on ") for line in lines), lines
    assert "Epoch 3/3" in (tmp_path / "m" / "train.log").read_text()  # Keras' lines went to the log
    assert "Model report: paper" in (tmp_path / "m" / "report.html").read_text()
    make_lecture(str(tmp_path / "lectures" / "small.mp4"), seconds=6.0, students=1)
    code, lines = _poseact(tmp_path, "label", "--input", str(tmp_path / "lectures"), "--model", "rules",
                           "--output", str(tmp_path / "labels"))
    assert code == 0 and len(lines) <= 20, lines
    assert not [line for line in lines if CHATTER.search(line)], lines
    assert any(line.startswith("label: 1 videos in, 1 labelled, 0 failed") for line in lines), lines
    assert (tmp_path / "labels" / "label.log").stat().st_size > 0
    assert "small.mp4" in (tmp_path / "labels" / "report.html").read_text()


def test_typo_is_one_clear_line_through_the_command(tmp_path, capsys):
    assert cli.main(["extract", "--input", "m.csv", "--output", str(tmp_path / "o"), "--fsp", "5"]) == 2
    err = capsys.readouterr().err
    assert "did you mean --fps?" in err and not (tmp_path / "o").exists()


def test_model_says_when_only_the_finder_cannot_be_had(monkeypatch, capsys):
    """`poseact model --finder` exits 3 (setup goes on without the finder) when only the finder fails."""
    from poseact.people import finder_model

    def unreachable(allow_download=True):
        raise finder_model.FinderModelError("cannot get nanodet: CDN: offline; npm: npm is not installed")

    monkeypatch.setattr(finder_model, "resolve", unreachable)
    assert cli.main(["model", "--finder"]) == 3
    assert "npm is not installed" in capsys.readouterr().err


def test_label_with_a_finder_that_cannot_be_had_is_one_clear_error(monkeypatch, tmp_path, capsys):
    """The classroom finder is resolved once at launch: without it, one line saying why, before any worker starts."""
    from poseact.people import finder_model

    def unreachable(allow_download=True):
        raise finder_model.FinderModelError("cannot get nanodet: CDN: offline; npm: npm is not installed")

    monkeypatch.setattr(finder_model, "resolve", unreachable)
    video = tmp_path / "lecture.mp4"
    video.write_bytes(b"not reached")
    code = cli.main(["label", "--input", str(video), "--model", "rules", "--output", str(tmp_path / "out"),
                     "--finder", "classroom"])
    assert code == 2
    assert "poseact label: error: cannot get nanodet" in capsys.readouterr().err
