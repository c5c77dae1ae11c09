"""A misspelled flag fails fast with a suggestion, in every command; Beam's own flags still pass."""

import re
from pathlib import Path

import pytest

from pipelines import extract, flags, importer, label

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module, argv, wanted", [
    (extract, ["--input", "m.csv", "--output", "OUT", "--num-posses", "1", "--fsp", "5"], "--num-poses"),
    (extract, ["--input", "m.csv", "--output", "OUT", "--fsp", "5"], "--fps"),
    (importer, ["--input", "m.csv", "--output", "OUT", "--source-fsp", "30"], "--source-fps"),
    (label, ["--input", "v.mp4", "--model", "rules", "--output", "OUT", "--treshold", "0.4"], "--threshold"),
    (label, ["--input", "v.mp4", "--model", "rules", "--output", "OUT", "--direct_num_worker=2"], "--direct_num_workers"),
])
def test_typo_is_an_error_before_any_work(module, argv, wanted, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        module.run(argv)
    assert exit_.value.code == 2
    assert f"did you mean {wanted}?" in capsys.readouterr().err
    assert not (tmp_path / "OUT").exists()


def test_stray_value_is_an_error(capsys):
    with pytest.raises(SystemExit):
        label.run(["--input", "v.mp4", "--model", "rules", "--output", "OUT", "stray"])
    assert "unexpected argument 'stray'" in capsys.readouterr().err


def test_every_beam_flag_of_the_launchers_is_known():
    """launch/*.sh hand these to the commands; a flag Beam does not register would now stop the job."""
    ours = {"--input", "--output", "--model", "--data", "--lecture", "--seconds", "--sessions", "--labels",
            "--script", "--name", "--json", "--actions", "--pose", "--no", "--verbose", "--finder"}  # poseact's own, or prefixes of them
    tools = {"--host", "--port", "--memory", "--nthreads", "--nworkers", "--scheduler", "--worker_pool",
             "--python", "--version", "--"}  # flags of dask, docker and python, not of poseact commands
    found = set()
    for script in (ROOT / "launch").glob("*.sh"):
        found |= set(re.findall(r"(?<![\w-])--[a-z_]+", script.read_text()))
    unknown = sorted(found - ours - tools - flags.beam_flags())
    assert not unknown, unknown


def test_beam_flags_as_separate_values_pass():
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--fps")
    args, rest = flags.parse(parser, ["--fps", "5", "--runner", "DirectRunner", "--direct_num_workers=2"])
    assert args.fps == "5" and rest == ["--runner", "DirectRunner", "--direct_num_workers=2"]


@pytest.mark.parametrize("argv, wanted", [
    (["train", "--data", "D", "--output", "OUT", "--epocs", "5"], "--epochs"),
    (["agree", "--labls", "OUT", "--script", "s.csv"], "--labels"),
    (["demo", "--outptu", "OUT"], "--output"),  # before "--output is required": the typo is the cause
    (["model", "--pose-modl", "lite"], "--pose-model"),
    (["bench", "extract", "--sesions", "2"], "--sessions"),
    (["bench", "label", "--workrs", "2"], "--workers"),
])
def test_typo_in_the_other_commands_names_the_flag(argv, wanted, tmp_path, monkeypatch, capsys):
    from poseact import cli
    from poseact.learn import train

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        # train's console entry sends output to a log file; its parser is the same either way.
        train.main(argv[1:]) if argv[0] == "train" else cli.main(argv)
    assert exit_.value.code == 2
    assert f"did you mean {wanted}?" in capsys.readouterr().err
    assert not (tmp_path / "OUT").exists()


def test_parser_keeps_abbreviations_and_values():
    from poseact.common.arguments import Parser

    parser = Parser(prog="p")
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--name")
    args = parser.parse_args(["--thresh", "0.4", "--name=--odd"])
    assert args.threshold == 0.4 and args.name == "--odd"
    with pytest.raises(SystemExit):
        parser.parse_args(["--treshold", "0.4"])
