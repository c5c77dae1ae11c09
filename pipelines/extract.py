"""Extraction: clip URIs in, normalised landmark sequences out as schema-fixed TFRecord shards.

    poseact extract --input MANIFEST_OR_CLASS_DIR --output DIR [Beam pipeline options]

Outputs in DIR: `{train,val,test}-NNNNN-of-MMMMM.tfrecord`, `schema.pbtxt`, `classes.json`,
`errors.jsonl` (one dead letter per failed clip) and `summary.json`.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import logging
import tempfile
import time
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, StandardOptions

from pipelines import progress, sinks
from poseact import pose_model, schema, storage
from poseact.errors import ClipError
from poseact.extraction import ClipStats, ExtractConfig, clip_id, extract_clip
from poseact.manifest import ClipSpec, class_names, read_clips
from poseact.normalize import NORMALIZATION_VERSION
from poseact.pose import PoseConfig, PoseLandmarkerModel
from poseact.splits import SPLITS, assign_splits
from poseact.video import VideoLimits

_LOG = logging.getLogger(__name__)
LOCAL_RUNNERS = (None, "DirectRunner", "direct", "SwitchingDirectRunner", "BundleBasedDirectRunner")


class ExtractClipFn(beam.DoFn):
    """Clip spec in; `(split, clip_id, serialized tf.Example)` out, or a dead letter on `errors`.

    Every clip also yields its `ClipStats` on `stats`, so the summary accounts for each input.
    """

    def __init__(
        self,
        model_path: str,
        model_spec: str,
        pose_config: PoseConfig,
        config: ExtractConfig,
        classes: list[str],
        progress_dir: str | None = None,
    ) -> None:
        self._model_path = model_path
        self._model_spec = model_spec
        self._pose_config = pose_config
        self._config = config
        self._label_ids = {name: i for i, name in enumerate(classes)}
        self._progress_dir = progress_dir
        self._ok = Metrics.counter("extract", "clips_written")
        self._failed = Metrics.counter("extract", "clips_failed")
        self._frames = Metrics.counter("extract", "frames_kept")
        self._detected = Metrics.counter("extract", "frames_detected")
        self._load_ms = Metrics.distribution("extract", "model_load_ms")

    def setup(self) -> None:
        import os  # noqa: PLC0415

        start = time.perf_counter()
        path = self._model_path
        if not os.path.isfile(path):  # remote worker: resolve from its own cache or the container
            path = str(pose_model.resolve(self._model_spec).path)
        self._model = PoseLandmarkerModel(path, self._pose_config)
        self._schema = schema.load_schema()
        self._load_ms.update(int(1000 * (time.perf_counter() - start)))

    def process(self, spec: ClipSpec):
        start = time.time()
        try:
            row, stats = extract_clip(spec, self._label_ids[spec.label], self._model, self._config)
            data = schema.encode([row], self._schema)[0]
            self._ok.inc()
            yield (spec.split, row[schema.CLIP_ID], data)
        except ClipError as err:
            stats = err.stats or ClipStats(spec.label, spec.split, ok=False)
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(
                "errors",
                {"uri": spec.uri, "label": spec.label, "split": spec.split, "stage": err.stage, "reason": err.reason},
            )
        self._frames.inc(stats.frames_kept)
        self._detected.inc(stats.frames_detected)
        yield beam.pvalue.TaggedOutput("stats", dataclasses.asdict(stats))
        progress.mark_done(
            self._progress_dir,
            clip_id(spec.uri),
            {"start": start, "end": time.time(), "frames": stats.frames_kept, "ok": stats.ok},
        )


class ExtractClips(beam.PTransform):
    """Clip specs in; a dict of PCollections out: `examples`, `errors` and `stats`.

    No I/O besides reading each clip; writing is the caller's.
    """

    def __init__(self, fn: ExtractClipFn) -> None:
        super().__init__()
        self._fn = fn

    def expand(self, specs):
        results = (
            specs
            | "Spread" >> beam.Reshuffle()
            | "Extract" >> beam.ParDo(self._fn).with_outputs("errors", "stats", main="examples")
        )
        return {"examples": results.examples, "errors": results.errors, "stats": results.stats}


def summarize(stats: list[dict[str, Any]], clips_in: int, static: dict[str, Any]) -> dict[str, Any]:
    """Counts over all clips (deterministic: no timings but summed stage seconds in `stage_seconds`)."""
    per_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_split: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals: collections.Counter = collections.Counter()
    seconds: collections.Counter = collections.Counter()
    for s in stats:
        outcome = "written" if s["ok"] else "failed"
        per_class[s["label"]][outcome] += 1
        per_split[s["split"]][outcome] += 1
        for key in ("frames_decoded", "frames_kept", "frames_detected"):
            totals[key] += s[key]
        for key in ("read_s", "decode_s", "pose_s"):
            seconds[key[:-2]] += s[key]
    written = sum(1 for s in stats if s["ok"])
    return {
        **static,
        "clips_in": clips_in,
        "clips_written": written,
        "clips_failed": len(stats) - written,
        "per_class": {k: {"written": v["written"], "failed": v["failed"]} for k, v in sorted(per_class.items())},
        "per_split": {k: {"written": v["written"], "failed": v["failed"]} for k, v in sorted(per_split.items())},
        **{k: int(v) for k, v in sorted(totals.items())},
        "detection_rate": round(totals["frames_detected"] / totals["frames_kept"], 4) if totals["frames_kept"] else 0.0,
        "stage_seconds": {k: round(v, 3) for k, v in sorted(seconds.items())},
    }


def build_parser() -> argparse.ArgumentParser:
    """Flags of `poseact extract` (everything else goes to Beam's PipelineOptions)."""
    parser = argparse.ArgumentParser(prog="poseact extract", description=__doc__.split("\n")[1])
    parser.add_argument("--input", required=True, help="manifest (.csv/.jsonl) or folder of class folders")
    parser.add_argument("--output", required=True, help="output folder (local path, gs://, s3://, ...)")
    parser.add_argument("--pose-model", default="full", help="lite, full, heavy, a .task path or a URL")
    parser.add_argument("--fps", type=float, default=15.0, help="sample frames to this rate (0 keeps all)")
    parser.add_argument("--num-poses", type=int, default=2, help="people detected per frame before choosing one")
    parser.add_argument("--classes", default="", help="comma-separated allowed labels (default: all seen)")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0, help="split assignment seed")
    parser.add_argument("--num-shards", type=int, default=1, help="shards per split")
    parser.add_argument("--max-duration", type=float, default=600.0, help="reject clips longer than this (s)")
    parser.add_argument("--max-pixels", type=int, default=4096 * 2160, help="reject larger frames")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar for local runs")
    return parser


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run extraction; returns the summary (also written to `OUTPUT/summary.json`).

    Raises:
        poseact.manifest.ManifestError: The input list is unusable (before any work starts).
        poseact.pose_model.PoseModelError: No pose model could be obtained.
    """
    args, beam_args = build_parser().parse_known_args(argv)
    if args.num_shards < 1:
        raise ValueError("--num-shards must be at least 1")
    classes_arg = [c.strip() for c in args.classes.split(",") if c.strip()] or None
    specs = read_clips(args.input, classes_arg)
    specs = assign_splits(specs, val_fraction=args.val_fraction, test_fraction=args.test_fraction, seed=args.seed)
    classes = class_names(specs, classes_arg)
    model = pose_model.resolve(args.pose_model)
    _LOG.info("Using %s", model.describe())
    options = PipelineOptions(beam_args)
    options.view_as(SetupOptions).save_main_session = False
    runner = options.view_as(StandardOptions).runner
    local = runner in LOCAL_RUNNERS
    config = ExtractConfig(
        fps=args.fps or None,
        limits=VideoLimits(max_duration_s=args.max_duration, max_pixels=args.max_pixels),
        max_frames=schema.max_frames(),
    )
    static = {
        "input": args.input,
        "classes": classes,
        "fps": config.fps,
        "max_frames": config.max_frames,
        "num_poses": args.num_poses,
        "schema_hash": schema.schema_hash(),
        "normalization_version": NORMALIZATION_VERSION,
        "pose_model": {"name": model.name, "sha256": model.sha256},
        "shards": [sinks.shard_name(p, i, args.num_shards) for p in SPLITS for i in range(args.num_shards)],
    }
    storage.makedirs(args.output)
    storage.write_atomic(storage.join(args.output, "schema.pbtxt"), schema.schema_text().encode())
    sinks.write_json(storage.join(args.output, "classes.json"), classes)
    with tempfile.TemporaryDirectory(prefix="poseact-progress-") as progress_dir:
        fn = ExtractClipFn(
            str(model.path), args.pose_model, PoseConfig(num_poses=args.num_poses), config, classes,
            progress_dir if local else None,
        )
        started = time.time()
        with beam.Pipeline(options=options) as pipeline, progress.ProgressBar(
            progress_dir, len(specs), "extract", enabled=local and not args.no_progress
        ):
            out = pipeline | "Clips" >> beam.Create(specs) | "ExtractClips" >> ExtractClips(fn)
            _ = out["examples"] | "WriteShards" >> sinks.WriteShards(args.output, SPLITS, args.num_shards)
            _ = out["errors"] | "WriteErrors" >> sinks.WriteJsonLines(storage.join(args.output, "errors.jsonl"), "uri")
            _ = (
                out["stats"]
                | "CollectStats" >> beam.combiners.ToList()
                | "Summarize" >> beam.Map(summarize, len(specs), static)
                | "WriteSummary" >> beam.Map(lambda s: sinks.write_json(storage.join(args.output, "summary.json"), s))
            )
        wall = time.time() - started
        marks = progress.read_marks(progress_dir) if local else []
    return _finish_summary(args.output, wall, runner, options, marks)


def _finish_summary(output: str, wall: float, runner, options, marks) -> dict[str, Any]:
    """Add the run's timings (the only part of summary.json that differs between identical runs)."""
    import json  # noqa: PLC0415

    uri = storage.join(output, "summary.json")
    summary = json.loads(storage.read_bytes(uri))
    steady = progress.steady_state(marks)
    frames = summary["frames_kept"]
    summary["run"] = {
        "runner": str(runner or "DirectRunner"),
        "options": {k: v for k, v in options.get_all_options(drop_default=True).items() if "token" not in k.lower()
                    and "secret" not in k.lower() and "key" not in k.lower()},
        "wall_seconds": round(wall, 3),
        "clips_per_second": round(summary["clips_in"] / wall, 3) if wall else 0.0,
        "frames_per_second": round(frames / wall, 2) if wall else 0.0,
        "steady_frames_per_second": round(steady["frames"] / steady["seconds"], 2) if steady["seconds"] else None,
    }
    sinks.write_json(uri, summary)
    return summary
