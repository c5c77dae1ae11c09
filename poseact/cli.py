"""The `poseact` command. Heavy packages are imported only by the sub-command that needs them."""

from __future__ import annotations

import json
import logging
import os
import sys

USAGE = """usage: poseact COMMAND [options]

commands:
  extract   clips -> normalised landmark TFRecord shards (Beam)      poseact extract --help
  import    landmark files (.npy/.csv) -> the same shards (Beam)      poseact import --help
  train     shards -> model, metrics, plots and exports (TF)          poseact train --help
  label     lecture videos -> per-person action segments (Beam)      poseact label --help
  bench     speed benchmarks (extract, train, label)                  poseact bench extract --help
  model     resolve, fetch or build the pose model and say which     poseact model --help
  demo      write the bundled demo data set (clips + manifest)       poseact demo --help
  agree     agreement of labels with a ground-truth script            poseact agree --help
"""


def _quiet_native_logs() -> None:
    # TensorFlow and MediaPipe print pages of C++ start-up logs; keep warnings and errors.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GLOG_minloglevel", "2")


def _model(argv: list[str]) -> int:
    import argparse  # noqa: PLC0415

    from poseact import pose_model  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="poseact model")
    parser.add_argument("--pose-model", default="full", help="lite, full, heavy, a .task path or a URL")
    parser.add_argument("--no-download", action="store_true", help="never contact the model host")
    args = parser.parse_args(argv)
    model = pose_model.resolve(args.pose_model, allow_download=not args.no_download)
    print(model.describe())
    return 0


def _demo(argv: list[str]) -> int:
    import argparse  # noqa: PLC0415

    from poseact import demo  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="poseact demo")
    parser.add_argument("--output", required=True, help="folder for clips/ and manifest.csv (or the lecture)")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lecture", action="store_true",
                        help="write a multi-person demo lecture (OUTPUT/lecture.mp4 and its script) instead")
    parser.add_argument("--seconds", type=float, default=40.0, help="lecture length")
    parser.add_argument("--students", type=int, default=4, help="people in the lecture")
    parser.add_argument("--fps", type=float, default=15.0, help="lecture frame rate")
    args = parser.parse_args(argv)
    if args.lecture:
        import csv  # noqa: PLC0415

        os.makedirs(args.output, exist_ok=True)
        path = os.path.join(args.output, "lecture.mp4")
        script = demo.make_demo_lecture(path, seconds=args.seconds, students=args.students, seed=args.seed,
                                        fps=args.fps)
        with open(os.path.join(args.output, "lecture_script.csv"), "w", newline="") as handle:
            # The script is the ground truth; the box columns let labels be matched to students by position.
            writer = csv.DictWriter(handle, fieldnames=["student", "start_s", "end_s", "action", "x0", "y0", "x1", "y1"])
            writer.writeheader()
            writer.writerows(script)
        print(path)
        return 0
    print(demo.make_demo_dataset(args.output, sessions=args.sessions, seed=args.seed))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `poseact` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    _quiet_native_logs()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from poseact.errors import ClipError  # noqa: PLC0415
    from poseact.manifest import ManifestError  # noqa: PLC0415
    from poseact.pose_model import PoseModelError  # noqa: PLC0415

    try:
        if command == "extract":
            from pipelines import extract  # noqa: PLC0415

            summary = extract.run(rest)
            print(json.dumps({k: summary[k] for k in ("clips_in", "clips_written", "clips_failed",
                                                      "detection_rate")}, indent=2))
            return 0
        if command == "import":
            from pipelines import importer  # noqa: PLC0415

            summary = importer.run(rest)
            print(json.dumps({k: summary[k] for k in ("clips_in", "clips_written", "clips_failed")}, indent=2))
            return 0
        if command == "label":
            from pipelines import label  # noqa: PLC0415

            summary = label.run(rest)
            print(json.dumps(summary, indent=2))
            return 0
        if command == "train":
            from poseact import train  # noqa: PLC0415

            return train.main(rest)
        if command == "bench":
            from pipelines import bench  # noqa: PLC0415

            return bench.main(rest)
        if command == "model":
            return _model(rest)
        if command == "demo":
            return _demo(rest)
        if command == "agree":
            from poseact import agreement  # noqa: PLC0415

            return agreement.main(rest)
    except (ManifestError, PoseModelError, ClipError, ValueError) as err:
        print(f"poseact {command}: error: {err}", file=sys.stderr)
        return 2
    print(f"poseact: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
