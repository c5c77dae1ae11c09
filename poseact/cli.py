"""The `poseact` command. Heavy packages are imported only by the sub-command that needs them."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from typing import Any

from poseact.common import console

USAGE = """usage: poseact COMMAND [options]

commands:
  extract   clips -> normalised landmark TFRecord shards (Beam)      poseact extract --help
  import    landmark files (.npy/.csv) -> the same shards (Beam)      poseact import --help
  train     shards -> model, metrics, plots and exports (TF)          poseact train --help
  label     lecture videos -> per-person action segments (Beam)      poseact label --help
  bench     benchmarks: speed (extract, train, label), people found   poseact bench people --help
  model     resolve, fetch or build the pose model and say which     poseact model --help
  demo      write the bundled demo data set (clips + manifest)       poseact demo --help
  agree     agreement of labels with a ground-truth script            poseact agree --help

extract, import, train and label print progress, warnings and a closing summary; everything else
(Beam, TensorFlow, MediaPipe) goes to COMMAND.log in the output folder. --verbose shows it all instead.
"""
# Commands whose chatter goes to a log file (poseact.common.console.Session).
CAPTURED = ("extract", "import", "train", "label")


def _model(argv: list[str]) -> int:
    from poseact.common import arguments  # noqa: PLC0415
    from poseact.pose import pose_model  # noqa: PLC0415

    parser = arguments.Parser(prog="poseact model")
    parser.add_argument("--pose-model", default="full", help="lite, full, heavy, a .task path or a URL")
    parser.add_argument("--no-download", action="store_true", help="never contact the model host")
    parser.add_argument("--finder", action="store_true",
                        help="also get the classroom person finder (from its CDN or the npm registry; converted once); "
                             "exit status 3 when only the finder cannot be had")
    args = parser.parse_args(argv)
    model = pose_model.resolve(args.pose_model, allow_download=not args.no_download)
    print(model.describe())
    if args.finder:
        from poseact.people import finder_model  # noqa: PLC0415

        try:
            print(finder_model.resolve(allow_download=not args.no_download).describe())
            print(finder_model.resolve_heads(allow_download=not args.no_download).describe())
        except finder_model.FinderModelError as err:
            print(f"poseact model: error: {err}", file=sys.stderr)
            return 3
    return 0


def _demo(argv: list[str]) -> int:
    from poseact.common import arguments  # noqa: PLC0415

    parser = arguments.Parser(prog="poseact demo")
    parser.add_argument("--output", required=True, help="folder for clips/ and manifest.csv (or the lecture)")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lecture", action="store_true",
                        help="write a multi-person demo lecture (OUTPUT/lecture.mp4 and its script) instead")
    parser.add_argument("--seconds", type=float, default=40.0, help="lecture length")
    parser.add_argument("--students", type=int, default=4, help="people in the lecture")
    parser.add_argument("--fps", type=float, default=15.0, help="lecture frame rate")
    args = parser.parse_args(argv)
    from poseact.demo import clips  # noqa: PLC0415 (OpenCV, scikit-image: not before --help is answered)

    if args.lecture:
        import csv  # noqa: PLC0415

        os.makedirs(args.output, exist_ok=True)
        path = os.path.join(args.output, "lecture.mp4")
        script = clips.make_demo_lecture(path, seconds=args.seconds, students=args.students, seed=args.seed,
                                        fps=args.fps)
        with open(os.path.join(args.output, "lecture_script.csv"), "w", newline="") as handle:
            # The script is the ground truth; the box columns let labels be matched to students by position.
            writer = csv.DictWriter(handle, fieldnames=["student", "start_s", "end_s", "action", "x0", "y0", "x1", "y1"])
            writer.writeheader()
            writer.writerows(script)
        print(path)
        return 0
    print(clips.make_demo_dataset(args.output, sessions=args.sessions, seed=args.seed))
    return 0


def _flag_value(argv: list[str], flag: str) -> str | None:
    """The value of `--flag V` or `--flag=V` in argv, if given."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _run_command(command: str, argv: list[str]) -> dict[str, Any] | None:
    """Run a captured command; returns its summary (train: None, its figures are in metrics.json)."""
    if command == "extract":
        from pipelines import extract  # noqa: PLC0415

        return extract.run(argv)
    if command == "import":
        from pipelines import importer  # noqa: PLC0415

        return importer.run(argv)
    if command == "label":
        from pipelines import label  # noqa: PLC0415

        return label.run(argv)
    from poseact.learn import train  # noqa: PLC0415

    code = train.main(argv)
    if code:
        raise SystemExit(code)
    return None


def _help(command: str, argv: list[str]) -> None:
    """Print a captured command's help (argparse exits); its parser needs no Beam, TensorFlow or MediaPipe."""
    if command == "train":  # train imports TensorFlow only once it trains
        _run_command(command, argv)
        return
    from pipelines import options  # noqa: PLC0415

    options.PARSERS[command]().parse_args(argv)


def _train_status(session, started: float):
    def status() -> str:
        match = session.last_match
        epoch = f"epoch {match.group(1)}/{match.group(2)}, " if match else "reading the shards, building the model, "
        return f"train: {epoch}{time.time() - started:.0f} s"

    return status


def _closing_lines(command: str, summary: dict[str, Any] | None, output: str, log: str | None) -> list[str]:
    from poseact.label import summaries  # noqa: PLC0415

    if summary is not None and summary.get("dry_run"):
        return summaries.dry_run_lines(command, summary, log)
    if command == "label":
        return summaries.label_lines(summary, output, log)
    if command == "train":
        return summaries.train_lines(output, log)
    return summaries.clips_lines(command, summary, output, log)


def _failed(command: str, session: console.Session, failure: str, code: int) -> int:
    """Say why a captured command failed; returns its exit status.

    argparse's own message went to the log: its usage and error lines are shown from there. The log of
    an unexpected failure (status 1) is kept and named; that of a usage error (2) says nothing more.
    """
    shown = [failure] if failure else [line for line in session.tail(200)
                                        if ": error: " in line or line.startswith("usage:")][-2:]
    print("\n".join(shown) or f"poseact {command} exited with status {code}", file=sys.stderr)
    if code == 1 and session.log_path:
        print(f"  log: {session.log_path}", file=sys.stderr)
    elif session.log_path:
        os.unlink(session.log_path)
    return code


def _captured(command: str, argv: list[str]) -> int:
    """Run extract, import, train or label with its chatter in a log; print the closing lines."""
    import contextlib  # noqa: PLC0415

    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    output = _flag_value(argv, "--output") or "."
    epoch = re.compile(r"Epoch (\d+)/(\d+)") if command == "train" else None
    session = console.Session(verbose=verbose, watch=epoch, name=f"poseact-{command}")
    summary, failure, code = None, "", 0
    with session:
        try:
            from poseact.common.errors import ClipError  # noqa: PLC0415
            from poseact.data.manifest import ManifestError  # noqa: PLC0415
            from poseact.pose.pose_model import PoseModelError  # noqa: PLC0415

            beat = console.Heartbeat(_train_status(session, time.time())) if epoch and not verbose else None
            with beat or contextlib.nullcontext():
                summary = _run_command(command, argv)
        except (ManifestError, PoseModelError, ClipError, ValueError) as err:
            logging.getLogger(__name__).info("error", exc_info=True)
            failure, code = f"poseact {command}: error: {err}", 2
        except SystemExit as err:  # argparse: its message went to the log, shown below
            code = err.code if isinstance(err.code, int) else 2
        except Exception as err:  # noqa: BLE001 (any failure: one clear line here, the traceback in the log)
            logging.getLogger(__name__).exception("poseact %s failed", command)
            failure, code = f"poseact {command} failed: {type(err).__name__}: {err}", 1
    if code:
        return _failed(command, session, failure, code)
    dry = bool(summary and summary.get("dry_run"))
    log = session.keep(None if dry else output, f"{command}.log")
    print("\n".join(_closing_lines(command, summary, output, log)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `poseact` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    console.quiet_native_logs()
    if command in CAPTURED and not {"-h", "--help"} & set(rest):
        return _captured(command, rest)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from poseact.common.errors import ClipError  # noqa: PLC0415
    from poseact.data.manifest import ManifestError  # noqa: PLC0415
    from poseact.pose.pose_model import PoseModelError  # noqa: PLC0415

    try:
        if command in CAPTURED:  # --help: argparse prints it and exits, before any heavy import
            _help(command, rest)
            return 0
        if command == "bench":
            from pipelines import bench  # noqa: PLC0415

            return bench.main(rest)
        if command == "model":
            return _model(rest)
        if command == "demo":
            return _demo(rest)
        if command == "agree":
            from poseact.label import agreement  # noqa: PLC0415

            return agreement.main(rest)
    except (ManifestError, PoseModelError, ClipError, ValueError) as err:
        print(f"poseact {command}: error: {err}", file=sys.stderr)
        return 2
    print(f"poseact: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
