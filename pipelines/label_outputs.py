"""Labelling's outputs: each lecture's files, the run-level tables, errors.jsonl and run.json.

Everything here writes through `poseact.common.storage` (local, gs://, s3://), atomically, and in a fixed
order, so the same labels give the same bytes. The Beam wiring stays in `pipelines.label`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipelines import progress, sinks
from poseact.common import storage
from poseact.label import lecture_report, segments, snapshots
from poseact.pose.video import VideoInfo

_LOG = logging.getLogger(__name__)

LECTURES = "lectures"
DONE = "done.json"
REPORT = "report.html"
SEGMENT_COLUMNS = ("video", "person", "start_s", "end_s", "action", "confidence", "model")
TRACK_COLUMNS = ("video", "person", "first_s", "last_s", "frames_seen", "box_x0", "box_y0", "box_x1", "box_y1")


def video_key(uri: str) -> str:
    """A readable, unique folder name for a video: its file stem plus a hash of the whole URI."""
    stem = os.path.splitext(os.path.basename(uri.rstrip("/")))[0]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:60] or "video"
    return f"{safe}-{hashlib.sha256(uri.encode()).hexdigest()[:8]}"


@dataclasses.dataclass(frozen=True)
class FinishedLecture:
    """One lecture's results, ready to write.

    Attributes:
        key: Its folder name (`video_key`).
        uri: The video.
        info: Its probed header.
        segments: Every person's segments.
        tracks: One row per person (`poseact.label.lecture.merge_track_stats`).
        people_per_frame: People found in each owned frame, in time order.
        chunks: Chunks the video was cut into.
        classes: The model's classes.
        model_id: The model that labelled it (segments' `model` column).
        options: The labelling options (`pipelines.label.LabelOptions`), recorded in summary.json.
        fingerprint: What the labels depend on (`done.json`; a re-run with the same skips the video).
        pictures: Thumbnails and hand-raise snapshots for the report (`make_pictures`).
        tracking: The tracker's repairs summed over chunks (`poseact.label.lecture.ChunkPose.tracking`).
    """

    key: str
    uri: str
    info: VideoInfo
    segments: list[segments.Segment]
    tracks: list[dict[str, Any]]
    people_per_frame: list[int]
    chunks: int
    classes: list[str]
    model_id: str
    options: Any
    fingerprint: str
    pictures: lecture_report.Pictures
    tracking: dict[str, int] = dataclasses.field(default_factory=dict)


def write_lecture(output: str, done: FinishedLecture, overlay: Any = None) -> dict[str, Any]:
    """Write a lecture's folder: tables, timeline, summary, the overlay if asked, its `report.html`, and
    `done.json` last.

    Args:
        output: The run's output folder.
        done: The lecture's results.
        overlay: A callable `overlay(out_uri)` that renders `overlay.mp4`, or None for none.

    Returns:
        The lecture's row for the run (video, key, persons, segments, duration, frames).
    """
    from poseact.learn import plots  # noqa: PLC0415

    segs, tracks, info = done.segments, done.tracks, done.info
    seg_rows = [{"video": done.uri, "person": s.person, "start_s": s.start_s, "end_s": s.end_s,
                 "action": s.action, "confidence": s.confidence, "model": done.model_id} for s in segs]
    track_rows = [{"video": done.uri, "person": t["person"], "first_s": t["first_s"], "last_s": t["last_s"],
                   "frames_seen": t["frames"], **{k: t[k] for k in TRACK_COLUMNS[5:]}} for t in tracks]
    folder = storage.join(output, LECTURES, done.key)
    storage.makedirs(folder)
    write_table(storage.join(folder, "segments.parquet"), seg_rows, SEGMENT_COLUMNS)
    write_table(storage.join(folder, "tracks.parquet"), track_rows, TRACK_COLUMNS)
    duration = info.duration_s or (max((s.end_s for s in segs), default=0.0))
    plots.plot_timeline(segs, done.classes, duration, storage.join(folder, "timeline.png"),
                         title=os.path.basename(done.uri))
    summary = {
        "video": done.uri, "key": done.key, "model": done.model_id, "classes": done.classes,
        "duration_s": round(info.duration_s, 3), "width": info.width, "height": info.height, "fps": info.fps,
        "chunks": done.chunks, "persons": len(tracks), "frames": len(done.people_per_frame),
        "frames_seen_per_person": {str(t["person"]): int(t["frames"]) for t in tracks},
        "tracks_merged_as_duplicates": int(done.tracking.get("duplicates_ended", 0)),
        # In a class, tracks joined into another that sat on the same head (`poseact.people.shadows`).
        "tracks_joined_on_one_head": int(done.tracking.get("shadows_joined", 0)),
        "jumps_refused": int(done.tracking.get("jumps_refused", 0)),
        "seats_left": int(done.tracking.get("seats_left", 0)),
        "camera_moves": int(done.tracking.get("camera_moves", 0)),
        "poses_upside_down_refused": int(done.tracking.get("upside_down_refused", 0)),
        "person_frames_held_still": int(done.tracking.get("poses_held", 0)),
        "detection_tiles": {"searched": int(done.tracking.get("tiles_searched", 0)),
                            "reused_unchanged": int(done.tracking.get("tiles_reused", 0))},
        # Chunks that `--finder auto` found a class in (the classroom finder's path), and that path's finder boxes:
        # posed, or carried by the student already followed in them.
        "class_chunks": int(done.tracking.get("class_chunks", 0)),
        "finder_boxes": {"posed": int(done.tracking.get("finder_boxes_posed", 0)),
                         "held": int(done.tracking.get("finder_boxes_held", 0))},
        "people_per_frame": _people_stats(done.people_per_frame),
        "per_person": segments.person_summary(segs, done.classes),
        "segments": len(segs), "options": json.loads(json.dumps(dataclasses.asdict(done.options), default=str)),
    }
    sinks.write_json(storage.join(folder, "summary.json"), summary)
    if overlay is not None:
        overlay(storage.join(folder, "overlay.mp4"))
    page = lecture_report.lecture_page(summary, segs, tracks, done.pictures,
                                       "overlay.mp4" if overlay is not None else None)
    storage.write_atomic(storage.join(folder, REPORT), page.encode())
    sinks.write_json(storage.join(folder, DONE), {"fingerprint": done.fingerprint, "video": done.uri})
    return {"video": done.uri, "key": done.key, "persons": len(tracks), "segments": len(segs),
            "duration_s": round(info.duration_s, 3), "frames": len(done.people_per_frame)}


def _people_stats(people: list[int]) -> dict[str, Any]:
    if not people:
        return {"mean": 0.0, "max": 0, "histogram": {}}
    counts = np.bincount(np.asarray(people))
    return {"mean": round(float(np.mean(people)), 3), "max": int(max(people)),
            "histogram": {str(i): int(c) for i, c in enumerate(counts) if c}}


def write_table(uri: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Rows as a Parquet file with a fixed column order (atomic; same rows give the same bytes)."""
    import pyarrow as pa  # noqa: PLC0415

    _write_parquet(uri, pa.table({c: [r[c] for r in rows] for c in columns}, schema=_arrow_schema(columns)))


def _write_parquet(uri: str, table) -> None:
    """A pyarrow table as one Parquet file, written atomically (tables here are small: built in memory)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    storage.write_atomic(uri, sink.getvalue().to_pybytes())


def _arrow_schema(columns: tuple[str, ...]):
    import pyarrow as pa  # noqa: PLC0415

    types = {"video": pa.string(), "person": pa.int64(), "action": pa.string(), "model": pa.string(),
             "frames_seen": pa.int64()}
    return pa.schema([(c, types.get(c, pa.float64())) for c in columns])

def make_pictures(uri: str, info: VideoInfo, chunks: Sequence[dict[str, Any]], mapping: dict[tuple[int, int], int],
                  tracks: Sequence[dict[str, Any]], segs: Sequence[segments.Segment], options: Any) -> lecture_report.Pictures:
    """Each person's thumbnail and a snapshot of each hand raise, cut from the few frames they need.

    The frames are the chunks' sampled ones (`poseact.label.snapshots`); the video is decoded once more at
    those times only (a remote video is copied to this worker for it, as for the overlay). With
    `--no-images` nothing is read and there are no pictures.
    """
    if not options.images:
        return lecture_report.Pictures({}, [], "none")
    samples = snapshots.people_by_time(chunks, mapping)
    plan = snapshots.plan_pictures(samples, tracks, segs)
    times = [*plan.thumbnails.values(), *(t for _, t in plan.raises)]
    with storage.local_copy(uri) as path:
        frames = snapshots.read_frames(path, info, times) if times else {}
    blur = options.blur_faces
    thumbs = {person: snapshots.thumbnail(frames[t], samples[t][person][:4], samples[t], blur)
              for person, t in plan.thumbnails.items() if t in frames}
    raises = [(seg, round(t / 1000.0, 3), snapshots.snapshot(frames[t], samples[t][seg.person][:4], samples[t], blur))
              for seg, t in plan.raises if t in frames]
    return lecture_report.Pictures(thumbs, raises, "blurred" if blur else "plain")


def write_index(output: str) -> str:
    """Write `OUT/report.html`: every labelled lecture in OUT (linked to its page) and the failed videos."""
    root = storage.join(output, LECTURES)
    done = sorted(u for u in (storage.list_files(root) if storage.exists(root) else []) if u.endswith("/" + DONE))
    lectures = [json.loads(storage.read_bytes(marker[: -len(DONE)] + "summary.json")) for marker in done]
    errors_uri = storage.join(output, "errors.jsonl")
    failed = [json.loads(line) for line in (storage.read_bytes(errors_uri).decode().splitlines()
                                            if storage.exists(errors_uri) else []) if line.strip()]
    uri = storage.join(output, REPORT)
    storage.write_atomic(uri, lecture_report.index_page(lectures, failed).encode())
    return uri


def write_errors(output: str, uris: Sequence[str], failed: list[dict[str, Any]]) -> None:
    """Rewrite `errors.jsonl`: every video in OUT that failed and is not labelled since.

    That is this run's dead letters plus earlier ones for videos this run did not touch (so watch mode,
    one job per poll, keeps them all).
    """
    errors_uri = storage.join(output, "errors.jsonl")
    earlier = [json.loads(line) for line in (storage.read_bytes(errors_uri).decode().splitlines()
                                             if storage.exists(errors_uri) else []) if line.strip()]
    kept = [r for r in earlier if r.get("uri") not in set(uris)
            and not storage.exists(storage.join(output, LECTURES, video_key(r.get("uri", "")), DONE))]
    rows = sorted(kept + failed, key=lambda r: (r["uri"], json.dumps(r, sort_keys=True)))
    storage.write_atomic(errors_uri, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())


def inference_metrics(result) -> dict[str, Any]:
    """Classification time from RunInference's own metrics (summed over batches), when the runner has them."""
    from apache_beam.metrics.metric import MetricsFilter  # noqa: PLC0415

    try:
        found = result.metrics().query(MetricsFilter().with_name("inference_batch_latency_micro_secs"))
        dists = found.get("distributions", [])
        total_us = sum(d.committed.sum for d in dists if d.committed is not None)
        count = sum(d.committed.count for d in dists if d.committed is not None)
        return {"classify_seconds": round(total_us / 1e6, 3), "batches": int(count)}
    except Exception as err:  # noqa: BLE001 (metrics are optional: some runners do not report them)
        _LOG.info("no inference metrics from this runner: %s", err)
        return {}


def run_summary(uris, todo, skipped, failed, tables, marks, metrics, wall, runner) -> dict[str, Any]:
    stage = {"decode": 0.0, "detect": 0.0, "pose": 0.0}
    video_s = 0.0
    for mark in marks:
        if "seconds" in mark:
            for k in stage:
                stage[k] += mark["seconds"].get(k, 0.0)
            video_s += mark.get("video_s", 0.0)
    if metrics.get("classify_seconds") is not None:
        stage["classify"] = metrics["classify_seconds"]
    total = sum(stage.values())
    steady = progress.steady_state([m for m in marks if "seconds" in m])
    return {
        "videos_in": len(uris), "videos_skipped": skipped, "videos_labelled": len(todo) - len(failed),
        "videos_failed": len(failed), "segments_total": tables["segments"], "persons_total": tables["tracks"],
        "run": {
            "runner": str(runner or "DirectRunner"), "wall_seconds": round(wall, 3),
            "video_seconds": round(video_s, 3),
            "realtime_factor": round(video_s / wall, 3) if wall and video_s else None,
            "steady_realtime_factor": round(video_s / steady["seconds"], 3) if steady["seconds"] else None,
            "stage_seconds": {k: round(v, 3) for k, v in stage.items()},
            "stage_share": {k: round(v / total, 3) for k, v in stage.items()} if total else {},
            "chunks_per_worker": steady["items_per_worker"],
        },
    }


def write_run_tables(output: str) -> dict[str, int]:
    """Concatenate every finished video's tables in OUT into `segments.parquet/.csv` and `tracks.parquet`."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    root = storage.join(output, LECTURES)
    done = sorted(u for u in (storage.list_files(root) if storage.exists(root) else []) if u.endswith("/" + DONE))
    counts = {}
    for name, columns in (("segments", SEGMENT_COLUMNS), ("tracks", TRACK_COLUMNS)):
        parts = []
        for marker in done:
            folder = marker[: -len(DONE) - 1]
            with storage.local_copy(storage.join(folder, f"{name}.parquet")) as path:
                parts.append(pq.read_table(path))
        table = pa.concat_tables(parts) if parts else _arrow_schema(columns).empty_table()
        table = table.sort_by([("video", "ascending"), ("person", "ascending"),
                               ("start_s" if name == "segments" else "first_s", "ascending")])
        counts[name] = table.num_rows
        _write_parquet(storage.join(output, f"{name}.parquet"), table)
        if name == "segments":
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink)
            storage.write_atomic(storage.join(output, "segments.csv"), sink.getvalue().to_pybytes())
    return counts


