"""What a command shows: native and library chatter goes to the log, progress and own warnings to the user."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time

from pipelines import progress
from poseact.common import console


def test_session_sends_chatter_to_the_log_and_keeps_the_console(capfd, tmp_path):
    with console.Session() as session:
        os.write(2, b"I0000 00:00 native chatter on fd 2\n")
        os.write(1, b"native chatter on fd 1\n")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child chatter\\n')"], check=True)
        logging.getLogger("apache_beam.runners").info("beam info")
        logging.getLogger("apache_beam.runners").warning("beam warning")
        logging.getLogger("pipelines.label").warning("a warning that matters")
        logging.getLogger("poseact.learn.train").info("own info")
        console.say("progress line")
    out, err = capfd.readouterr()
    assert "progress line" in err and "WARNING: a warning that matters" in err
    assert "chatter" not in out + err and "beam" not in err and "own info" not in err
    log = open(session.log_path).read()
    for text in ("native chatter on fd 2", "native chatter on fd 1", "child chatter", "beam info", "beam warning",
                 "own info"):
        assert text in log, text
    kept = session.keep(str(tmp_path / "out"), "extract.log")
    assert kept == str(tmp_path / "out" / "extract.log") and "child chatter" in open(kept).read()
    assert not os.path.exists(session.log_path)
    os.write(2, b"after the session\n")  # descriptors are restored
    assert "after the session" in capfd.readouterr().err


def test_verbose_session_captures_nothing(capfd):
    with console.Session(verbose=True) as session:
        os.write(2, b"native line\n")
        logging.getLogger("apache_beam.runners").info("beam info")
    err = capfd.readouterr().err
    assert "native line" in err and "beam info" in err and session.log_path is None


def test_session_watches_what_the_command_prints(capfd):
    with console.Session(watch=re.compile(r"Epoch (\d+)/(\d+)")) as session:
        print("Epoch 1/40\n2/2 - 0s - loss: 1.1")
        print("Epoch 3/40")
    assert session.last_match.groups() == ("3", "40")
    assert "Epoch" not in capfd.readouterr().out
    assert "Epoch 3/40" in open(session.log_path).read()


def test_heartbeat_off_a_terminal_prints_a_line_now_and_then(capfd):
    count = iter(range(10_000))
    with console.Session(), console.Heartbeat(lambda: f"step {next(count)}", interval=0.5):
        time.sleep(2.2)
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("step")]
    assert 3 <= len(lines) <= 6, lines  # one every 0.5 s, and the last at the end; no redraws
    assert "\r" not in err


def test_progress_off_a_terminal_is_a_line_with_counts(tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(progress, "LINE_INTERVAL_S", 0.5)
    progress.mark_done(str(tmp_path), "plan-a", {"planned": 4, "start": 0, "end": 0})
    for i in range(2):
        progress.mark_done(str(tmp_path), f"a-{i}", {"start": 0, "end": 1, "frames": 10, "video_s": 2.0})
    with console.Session(), progress.ProgressBar(str(tmp_path), 0, "label", unit="chunk"):
        time.sleep(1.2)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("label:")]
    assert lines and re.match(r"label: 2/4 chunks, 20 frames, [\d.]+ fps, [\d.]+x real time, \d+ s$", lines[-1]), lines
