"""The few lines each command prints when it ends: what went in, what came out, what failed, where to look.

The full figures stay in the outputs (`summary.json`, `run.json`, `metrics.json`); these lines only
point at them.
"""

from __future__ import annotations

import json
import os
from typing import Any

from poseact.common import storage

FAILED_SHOWN = 3  # failed inputs named in the summary; the rest are counted


def _name(uri: str) -> str:
    return os.path.basename(uri.rstrip("/")) or uri


def failed_inputs(errors_uri: str, limit: int = FAILED_SHOWN) -> list[str]:
    """Lines naming the first failed inputs of `errors.jsonl` (stage and reason), then how many more."""
    if not storage.exists(errors_uri):
        return []
    rows = [json.loads(line) for line in storage.read_bytes(errors_uri).decode().splitlines() if line.strip()]
    lines = [f"  failed: {_name(r.get('uri', '?'))} ({r.get('stage', '?')}: {str(r.get('reason', ''))[:120]})"
             for r in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more in {errors_uri}")
    return lines


def _tail(output: str, log: str | None, extra: list[str], files: str) -> list[str]:
    lines = [*extra, f"  outputs: {output}: {files}"]
    if log:
        lines.append(f"  log: {log}")
    return lines


def clips_lines(command: str, summary: dict[str, Any], output: str, log: str | None) -> list[str]:
    """Closing lines of `extract` and `import`."""
    run = summary.get("run", {})
    head = (f"{command}: {summary['clips_in']} clips in, {summary['clips_written']} written, "
            f"{summary['clips_failed']} failed; {summary.get('frames_kept', 0)} frames")
    if "detection_rate" in summary and summary.get("pose_model"):
        head += f", pose found in {100 * summary['detection_rate']:.0f}%"
    if run.get("wall_seconds") is not None:
        head += f"; {run['wall_seconds']:.0f} s"
    return [head, *failed_inputs(storage.join(output, "errors.jsonl")),
            *_tail(output, log, [], "train/val/test-*.tfrecord shards, summary.json, errors.jsonl")]


def label_lines(summary: dict[str, Any], output: str, log: str | None) -> list[str]:
    """Closing lines of `label` (one batch) or of `label --watch` (all its batches)."""
    if "batches" in summary:
        head = (f"label --watch: {summary['batches']} batch(es), {summary['videos_labelled']} videos labelled, "
                f"{summary['videos_failed']} failed, {summary['videos_skipped']} skipped")
    else:
        run = summary.get("run", {})
        head = (f"label: {summary['videos_in']} videos in, {summary['videos_labelled']} labelled, "
                f"{summary['videos_failed']} failed, {summary['videos_skipped']} skipped; "
                f"{summary['persons_total']} persons, {summary['segments_total']} segments")
        if run.get("wall_seconds") is not None:
            head += f"; {run['wall_seconds']:.0f} s"
        if run.get("realtime_factor"):
            head += f" ({run['realtime_factor']:.2f}x real time)"
    return [head, *failed_inputs(storage.join(output, "errors.jsonl")),
            *_tail(output, log, [f"  report: {storage.join(output, 'report.html')}"],
                   "segments.parquet, segments.csv, tracks.parquet, lectures/<video>/")]


def train_lines(output: str, log: str | None) -> list[str]:
    """Closing lines of `train`, from the model folder's `metrics.json`."""
    metrics = json.loads(storage.read_bytes(storage.join(output, "metrics.json")))
    sizes = "/".join(str(metrics.get(s, {}).get("n", 0)) for s in ("train", "val", "test"))
    head = (f"train: {metrics.get('model')} on {sizes} clips (train/val/test), {metrics.get('epochs_run')} epochs, "
            f"{metrics.get('train_seconds', 0):.0f} s")
    lines = [head]
    for split in ("val", "test"):
        part = metrics.get(split, {})
        if part.get("n"):
            lines.append(f"  {split}: accuracy {part.get('accuracy')}, macro-F1 {part.get('macro_f1')} (n={part['n']})")
    if "kfold" in metrics:
        kf = metrics["kfold"]
        lines.append(f"  {kf['k']}-fold: accuracy {kf['accuracy']['mean']} ± {kf['accuracy']['std']}")
    return lines + _tail(output, log, [f"  report: {storage.join(output, 'report.html')}"],
                         "model.keras, saved_model/, model.tflite, model_card.json, metrics.json")


def dry_run_lines(command: str, summary: dict[str, Any], log: str | None) -> list[str]:
    """Closing lines of a Dataflow dry run (nothing was submitted, read or written)."""
    inputs = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()
                       if k not in ("dry_run", "runner", "steps", "job_name"))
    lines = [f"{command}: dry run on {summary['runner']}: job built with {summary.get('steps')} steps ({inputs}); "
             "nothing submitted, nothing read from or written to the output"]
    if log:
        lines.append(f"  log: {log}")
    return lines
