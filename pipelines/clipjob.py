"""What extraction and import share: the per-clip DoFn skeleton, common flags, and the job itself.

Both jobs turn a list of clips into the same outputs (shards, schema, classes, dead letters, summary);
they differ only in how one clip becomes a row (`ClipFn.convert`).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines import progress, routing, runs, sinks
from poseact.common import redact, storage
from poseact.common.errors import ClipError
from poseact.data import schema
from poseact.data.extraction import ClipStats, clip_id
from poseact.data.manifest import ClipSpec, class_names, read_clips
from poseact.data.normalize import NORMALIZATION_VERSION
from poseact.data.splits import SPLITS, assign_splits


class ClipFn(beam.DoFn):
    """Clip spec in; `(split, clip_id, serialized tf.Example)` out, or a dead letter on `errors`.

    Every clip also yields its `ClipStats` on `stats`, so the summary accounts for each input.
    Subclasses implement `convert`.
    """

    def __init__(self, namespace: str, classes: list[str], progress_dir: str | None) -> None:
        self._label_ids = {name: i for i, name in enumerate(classes)}
        self._progress_dir = progress_dir
        self._ok = Metrics.counter(namespace, "clips_written")
        self._failed = Metrics.counter(namespace, "clips_failed")
        self._frames = Metrics.counter(namespace, "frames_kept")
        self._detected = Metrics.counter(namespace, "frames_detected")

    def setup(self) -> None:
        self._schema = schema.load_schema()

    def convert(self, spec: ClipSpec, label_id: int) -> tuple[dict[str, Any], ClipStats]:
        """One clip to a schema row; raises `ClipError`."""
        raise NotImplementedError

    def process(self, spec: ClipSpec):
        start = time.time()
        try:
            row, stats = self.convert(spec, self._label_ids[spec.label])
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
            self._progress_dir, clip_id(spec.uri),
            {"start": start, "end": time.time(), "frames": stats.frames_kept, "ok": stats.ok},
        )


class ConvertClips(beam.PTransform):
    """Clip specs in; a dict of PCollections out: `examples`, `errors` and `stats`. No writing."""

    def __init__(self, fn: ClipFn) -> None:
        super().__init__()
        self._fn = fn

    def expand(self, specs):
        # TaggedParDo, not ParDo(...).with_outputs(...): the DaskRunner hands every output to each consumer.
        return (
            specs
            | "Spread" >> beam.Reshuffle()
            | "Convert" >> routing.TaggedParDo(self._fn, "errors", "stats", main="examples")
        )


def summarize(stats: list[dict[str, Any]], clips_in: int, static: dict[str, Any]) -> dict[str, Any]:
    """Counts over all clips; the summed stage seconds, which vary from run to run, go under `run`."""
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
    kept = totals["frames_kept"]
    return {
        **static,
        "clips_in": clips_in,
        "clips_written": written,
        "clips_failed": len(stats) - written,
        "per_class": {k: {"written": v["written"], "failed": v["failed"]} for k, v in sorted(per_class.items())},
        "per_split": {k: {"written": v["written"], "failed": v["failed"]} for k, v in sorted(per_split.items())},
        **{k: int(v) for k, v in sorted(totals.items())},
        "detection_rate": round(totals["frames_detected"] / kept, 4) if kept else 0.0,
        "run": {"stage_seconds": {k: round(v, 3) for k, v in sorted(seconds.items())}},
    }


def build_pipeline(
    pipeline: beam.Pipeline, specs: list[ClipSpec], fn: ClipFn, output: str, num_shards: int, static: dict[str, Any]
) -> None:
    """Add the clip job's steps to `pipeline`, without running it.

    Reads nothing and writes nothing by itself: the steps write shards, `errors.jsonl` and `summary.json`
    under `output` when the pipeline runs. Kept apart from `run_job` so that tests can build the same
    graph for other runners (Dataflow dry run, portable protos).

    Args:
        pipeline: The pipeline to add the steps to.
        specs: The clips, splits already assigned.
        fn: The per-clip DoFn.
        output: Output folder (local path or URL).
        num_shards: Shards per split.
        static: Summary entries fixed before the run (classes, digests, flags).
    """
    summary_uri = storage.join(output, "summary.json")
    out = pipeline | "Clips" >> beam.Create(specs) | "ConvertClips" >> ConvertClips(fn)
    shards = out["examples"] | "WriteShards" >> sinks.WriteShards(output, SPLITS, num_shards)
    errors = out["errors"] | "WriteErrors" >> sinks.WriteJsonLines(storage.join(output, "errors.jsonl"), "uri")
    # summary.json is written last, so its presence means the run completed; this also makes it the one
    # final step on which everything depends (the DaskRunner computes only the last step's inputs).
    _ = (
        out["stats"]
        | "CollectStats" >> routing.CollectAll()
        | "Summarize" >> beam.Map(summarize, len(specs), static)
        | "AfterOutputs" >> routing.After(shards, errors)
        | "WriteSummary" >> beam.Map(lambda s: sinks.write_json(summary_uri, s))
    )


def run_job(
    args: argparse.Namespace,
    beam_args: list[str],
    extensions: tuple[str, ...],
    make_fn: Callable[[list[str], str | None], ClipFn],
    static: dict[str, Any],
    label: str,
) -> dict[str, Any]:
    """Read and split the clip list, run the pipeline, write every output; returns the summary.

    Raises:
        poseact.data.manifest.ManifestError: The clip list is unusable (raised before any work starts).
    """
    if args.num_shards < 1:
        raise ValueError("--num-shards must be at least 1")
    classes_arg = [c.strip() for c in args.classes.split(",") if c.strip()] or None
    specs = read_clips(args.input, classes_arg, extensions)
    specs = assign_splits(specs, val_fraction=args.val_fraction, test_fraction=args.test_fraction, seed=args.seed)
    classes = class_names(specs, classes_arg)
    options = runs.pipeline_options(beam_args)
    dry_run = runs.is_dry_run(options)
    static = {
        **static, "input": redact.redact_text(args.input), "classes": classes, "schema_hash": schema.schema_hash(),
        "max_frames": schema.max_frames(), "normalization_version": NORMALIZATION_VERSION,
        "shards": [sinks.shard_name(p, i, args.num_shards) for p in SPLITS for i in range(args.num_shards)],
    }
    output = args.output
    if not dry_run:  # a dry run builds the job only: no I/O against the output folder or its bucket
        storage.makedirs(output)
        storage.write_atomic(storage.join(output, "schema.pbtxt"), schema.schema_text().encode())
        sinks.write_json(storage.join(output, "classes.json"), classes)
    summary_uri = storage.join(output, "summary.json")
    with tempfile.TemporaryDirectory(prefix="poseact-progress-") as progress_dir:
        # Workers that share this machine's disk (the in-process runner, a local Dask cluster) drop markers
        # here; others cannot see the folder and skip them (progress.mark_done).
        fn = make_fn(classes, progress_dir)
        started = time.time()
        # The bar's context is outermost: it shows the whole run.
        with progress.ProgressBar(progress_dir, len(specs), label, enabled=not args.no_progress and not dry_run,
                                  wait_for_first=not runs.is_local(options)):
            pipeline = runs.make_pipeline(options)
            build_pipeline(pipeline, specs, fn, output, args.num_shards, static)
            result = pipeline.run()
            result.wait_until_finish()
        wall = time.time() - started
        marks = progress.read_marks(progress_dir)
        # Steady-state figures only when every clip was seen (some workers may have been elsewhere).
        marks = marks if len(marks) == len(specs) else []
    if dry_run:
        return runs.dry_run_summary(result, options, clips_in=len(specs))
    return _finish_summary(summary_uri, wall, runs.runner_name(options), options, marks)


def _finish_summary(uri: str, wall: float, runner: str, options, marks) -> dict[str, Any]:
    """Add the run's timings (the only part of summary.json that differs between identical runs)."""
    summary = json.loads(storage.read_bytes(uri))
    steady = progress.steady_state(marks)
    frames = summary["frames_kept"]
    summary["run"] = {
        **summary.get("run", {}),
        "runner": runner,
        "options": redact.redact_options(options.get_all_options(drop_default=True)),
        "wall_seconds": round(wall, 3),
        "clips_per_second": round(summary["clips_in"] / wall, 3) if wall else 0.0,
        "frames_per_second": round(frames / wall, 2) if wall else 0.0,
        "steady_frames_per_second": round(steady["frames"] / steady["seconds"], 2) if steady["seconds"] else None,
        "clips_per_worker": steady["items_per_worker"],
    }
    sinks.write_json(uri, summary)
    return summary
