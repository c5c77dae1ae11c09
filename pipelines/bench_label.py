"""`poseact bench label`: the default (fast) labelling path against `--exact`, in one run.

    poseact bench label [--input VIDEO] [--seconds 180] [--workers 2] [--model rules|untrained|MODEL_DIR]

Without `--input` it makes a multi-person demo lecture (4 students, 1280x720, 30 fps, 3 minutes by default;
cached in `--work`). The default model is `rules`, whose labels are not trivial (an untrained model labels
everything alike, and any two paths would agree on it). In one run it measures:

(a) bare loops (decode + person detection + per-person pose, `poseact.label.lecture.pose_chunk`, one process, no
    Beam) over the first `--bare-seconds`, once as `--exact` does and once as the default does: real-time
    factor, milliseconds per person-frame of each stage, and the mean landmark deviation between them;
(b) the labelling pipeline on `--workers` DirectRunner worker processes over the whole video, with the
    default options and with `--exact`: real-time factor end to end and steady, share of each stage;
(c) per-second action agreement per person between the two runs, and the persons each found, on the
    lecture and on the real clips of `--clips` (`../shared/data` when present).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np

from poseact.common import arguments, storage
from poseact.pose import pose_model

_CARD_FPS = 15.0
_VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm")


def make_inputs(work: str, seconds: float, video_fps: float, model_dir: str | None) -> tuple[str, str]:
    """The benchmark lecture and model folder (made once, reused from `work`)."""
    from poseact.demo import clips as demo  # noqa: PLC0415

    os.makedirs(work, exist_ok=True)
    video = os.path.join(work, f"lecture-{seconds:g}s-{video_fps:g}fps.mp4")
    if not os.path.exists(video):
        print(f"making a {seconds:g} s 1280x720 {video_fps:g} fps lecture with 4 students: {video}", flush=True)
        demo.make_demo_lecture(video + ".part.mp4", seconds=seconds, fps=video_fps, seed=7)
        os.replace(video + ".part.mp4", video)
    if model_dir:  # a model folder, or "rules"
        return video, model_dir
    model_dir = os.path.join(work, "untrained-model")
    if not os.path.exists(os.path.join(model_dir, "model_card.json")):
        import keras  # noqa: PLC0415

        from poseact.data import schema  # noqa: PLC0415
        from poseact.data.normalize import NORMALIZATION_VERSION  # noqa: PLC0415
        from poseact.learn import export  # noqa: PLC0415
        from poseact.learn.hparams import HParams  # noqa: PLC0415
        from poseact.learn.models import build_paper_model  # noqa: PLC0415

        keras.utils.set_random_seed(0)
        card = {"classes": list(demo.CLASSES), "max_frames": schema.max_frames(), "fps": _CARD_FPS,
                "normalization_version": NORMALIZATION_VERSION, "schema_hash": schema.schema_hash(),
                "model": "paper", "note": "untrained: for speed measurements only"}
        export.export_all(build_paper_model(len(demo.CLASSES), HParams()), model_dir, card)
    return video, model_dir


def bare_loop(video: str, seconds: float, fps: float, model_path: str, people) -> tuple[dict[str, Any], Any]:
    """Decode, detect and pose the first `seconds` of `video` in this process, as the pipeline does per chunk."""
    from poseact.label import lecture  # noqa: PLC0415
    from poseact.pose.video import Chunk, VideoLimits, probe  # noqa: PLC0415

    info = probe(video, VideoLimits(max_duration_s=24 * 3600))
    span = min(seconds, info.duration_s)
    with open(model_path, "rb") as handle:
        buffer = handle.read()
    start = time.perf_counter()
    pose = lecture.pose_chunk(video, info, Chunk(0, 0.0, span, span), fps, buffer, people,
                              VideoLimits(max_duration_s=24 * 3600))
    wall = time.perf_counter() - start
    person_frames = int(pose.people_per_frame.sum())
    figures = {"video_seconds": span, "wall_seconds": wall, "realtime_factor": span / wall,
               "frames": len(pose.times_ms), "person_frames": person_frames,
               "persons": len(pose.tracks), "poses_held": int(pose.tracking.get("poses_held", 0)),
               "ms_per_person_frame": {k: 1000 * v / max(person_frames, 1) for k, v in pose.seconds.items()}}
    return figures, pose


def landmark_model_ms(model_path: str, runs: int = 30) -> dict[str, float]:
    """Milliseconds per run of the landmark model on one core: the whole graph as shipped, and pruned to the outputs
    poseact reads (`poseact.pose.landmark_runner.prune_outputs`), alternated so that both see the same machine."""

    from poseact.pose import landmark_runner  # noqa: PLC0415

    whole = landmark_runner.landmark_model_bytes(storage.read_bytes(model_path))
    models = {"whole_graph": whole, "pruned": landmark_runner.prune_outputs(whole, landmark_runner.LANDMARK_OUTPUTS)}
    crop = np.random.default_rng(0).random((1, landmark_runner.INPUT_PX, landmark_runner.INPUT_PX, 3), np.float32)
    interpreters = {}
    for name, model in models.items():
        interpreters[name] = landmark_runner.tflite_interpreter(model, 1)
        interpreters[name].set_tensor(interpreters[name].get_input_details()[0]["index"], crop)
        interpreters[name].invoke()  # the first run sets XNNPACK up
    seconds = dict.fromkeys(models, 0.0)
    for _ in range(runs):
        for name, interpreter in interpreters.items():
            start = time.perf_counter()
            interpreter.invoke()
            seconds[name] += time.perf_counter() - start
    ms = {name: 1000.0 * total / runs for name, total in seconds.items()}
    return {**ms, "speedup": ms["whole_graph"] / ms["pruned"]}


def landmark_deviation(reference, other) -> float | None:
    """Mean distance (shoulder widths) between the two paths' landmarks 0-24 of each person, over the frames
    both found them in; persons paired by their boxes over those frames."""
    scale = np.array([reference.width, reference.height])
    devs = []
    for landmarks, detected, boxes in reference.tracks.values():
        best = None
        for other_landmarks, other_detected, other_boxes in other.tracks.values():
            both = detected & other_detected
            if both.sum() >= 5:
                gap = float(np.mean(np.abs(boxes[both] - other_boxes[both])))
                if best is None or gap < best[0]:
                    best = (gap, other_landmarks, both)
        if best is None:
            continue
        _, other_landmarks, both = best
        a, b = landmarks[both], other_landmarks[both]
        shoulders = np.linalg.norm((a[:, 11, :2] - a[:, 12, :2]) * scale, axis=1)
        gap = np.linalg.norm((a[:, :25, :2] - b[:, :25, :2]) * scale, axis=2).mean(axis=1)
        devs.append(float(np.mean(gap[shoulders > 0] / shoulders[shoulders > 0])))
    return float(np.mean(devs)) if devs else None


def label_runs(inputs: str, model_dir: str, out: str, workers: int, chunk_seconds: float,
               candidate: list[str], exact: bool = True) -> dict[str, dict]:
    """Label `inputs` with the `candidate` flags and (unless not `exact`) with `--exact`; each run's summary and
    tables."""
    import shutil  # noqa: PLC0415

    from pipelines import label  # noqa: PLC0415

    runs = {}
    for name, extra in (("default", candidate), ("exact", ["--exact"]))[:2 if exact else 1]:
        folder = os.path.join(out, name)
        shutil.rmtree(folder, ignore_errors=True)  # the run's tables gather every lecture in the folder
        summary = label.run(["--input", inputs, "--model", model_dir, "--output", folder, "--force",
                             "--chunk-seconds", str(chunk_seconds), f"--balance-workers={workers}", "--no-progress",
                             *extra,
                             f"--direct_num_workers={workers}",
                             "--direct_running_mode=" + ("multi_processing" if workers > 1 else "in_memory")])
        import glob  # noqa: PLC0415

        lectures = [json.loads(open(path).read()) for path in
                    sorted(glob.glob(os.path.join(folder, "lectures", "*", "summary.json")))]
        runs[name] = {"summary": summary, "segments": _rows(os.path.join(folder, "segments.parquet")),
                      "tracks": _rows(os.path.join(folder, "tracks.parquet")), "lectures": lectures}
    return runs


def _rows(path: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq  # noqa: PLC0415

    return pq.read_table(path).to_pylist()


def agreement_per_video(runs: dict[str, dict]) -> dict[str, dict]:
    """Per video: per-second agreement of the default run with the exact run."""
    from poseact.label.path_agreement import per_second_agreement  # noqa: PLC0415
    from poseact.pose.video import VideoLimits, probe  # noqa: PLC0415

    out = {}
    videos = {t["video"] for run in runs.values() for t in run["tracks"]}
    for video in sorted(videos):
        pick = {name: {k: [r for r in run[k] if r["video"] == video] for k in ("segments", "tracks")}
                for name, run in runs.items()}
        with storage.local_copy(video) as path:
            duration = probe(path, VideoLimits(max_duration_s=24 * 3600)).duration_s
        out[video] = per_second_agreement(pick["exact"]["segments"], pick["exact"]["tracks"],
                                          pick["default"]["segments"], pick["default"]["tracks"], duration)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry of `poseact bench label`."""
    parser = arguments.Parser(prog="poseact bench label", description=__doc__.split("\n")[0])
    parser.add_argument("--input", help="a lecture video (default: a generated 4-student lecture)")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the generated lecture")
    parser.add_argument("--video-fps", type=float, default=30.0, help="frame rate of the generated lecture")
    parser.add_argument("--model", default="rules",
                        help="model folder, `rules` (the default: labels that are not trivial), or `untrained` "
                             "(an untrained paper model with the demo card)")
    parser.add_argument("--workers", type=int, default=2, help="DirectRunner worker processes")
    parser.add_argument("--chunk-seconds", type=float, default=60.0, help="seconds per parallel chunk")
    parser.add_argument("--bare-seconds", type=float, default=20.0, help="video seconds for the bare loops")
    parser.add_argument("--candidate", default="",
                        help="label flags of the path measured against --exact (default: none, i.e. the default "
                             "options), e.g. --candidate='--follower roi --hold-still'")
    parser.add_argument("--clips", default=os.path.join("..", "shared", "data", "clips", "**", "*.*"),
                        help="real clips to compare default and --exact on too (a glob; skipped when none match)")
    parser.add_argument("--work", default=os.path.join(os.path.expanduser("~"), ".cache", "poseact", "bench"),
                        help="folder for the generated lecture, model and outputs")
    parser.add_argument("--heads", default=None,
                        help="labelled heads of --input ([x0, y0, x1, y1, label] in pixels, JSON; default: "
                             "VIDEO.heads.json when there, as `poseact bench people --make-class` writes): the track "
                             "ids each student carries over the default bare loop")
    parser.add_argument("--no-exact", action="store_true",
                        help="skip the --exact pipeline (a class of 40 takes it hours; the bare loops still run)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    import glob  # noqa: PLC0415

    from pipelines import label  # noqa: PLC0415
    from poseact.people.tracker import PeopleConfig  # noqa: PLC0415

    model_arg = None if args.model == "untrained" else args.model
    video, model_dir = make_inputs(args.work, args.seconds, args.video_fps, model_arg or None)
    video = args.input or video
    fps = _CARD_FPS if model_dir == "rules" else float(json.loads(storage.read_bytes(
        os.path.join(model_dir, "model_card.json")))["fps"])
    candidate = args.candidate.split()
    chosen = label.build_parser().parse_args(["--input", video, "--model", "rules", "--output", "-", *candidate])
    fast_people = label._options(chosen, {"fps": fps, "max_frames": 15}).people
    a_exact, pose_exact = bare_loop(video, args.bare_seconds, fps, str(pose_model.resolve("full").path),
                                    PeopleConfig(follower="tasks"))
    fast_model = str(pose_model.resolve(label._pose_model_spec(chosen)).path)
    a_fast, pose_fast = bare_loop(video, args.bare_seconds, fps, fast_model, fast_people)
    model_ms = landmark_model_ms(fast_model)
    out = os.path.join(args.work, "out")
    runs = label_runs(video, model_dir, os.path.join(out, "lecture"), args.workers, args.chunk_seconds, candidate,
                      exact=not args.no_exact)
    clips = sorted(c for c in glob.glob(args.clips, recursive=True) if c.lower().endswith(_VIDEO_SUFFIXES))
    clip_runs = None
    if clips:
        listing = os.path.join(out, "clips.txt")
        os.makedirs(out, exist_ok=True)
        with open(listing, "w") as handle:
            handle.write("\n".join(os.path.abspath(c) for c in clips) + "\n")
        clip_runs = label_runs(listing, model_dir, os.path.join(out, "clips"), args.workers, args.chunk_seconds,
                               candidate, exact=not args.no_exact)
    figures = {
        "video": video, "model": model_dir, "cpu_count": os.cpu_count(), "workers": args.workers,
        "candidate": args.candidate or "(the default options)",
        "bare_exact": _rounded(a_exact), "bare_default": _rounded(a_fast),
        "landmark_deviation_sw": _rounded(landmark_deviation(pose_exact, pose_fast)),
        "landmark_model_ms": _rounded(model_ms),
        "default": runs["default"]["summary"]["run"],
        "exact": runs["exact"]["summary"]["run"] if "exact" in runs else None,
        "agreement": agreement_per_video(runs) if "exact" in runs else {},
        "clips_agreement": agreement_per_video(clip_runs) if clip_runs and "exact" in clip_runs else None,
        "people": _people_found(runs["default"]["lectures"]),
        "tracks_per_student": _tracks_per_student(args.heads or f"{video}.heads.json", pose_fast),
    }
    _print(figures, args)
    if args.json:
        storage.write_atomic(args.json, json.dumps(figures, indent=2, default=str).encode())
    return 0


def _tracks_per_student(path: str, pose) -> dict[str, Any] | None:
    """Track ids per labelled student over the default bare loop (`poseact bench people`'s count), when the heads of
    the video are known."""
    if not os.path.exists(path):
        return None
    from pipelines.bench_people import tracks_per_student  # noqa: PLC0415

    heads = np.array([h[:4] for h in json.loads(storage.read_bytes(path))], np.float32).reshape(-1, 4)
    return {"students": len(heads), "seconds": round(len(pose.times_ms) / _CARD_FPS, 1),
            **tracks_per_student(heads, np.zeros(len(pose.times_ms), int), pose)}


def _people_found(lectures: list[dict[str, Any]]) -> dict[str, Any]:
    """Persons, people per frame and class chunks of each video labelled (its `lectures/*/summary.json`)."""
    return {os.path.basename(str(video.get("video"))): {
        k: video.get(k) for k in ("persons", "people_per_frame", "chunks", "class_chunks", "finder_boxes")}
        for video in lectures}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _print(figures: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"video: {figures['video']}, model {figures['model']}, {figures['cpu_count']} CPUs, {args.workers} workers; "
          f"'default' below: {figures['candidate']}")
    for name in ("exact", "default"):
        bare = figures[f"bare_{name}"]
        ms = ", ".join(f"{k} {v:.1f}" for k, v in bare["ms_per_person_frame"].items())
        print(f"bare loop {name}, first {bare['video_seconds']:.0f} s: {bare['realtime_factor']:.2f}x real time, "
              f"{bare['persons']} persons, ms per person-frame: {ms} ({bare['poses_held']} person-frames held still)")
    print(f"landmark deviation default vs exact: {figures['landmark_deviation_sw']} shoulder widths")
    model = figures["landmark_model_ms"]
    print(f"landmark model, one core: {model['whole_graph']:.1f} ms a pose as shipped, {model['pruned']:.1f} ms pruned "
          f"to the outputs read (x{model['speedup']:.2f})")
    print(f"people found (default): {figures['people']}")
    if figures["tracks_per_student"]:
        print(f"track ids per labelled student, default bare loop: {figures['tracks_per_student']}")
    for name in ("exact", "default"):
        run = figures[name]
        if run is None:
            continue
        share = ", ".join(f"{k} {100 * v:.0f}%" for k, v in run["stage_share"].items())
        print(f"pipeline {name}: {run['realtime_factor']:.2f}x real time end to end, "
              f"{run.get('steady_realtime_factor')}x steady; stages: {share}")
    for key in ("agreement", "clips_agreement"):
        for video, result in (figures[key] or {}).items():
            print(f"per-second agreement default vs exact, {os.path.basename(video)}: {result['agreement']} "
                  f"over {result['seconds']} s; persons exact {result['persons_reference']}, default "
                  f"{result['persons']}, paired {result['paired']}")
