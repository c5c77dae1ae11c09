"""`poseact extract --boxes PATH`: annotated boxes in, each box's person as a labelled sequence in the same shards.

    poseact extract --boxes PATH --output DIR [--box-part body|head] [--box-format auto|yolo|voc|ava]

PATH is a YOLO folder, a Pascal VOC folder or an AVA-style CSV beside its videos (`poseact.data.annotations`). Each
annotated frame is posed as the label path poses a lecture (`poseact.data.box_extraction`): an image as a still
sequence, a video's instant as the window around it. Each box whose person is found becomes one row of the clip
schema, labelled with the box's class; every other box, and every row the reader could not read, is a dead letter
in `errors.jsonl` with its reason. `summary.json` counts every box.

Splits are grouped so that near copies never straddle them: the frames of one recording whose numbers fall in one
block of `--group-frames` consecutive numbers are one group (a video's instants: the whole video), and groups are
dealt to splits as clip extraction deals subjects (`poseact.data.splits`). Re-running gives the same bytes.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import tempfile
import time
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines import progress, routing, runs, sinks
from poseact.common import redact, storage
from poseact.common.errors import ClipError
from poseact.data import schema
from poseact.data.annotations import BadRow, BoxedImage, read_boxes, recording_group
from poseact.data.box_extraction import (
    BoxConfig,
    BoxOutcome,
    box_rows,
    box_uri,
    instant_index,
    pose_people,
    still_frames,
)
from poseact.data.manifest import ClipSpec
from poseact.data.normalize import NORMALIZATION_VERSION
from poseact.data.splits import SPLITS, assign_splits
from poseact.people.tracker import PeopleConfig, finder_at_hand, finder_buffer
from poseact.pose import pose_model
from poseact.pose.video import VideoLimits, iter_frames, probe

# Frames of one recording whose numbers lie within one block of this many are one split group. Exports number
# frames in the order they were taken, and frames a second or two apart are near copies (classroom_cctv: 60 frames
# numbered 3-135 of one room); blocks of 10 numbers keep neighbours together and leave whole blocks to each split.
GROUP_FRAMES = 10


def dead_letter(image: BoxedImage, index: int | None, label: str, stage: str, reason: str,
                box: tuple | None = None) -> dict[str, Any]:
    """One box (or row) that is not a training row, and why."""
    return {"uri": box_uri(image, index) if index is not None else image.path, "frame": image.key, "box": box,
            "label": label, "stage": stage, "reason": reason}


class BoxFramesFn(beam.DoFn):
    """One annotated frame in: a `(split, id, tf.Example)` per box whose person is found, a dead letter per other
    box on `errors`, and the frame's counts on `stats`. The pose and finder models load once per worker."""

    def __init__(self, model_path: str, model_spec: str, model_sha256: str, people: PeopleConfig, config: BoxConfig,
                 label_ids: dict[str, int], splits: dict[str, str], block: int,
                 progress_dir: str | None = None) -> None:
        self._model_path, self._model_spec, self._model_sha256 = model_path, model_spec, model_sha256
        self._people, self._config = people, config
        self._label_ids, self._splits, self._block = label_ids, splits, block
        self._progress_dir = progress_dir
        self._written = Metrics.counter("boxes", "rows_written")
        self._dead = Metrics.counter("boxes", "boxes_dead")

    def setup(self) -> None:
        model = pose_model.resolve_for_worker(self._model_path, self._model_spec, self._model_sha256)
        self._buffer = model.read_bytes()
        self._finder = finder_buffer(self._people)
        self._schema = schema.load_schema()

    def _frames(self, image: BoxedImage):
        import cv2  # noqa: PLC0415

        if image.time_s is None:
            bgr = cv2.imread(image.path)
            if bgr is None:
                raise ClipError("read", f"{image.path}: not a readable image")
            return still_frames(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self._config)
        # The window of max_frames around the instant, as the label path samples it.
        half = 1000.0 * self._config.max_frames / self._config.fps / 2
        limits = VideoLimits(max_duration_s=24 * 3600)
        info = probe(image.path, limits)
        start = max(0.0, 1000.0 * image.time_s - half)
        frames = iter_frames(image.path, self._config.fps, limits, info=info, span_ms=(start, start + 2 * half))
        return ((frame.timestamp_ms, frame.rgb) for frame in frames)

    def process(self, image: BoxedImage):
        started = time.time()
        group = recording_group(image, self._block)
        split = self._splits[group]
        try:
            times, tracks = pose_people(self._frames(image), self._buffer, self._people, self._config.fps,
                                        self._finder)
            if not len(times):
                raise ClipError("decode", "no frame could be decoded there")
            outcomes = box_rows(image, split, group, self._label_ids, times, tracks, instant_index(times, image),
                                self._config)
        except ClipError as err:
            # The frame itself failed: every box of it is a dead letter with that reason.
            outcomes = [BoxOutcome(index, label, tuple(float(v) for v in image.boxes[index]), stage=err.stage,
                                   reason=err.reason) for index, label in enumerate(image.labels)]
        for outcome in outcomes:
            if outcome.row is None:
                self._dead.inc()
                yield beam.pvalue.TaggedOutput("errors", dead_letter(image, outcome.index, outcome.label,
                                                                     outcome.stage, outcome.reason, outcome.box))
                continue
            self._written.inc()
            yield (split, outcome.row[schema.CLIP_ID], schema.encode([outcome.row], self._schema)[0])
        rows = [{"label": o.label, "split": split, "written": o.row is not None, "stage": o.stage,
                 "reason": o.reason} for o in outcomes]
        progress.mark_done(self._progress_dir, f"{image.key}", {"start": started, "end": time.time(), "frames": 1})
        yield beam.pvalue.TaggedOutput("stats", {"frame": image.key, "group": group, "split": split, "boxes": rows})


def summarize(stats: list[dict[str, Any]], bad_rows: int, static: dict[str, Any]) -> dict[str, Any]:
    """The run's counts: every box of every frame, and every row the reader could not read, accounted for."""
    boxes = [b for s in stats for b in s["boxes"]]
    by_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    by_split: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons = collections.Counter()
    for box in boxes:
        outcome = "written" if box["written"] else "dead"
        by_class[box["label"]][outcome] += 1
        by_split[box["split"]][outcome] += 1
        if not box["written"]:
            reasons[box["reason"]] += 1
    if bad_rows:
        reasons["unreadable annotation row"] += bad_rows
    written = sum(b["written"] for b in boxes)
    return {
        **static,
        "frames": len(stats), "groups": len({s["group"] for s in stats}),
        "boxes_in": len(boxes) + bad_rows, "rows_written": written, "dead_letters": len(boxes) - written + bad_rows,
        "dead_by_reason": dict(sorted(reasons.items())),
        "by_class": {k: dict(sorted(v.items())) for k, v in sorted(by_class.items())},
        "by_split": {k: dict(sorted(v.items())) for k, v in sorted(by_split.items())},
        "groups_by_split": {split: sorted({s["group"] for s in stats if s["split"] == split}) for split in SPLITS},
    }


def split_groups(images: list[BoxedImage], block: int, val_fraction: float, test_fraction: float,
                 seed: int) -> dict[str, str]:
    """Each split group's split: groups of frames (`recording_group`) dealt to splits by their boxes' classes."""
    specs = [ClipSpec(box_uri(image, index), label, recording_group(image, block))
             for image in images for index, label in enumerate(image.labels)]
    specs += [ClipSpec(image.path, "", recording_group(image, block)) for image in images if not image.labels]
    return {spec.group: spec.split for spec in assign_splits(specs, val_fraction=val_fraction,
                                                             test_fraction=test_fraction, seed=seed)}


def run(args: argparse.Namespace, beam_args: list[str]) -> dict[str, Any]:
    """Run `poseact extract --boxes`; returns the summary (also written to `OUTPUT/summary.json`).

    Raises:
        poseact.data.annotations.AnnotationError: PATH is none of the formats, or holds no annotated frame.
        poseact.pose.pose_model.PoseModelError: No pose model could be obtained.
    """
    from pipelines import label as label_job  # noqa: PLC0415 (the label path's people settings, one source)

    if args.num_shards < 1:
        raise ValueError("--num-shards must be at least 1")
    bad: list[BadRow] = []
    box_format, images = read_boxes(args.boxes, args.box_format, bad)
    classes_arg = [c.strip() for c in args.classes.split(",") if c.strip()]
    classes = classes_arg or sorted({label for image in images for label in image.labels})
    label_ids = {name: i for i, name in enumerate(classes)}
    splits = split_groups(images, args.group_frames, args.val_fraction, args.test_fraction, args.seed)
    label_args = label_job.build_parser().parse_args(["--input", "-", "--model", "rules", "--output", "-"])
    fps = args.fps or 15.0
    people = label_job._options(label_args, {"fps": fps, "max_frames": schema.max_frames()}).people  # noqa: SLF001
    # Every frame posed (no cap on poses per second): extraction is not bound to real time, and the sequences
    # should hold what the landmark model sees.
    people = dataclasses.replace(people, poses_per_second=None)
    config = BoxConfig(part=args.box_part, fps=fps, max_frames=schema.max_frames())
    model = pose_model.resolve(args.pose_model)
    options = runs.pipeline_options(beam_args)
    # Once, here, before any worker starts (without it, as `poseact label`: MediaPipe's landmarker, a warning).
    people = finder_at_hand(people)
    output = args.output
    static = {"input": redact.redact_text(args.boxes), "box_format": box_format, "box_part": args.box_part,
              "finder": people.finder,
              "classes": classes, "fps": fps, "still_frames": config.still_frames, "schema_hash": schema.schema_hash(),
              "max_frames": schema.max_frames(), "normalization_version": NORMALIZATION_VERSION,
              "group_rule": f"frames of one recording in blocks of {args.group_frames} consecutive numbers; a video's "
                            "instants: the video",
              "pose_model": {"name": model.name, "sha256": model.sha256},
              "shards": [sinks.shard_name(p, i, args.num_shards) for p in SPLITS for i in range(args.num_shards)]}
    storage.makedirs(output)
    storage.write_atomic(storage.join(output, "schema.pbtxt"), schema.schema_text().encode())
    sinks.write_json(storage.join(output, "classes.json"), classes)
    summary_uri = storage.join(output, "summary.json")
    bad_letters = [{"uri": row.source, "frame": "", "box": None, "label": "", "stage": "annotation",
                    "reason": f"line {row.line}: {row.reason}" if row.line else row.reason} for row in bad]
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="poseact-progress-") as progress_dir, progress.ProgressBar(
            progress_dir, len(images), "extract --boxes", enabled=not args.no_progress,
            wait_for_first=not runs.is_local(options), unit="frame"):
        pipeline = runs.make_pipeline(options)
        fn = BoxFramesFn(str(model.path), args.pose_model, model.sha256, people, config, label_ids, splits,
                         args.group_frames, progress_dir)
        out = (pipeline | "Frames" >> beam.Create(images) | "Spread" >> beam.Reshuffle()
               | "Boxes" >> routing.TaggedParDo(fn, "errors", "stats", main="examples"))
        shards = out["examples"] | "WriteShards" >> sinks.WriteShards(output, SPLITS, args.num_shards)
        unread = pipeline | "UnreadRows" >> beam.Create(bad_letters)
        errors = ((out["errors"], unread) | "AllErrors" >> beam.Flatten()
                  | "WriteErrors" >> sinks.WriteJsonLines(storage.join(output, "errors.jsonl"), "uri"))
        _ = (out["stats"] | "CollectStats" >> routing.CollectAll()
             | "Summarize" >> beam.Map(summarize, len(bad), static)
             | "AfterOutputs" >> routing.After(shards, errors)
             | "WriteSummary" >> beam.Map(lambda s: sinks.write_json(summary_uri, s)))
        result = pipeline.run()
        result.wait_until_finish()
    summary = json.loads(storage.read_bytes(summary_uri))
    summary["run"] = {"runner": runs.runner_name(options), "wall_seconds": round(time.time() - started, 3)}
    sinks.write_json(summary_uri, summary)
    return summary


__all__ = ["GROUP_FRAMES", "BoxFramesFn", "dead_letter", "run", "split_groups", "summarize"]
