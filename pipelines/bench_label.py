"""`poseact bench label`: how fast lectures are labelled, next to what the pose model itself allows.

    poseact bench label [--input VIDEO] [--seconds 300] [--workers 2] [--model MODEL_DIR]

Without `--input` it makes a multi-person demo lecture (4 students, 1280x720, 30 fps, 5 minutes by default;
cached in `--work`). Without `--model` it exports an untrained paper model with the demo's card (15 fps,
48 frames): classification costs the same whatever the weights. In one run it measures:

(a) the bare loop: decode + person detection + per-person pose (`poseact.people`, one process, no Beam) over
    the first `--bare-seconds` of the video: the pose model's own speed on this video;
(b) the labelling pipeline on `--workers` DirectRunner worker processes over the whole video.

It prints video seconds labelled per wall-clock second for both, their ratio, and the pipeline's share
of time per stage (decode, detect, pose, classify), from the run's own stage timers.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from poseact import pose_model, storage

_CARD_FPS = 15.0


def make_inputs(work: str, seconds: float, video_fps: float, model_dir: str | None) -> tuple[str, str]:
    """The benchmark lecture and model folder (made once, reused from `work`)."""
    from poseact import demo  # noqa: PLC0415

    os.makedirs(work, exist_ok=True)
    video = os.path.join(work, f"lecture-{seconds:g}s-{video_fps:g}fps.mp4")
    if not os.path.exists(video):
        print(f"making a {seconds:g} s 1280x720 {video_fps:g} fps lecture with 4 students: {video}", flush=True)
        demo.make_demo_lecture(video + ".part.mp4", seconds=seconds, fps=video_fps, seed=7)
        os.replace(video + ".part.mp4", video)
    if model_dir:
        return video, model_dir
    model_dir = os.path.join(work, "untrained-model")
    if not os.path.exists(os.path.join(model_dir, "model_card.json")):
        import keras  # noqa: PLC0415

        from poseact import export, schema  # noqa: PLC0415
        from poseact.hparams import HParams  # noqa: PLC0415
        from poseact.models import build_paper_model  # noqa: PLC0415
        from poseact.normalize import NORMALIZATION_VERSION  # noqa: PLC0415

        keras.utils.set_random_seed(0)
        card = {"classes": list(demo.CLASSES), "max_frames": schema.max_frames(), "fps": _CARD_FPS,
                "normalization_version": NORMALIZATION_VERSION, "schema_hash": schema.schema_hash(),
                "model": "paper", "note": "untrained: for speed measurements only"}
        export.export_all(build_paper_model(len(demo.CLASSES), HParams()), model_dir, card)
    return video, model_dir


def bare_loop(video: str, seconds: float, fps: float, model_path: str) -> dict[str, float]:
    """Decode, detect and pose the first `seconds` of `video` in this process, as the pipeline does per chunk."""
    from poseact import lecture  # noqa: PLC0415
    from poseact.people import PeopleConfig  # noqa: PLC0415
    from poseact.video import Chunk, VideoLimits, probe  # noqa: PLC0415

    info = probe(video, VideoLimits(max_duration_s=24 * 3600))
    span = min(seconds, info.duration_s)
    with open(model_path, "rb") as handle:
        buffer = handle.read()
    start = time.perf_counter()
    pose = lecture.pose_chunk(video, info, Chunk(0, 0.0, span, span), fps, buffer, PeopleConfig(),
                              VideoLimits(max_duration_s=24 * 3600))
    wall = time.perf_counter() - start
    person_frames = int(pose.people_per_frame.sum())
    return {"video_seconds": span, "wall_seconds": wall, "realtime_factor": span / wall,
            "frames": len(pose.times_ms), "person_frames": person_frames,
            "pose_ms_per_person_frame": 1000 * pose.seconds["pose"] / max(person_frames, 1),
            "stage_seconds": pose.seconds}


def main(argv: list[str] | None = None) -> int:
    """Entry of `poseact bench label`."""
    parser = argparse.ArgumentParser(prog="poseact bench label", description=__doc__.split("\n")[0])
    parser.add_argument("--input", help="a lecture video (default: a generated 4-student lecture)")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the generated lecture")
    parser.add_argument("--video-fps", type=float, default=30.0, help="frame rate of the generated lecture")
    parser.add_argument("--model", help="model folder (default: an untrained paper model, 15 fps card)")
    parser.add_argument("--workers", type=int, default=2, help="DirectRunner worker processes")
    parser.add_argument("--chunk-seconds", type=float, default=30.0, help="seconds per parallel chunk")
    parser.add_argument("--bare-seconds", type=float, default=30.0, help="video seconds for the bare loop")
    parser.add_argument("--pose-model", default="full")
    parser.add_argument("--work", default=os.path.join(os.path.expanduser("~"), ".cache", "poseact", "bench"),
                        help="folder for the generated lecture, model and outputs")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    from pipelines import label  # noqa: PLC0415

    video, model_dir = make_inputs(args.work, args.seconds, args.video_fps, args.model)
    card = json.loads(storage.read_bytes(os.path.join(model_dir, "model_card.json")))
    model = pose_model.resolve(args.pose_model)
    a = bare_loop(video, args.bare_seconds, float(card["fps"]), str(model.path))
    out = os.path.join(args.work, "out")
    b = label.run(["--input", video, "--model", model_dir, "--output", out, "--force", "--pose-model", args.pose_model,
                   "--chunk-seconds", str(args.chunk_seconds), f"--direct_num_workers={args.workers}",
                   "--direct_running_mode=multi_processing" if args.workers > 1 else "--direct_running_mode=in_memory"])
    run = b["run"]
    figures = {
        "video": video, "model": model.name, "cpu_count": os.cpu_count(), "workers": args.workers,
        "a_bare": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in a.items() if k != "stage_seconds"},
        "b_pipeline": run,
        "b_over_a": round(run["realtime_factor"] / a["realtime_factor"], 3),
        "b_over_a_steady": round(run["steady_realtime_factor"] / a["realtime_factor"], 3)
        if run.get("steady_realtime_factor") else None,
    }
    print(f"video: {video} ({run['video_seconds']:.0f} s), pose model {model.describe()}, {os.cpu_count()} CPUs")
    print(f"(a) bare loop, 1 process, first {a['video_seconds']:.0f} s: {a['realtime_factor']:.2f}x real time, "
          f"{a['person_frames'] / max(a['frames'], 1):.2f} people per frame, "
          f"{a['pose_ms_per_person_frame']:.1f} ms pose per person-frame")
    print(f"(b) pipeline, {args.workers} workers, whole video: {run['realtime_factor']:.2f}x real time end to end, "
          f"{run['steady_realtime_factor']}x steady (start-up excluded)")
    print(f"b/a = {figures['b_over_a']} end to end, {figures['b_over_a_steady']} steady")
    share = ", ".join(f"{k} {100 * v:.0f}%" for k, v in run["stage_share"].items())
    print(f"pipeline time per stage: {share}")
    if args.json:
        storage.write_atomic(args.json, json.dumps(figures, indent=2).encode())
    return 0
