"""`poseact bench extract|train`: speed figures measured in one run.

`extract`: the extraction pipeline against the bare pose-model loop.

Prints frames per second for (a) a bare single-process loop (decode, sample, MediaPipe VIDEO mode, one
landmarker per clip as in the pipeline), (b) the pipeline on DirectRunner with 1 worker and (c) with
2 worker processes, all on the same clips, and the ratios b/a and c/a. Each pipeline figure is given
end to end (process start-up included) and in steady state (first clip start to last clip end, from the
workers' progress markers). With `--dask`, also (d) on Beam's DaskRunner with 1 and (e) with 2 Dask worker
processes (pipelines/bench_dask.py), with each worker's peak resident memory.

`train`: training throughput (sequences per second, seconds per epoch of 256 sequences) and inference
latency per sequence of `.keras` against TFLite, for every model.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from poseact.common import arguments, storage
from poseact.data.manifest import read_clips
from poseact.pose import pose_model, video
from poseact.pose.landmarker import PoseConfig, PoseLandmarkerModel


def bare_loop(manifest: str, model_path: str, fps: float, num_poses: int) -> dict[str, float]:
    """Decode and landmark every clip in this process, nothing else."""
    model = PoseLandmarkerModel(model_path, PoseConfig(num_poses=num_poses))
    specs = read_clips(manifest)
    with storage.local_copy(specs[0].uri) as path:  # warm-up, as the pipeline's workers get in setup
        model.track_clip(video.iter_frames(path, fps))
    frames = 0
    start = time.perf_counter()
    for spec in specs:
        with storage.local_copy(spec.uri) as path:
            frames += model.track_clip(video.iter_frames(path, fps)).num_frames
    seconds = time.perf_counter() - start
    return {"frames": frames, "seconds": seconds, "fps": frames / seconds}


def compare_model(manifest: str, name: str, common: tuple) -> dict[str, float]:
    """The bare loop with pose model `name`, and the mean distance of its landmarks 1-24 from those of the
    main model (`common[0]`) over the frames both found the subject in."""
    model_path, fps, num_poses = common
    other = pose_model.resolve(name)
    timing = bare_loop(manifest, str(other.path), fps, num_poses)
    main = PoseLandmarkerModel(model_path, PoseConfig(num_poses=num_poses))
    alt = PoseLandmarkerModel(str(other.path), PoseConfig(num_poses=num_poses))
    gaps = []
    for spec in read_clips(manifest):
        with storage.local_copy(spec.uri) as path:
            x = main.track_clip(video.iter_frames(path, fps))
            y = alt.track_clip(video.iter_frames(path, fps))
        both = (x.detected == 1) & (y.detected == 1)
        if both.any():
            gaps.append(float(abs(x.landmarks[both][:, 1:25, :2] - y.landmarks[both][:, 1:25, :2]).mean()))
    return {**timing, "gap": round(sum(gaps) / len(gaps), 4) if gaps else None}


def pipeline_run(manifest: str, output: str, model_path: str, fps: float, num_poses: int, workers: int) -> dict:
    """The extraction pipeline with `workers` DirectRunner workers."""
    from pipelines import extract  # noqa: PLC0415

    mode = "in_memory" if workers == 1 else "multi_processing"
    summary = extract.run([
        "--input", manifest, "--output", output, "--pose-model", model_path, "--fps", str(fps),
        "--num-poses", str(num_poses), "--no-progress", "--runner", "DirectRunner",
        f"--direct_num_workers={workers}", f"--direct_running_mode={mode}",
    ])
    run = summary["run"]
    return {
        "frames": summary["frames_kept"],
        "seconds": run["wall_seconds"],
        "fps": run["frames_per_second"],
        "steady_fps": run["steady_frames_per_second"],
    }


def _dask_runs(manifest: str, work: str, common: tuple) -> dict[str, dict]:
    """(d) and (e): the pipeline on local Dask clusters of 1 and 2 workers."""
    from pipelines import bench_dask  # noqa: PLC0415

    return {key: bench_dask.dask_run(manifest, os.path.join(work, key), *common, workers=n)
            for key, n in (("d", 1), ("e", 2))}


def _report_dask(runs: dict[str, dict], bare_fps: float) -> dict:
    """Print one line a Dask run and return its figures, with ratios to the bare loop's `bare_fps`."""
    figures = {}
    for key, r in runs.items():
        ratio = round(r["fps"] / bare_fps, 3)
        steady = round(r["steady_fps"] / bare_fps, 3) if r["steady_fps"] else None
        figures.update({f"{key}_dask_{r['workers']}_workers_fps": r["fps"], f"{key}_steady_fps": r["steady_fps"],
                        f"{key}_over_a": ratio, f"{key}_over_a_steady": steady,
                        **{f"{key}_{name}": r[name] for name in
                           ("clips_per_worker", "cluster_start_s", "warm_up_s", "worker_peak_rss_mib")}})
        print(f"({key}) pipeline, Dask, {r['workers']} worker(s)  : {r['fps']:8.2f} fps end to end, "
              f"{r['steady_fps']} steady; {key}/a = {ratio} end to end, {steady} steady; cluster start "
              f"{r['cluster_start_s']} s, warm-up job {r['warm_up_s']} s, clips per worker {r['clips_per_worker']}, "
              f"worker peak RSS {r['worker_peak_rss_mib']} MiB")
    return figures


def bench_train(sequences: int = 256, epochs: int = 3, repeats: int = 50) -> dict[str, dict[str, float]]:
    """Training throughput and per-sequence inference latency (.keras vs TFLite) of every model.

    Speed does not depend on what the sequences show, so they are random (fixed seed).
    """
    import keras  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from poseact.data import schema  # noqa: PLC0415
    from poseact.learn import export, hparams  # noqa: PLC0415
    from poseact.learn.models import MODEL_BUILDERS, build_model, compile_model  # noqa: PLC0415

    rng = np.random.default_rng(0)
    inputs = {schema.POSE: rng.normal(size=(sequences, 48, 24, 3)).astype(np.float32),
              schema.FRAME_MASK: (np.arange(48)[None] < rng.integers(10, 49, size=(sequences, 1))).astype(np.float32)}
    labels = keras.utils.to_categorical(rng.integers(0, 3, size=sequences), 3)
    results = {}
    for name in MODEL_BUILDERS:
        hp = hparams.HParams(model=name)
        model = compile_model(build_model(name, 3, hp), hp)
        model.fit(inputs, labels, batch_size=hp.batch_size, epochs=1, verbose=0)  # trace and warm up
        start = time.perf_counter()
        model.fit(inputs, labels, batch_size=hp.batch_size, epochs=epochs, verbose=0)
        epoch_s = (time.perf_counter() - start) / epochs
        one = {k: v[:1] for k, v in inputs.items()}
        model.predict_on_batch(one)  # builds the compiled predict function
        start = time.perf_counter()
        for _ in range(repeats):
            model.predict_on_batch(one)
        keras_ms = 1000 * (time.perf_counter() - start) / repeats
        with tempfile.TemporaryDirectory() as tmp:
            export.export_all(model, tmp, {})
            lite = export.TFLiteClassifier(os.path.join(tmp, export.TFLITE_FILE))
            lite.predict(one)
            start = time.perf_counter()
            for _ in range(repeats):
                lite.predict(one)
            lite_ms = 1000 * (time.perf_counter() - start) / repeats
        results[name] = {"params": model.count_params(), "epoch_seconds": round(epoch_s, 3),
                         "train_sequences_per_second": round(sequences / epoch_s, 1),
                         "keras_ms_per_sequence": round(keras_ms, 2), "tflite_ms_per_sequence": round(lite_ms, 2)}
        print(f"{name:6s} params {results[name]['params']:>8,}  epoch {epoch_s:6.2f} s  "
              f"train {results[name]['train_sequences_per_second']:7.1f} seq/s  "
              f"latency .keras {keras_ms:6.2f} ms  TFLite {lite_ms:6.2f} ms")
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry of `poseact bench`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["label"]:
        from pipelines import bench_label  # noqa: PLC0415

        return bench_label.main(argv[1:])
    if argv[:1] == ["people"]:
        from pipelines import bench_people  # noqa: PLC0415

        return bench_people.main(argv[1:])
    parser = arguments.Parser(prog="poseact bench", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["extract", "train"])
    parser.add_argument("--input", help="manifest or class folders (default: a generated demo set)")
    parser.add_argument("--sessions", type=int, default=6, help="demo sessions to generate (3 clips per photo each)")
    parser.add_argument("--pose-model", default="full")
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--num-poses", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="also run on local Dask clusters of 1 and 2 workers")
    parser.add_argument("--also-model", action="append", default=[],
                        help="also run the bare loop with this pose model (lite, heavy, ...) and give its speed and "
                             "its landmarks' distance from --pose-model's; repeatable")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.what == "train":
        figures = bench_train()
        if args.json:
            storage.write_atomic(args.json, json.dumps(figures, indent=2).encode())
        return 0
    model = pose_model.resolve(args.pose_model)
    with tempfile.TemporaryDirectory(prefix="poseact-bench-") as work:
        manifest = args.input
        if not manifest:
            from poseact.demo import clips  # noqa: PLC0415

            manifest = clips.make_demo_dataset(os.path.join(work, "demo"), sessions=args.sessions, seed=1)
        common = (str(model.path), args.fps, args.num_poses)
        a = bare_loop(manifest, *common)
        others = {name: compare_model(manifest, name, common) for name in args.also_model}
        b = pipeline_run(manifest, os.path.join(work, "b"), *common, workers=1)
        c = pipeline_run(manifest, os.path.join(work, "c"), *common, workers=2)
        dask_runs = _dask_runs(manifest, work, common) if args.dask else {}
    figures = {
        "model": model.name, "frames": a["frames"], "cpu_count": os.cpu_count(),
        "a_bare_fps": round(a["fps"], 2),
        "b_pipeline_1_worker_fps": b["fps"], "b_steady_fps": b["steady_fps"],
        "c_pipeline_2_workers_fps": c["fps"], "c_steady_fps": c["steady_fps"],
        "b_over_a": round(b["fps"] / a["fps"], 3), "c_over_a": round(c["fps"] / a["fps"], 3),
        "b_over_a_steady": round(b["steady_fps"] / a["fps"], 3) if b["steady_fps"] else None,
        "c_over_a_steady": round(c["steady_fps"] / a["fps"], 3) if c["steady_fps"] else None,
    }
    frames = [a["frames"], b["frames"], c["frames"], *(r["frames"] for r in dask_runs.values())]
    if len(set(frames)) != 1:
        raise RuntimeError(f"runs saw different frames: {frames}")
    print(f"frames per run: {a['frames']} ({model.describe()})")
    print(f"(a) bare MediaPipe loop, 1 process : {figures['a_bare_fps']:8.2f} fps")
    print(f"(b) pipeline, 1 worker            : {b['fps']:8.2f} fps end to end, {b['steady_fps']} steady")
    print(f"(c) pipeline, 2 workers           : {c['fps']:8.2f} fps end to end, {c['steady_fps']} steady")
    print(f"b/a = {figures['b_over_a']} end to end, {figures['b_over_a_steady']} steady (target >= 0.9)")
    print(f"c/a = {figures['c_over_a']} end to end, {figures['c_over_a_steady']} steady (target >= 1.8)")
    figures.update(_report_dask(dask_runs, a["fps"]))
    for name, other in others.items():
        figures[f"bare_{name}_fps"] = round(other["fps"], 2)
        figures[f"bare_{name}_over_a"] = round(other["fps"] / a["fps"], 3)
        figures[f"bare_{name}_landmark_gap"] = other["gap"]
        print(f"(a) with {name}: {other['fps']:.2f} fps, {figures[f'bare_{name}_over_a']}x (a); landmarks 1-24 "
              f"{other['gap']} (mean |dx|, |dy|, normalised) from {model.name}'s")
    if args.json:
        storage.write_atomic(args.json, json.dumps(figures, indent=2).encode())
    return 0
