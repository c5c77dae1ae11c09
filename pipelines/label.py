"""Labelling: lecture videos in; per-person action segments, tracks, summaries and timelines out.

    poseact label --input LECTURES --model MODEL_DIR --output OUT [--overlay] [--force] [Beam options]
    poseact label --watch PREFIX --model MODEL_DIR --output OUT [--max-idle S] [--poll S]

LECTURES is a glob, a folder, a list file (.txt/.csv/.jsonl with a `uri` column) or one video; local,
gs:// or s3://. Each video is cut into time chunks that spread over the workers (`ChunkPoseFn`); every
person is posed and cut into sliding windows; Beam's `RunInference` scores the windows with the trained
Keras model; per video, tracks are stitched across chunks and windows merged into segments (`FinishVideoFn`).

Outputs in OUT:
- `lectures/<video key>/`: `segments.parquet`, `tracks.parquet`, `summary.json`, `timeline.png`,
  `report.html` (the lecture's page, pictures inline), `overlay.mp4` (with `--overlay`) and `done.json`
  (written last: the video is finished);
- `report.html`: the index of every labelled lecture in OUT, linking to their pages;
- `segments.parquet`, `segments.csv`, `tracks.parquet`: every labelled video in OUT, sorted;
- `errors.jsonl`: this run's failed videos with stage and reason; `run.json`: counts and timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import logging
import math
import os
import shutil
import tempfile
import time
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from pipelines import flags, label_models, label_outputs, progress, routing, runs, sinks, watch
from pipelines.label_models import PoseModelHandler  # noqa: F401 (re-exported: tests and users import it here)
from pipelines.label_outputs import (  # noqa: F401 (re-exported: tests and users import them here)
    DONE,
    LECTURES,
    SEGMENT_COLUMNS,
    TRACK_COLUMNS,
    video_key,
    write_run_tables,
    write_table,
)
from pipelines.options import (
    FAST_POSE_EVERY,
    FAST_POSE_MODEL,
    FINDER,
    POSES_PER_SECOND,
)
from pipelines.options import label_parser as build_parser
from poseact.common import storage
from poseact.common.errors import ClipError
from poseact.data.manifest import read_uris
from poseact.label import lecture, rules, segments, snapshots
from poseact.people.tracker import PeopleConfig, finder_at_hand, finder_buffer
from poseact.pose import pose_model
from poseact.pose.video import VideoInfo, VideoLimits, plan_chunks, probe

_LOG = logging.getLogger(__name__)
WINDOWS_PER_BATCH = 64  # windows per model call


@dataclasses.dataclass(frozen=True)
class LabelOptions:
    """Everything that decides a video's labels (its fingerprint decides whether a re-run may skip it)."""

    chunk_s: float
    people: PeopleConfig
    windows: lecture.WindowConfig
    smooth: int
    threshold: float
    min_segment_s: float
    overlay: bool
    limits: VideoLimits
    images: bool = True  # thumbnails and snapshots of people in report.html (False: --no-images)
    workers: int = 1  # --balance-workers: chunks in a multiple of this many (`poseact.pose.video.plan_chunks`)
    blur_faces: bool = False  # faces blurred in every picture and in overlay.mp4


def fingerprint(uri: str, model_id: str, pose_sha: str, options: LabelOptions, stat: bool = True) -> str:
    """What a finished video's labels depend on: the file (URI and size), the models and the options.

    `stat=False` leaves the size out (no I/O: for a dry run, whose fingerprints are never stored).
    """
    size = -1
    if stat:
        try:
            fs, path = storage.filesystem(uri)
            size = int(fs.size(path))
        except (OSError, ValueError):
            size = -1  # unreadable now: the video fails later with its own dead letter
    blob = json.dumps({"uri": uri, "size": size, "model": model_id, "pose_model": pose_sha,
                       "options": dataclasses.asdict(options)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def is_done(output: str, key: str, print_: str) -> bool:
    """Whether `output` already holds this video's labels made with the same fingerprint."""
    uri = storage.join(output, LECTURES, key, DONE)
    if not storage.exists(uri):
        return False
    try:
        return json.loads(storage.read_bytes(uri)).get("fingerprint") == print_
    except (ValueError, OSError):
        return False


class _LocalVideos:
    """Local paths for video URIs: local files as they are; remote ones copied once per worker and kept
    (at most `keep` at a time), so the chunks of one lecture that land on a worker download it once."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._dir = tempfile.mkdtemp(prefix="poseact-videos-")
        self._paths: dict[str, str] = {}

    def path(self, uri: str) -> str:
        if storage.is_local(uri):
            with storage.local_copy(uri) as path:  # checks existence, returns the path itself
                return path
        if uri in self._paths:
            self._paths[uri] = self._paths.pop(uri)  # most recent last
            return self._paths[uri]
        while len(self._paths) >= self._keep:
            old = self._paths.pop(next(iter(self._paths)))  # least recently used first
            if os.path.exists(old):
                os.unlink(old)
        fs, remote = storage.filesystem(uri)
        if not fs.isfile(remote):
            raise FileNotFoundError(f"no such file: {uri}")
        local = os.path.join(self._dir, hashlib.sha256(uri.encode()).hexdigest()[:16] + os.path.splitext(remote)[1])
        fs.get_file(remote, local + ".part")
        os.replace(local + ".part", local)
        self._paths[uri] = local
        return local

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _dead_letter(key: str, uri: str, stage: str, reason: str, chunk: int | None = None) -> beam.pvalue.TaggedOutput:
    return beam.pvalue.TaggedOutput("errors", (key, {"uri": uri, "stage": stage, "reason": reason, "chunk": chunk}))


class PlanChunksFn(beam.DoFn):
    """A video URI in; its chunk tasks out, plus `(key, video info)` on `videos`, or a dead letter."""

    def __init__(self, options: LabelOptions, progress_dir: str | None) -> None:
        self._options = options
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._videos = _LocalVideos()

    def teardown(self) -> None:
        self._videos.close()

    def process(self, uri: str):
        key = video_key(uri)
        try:
            info = probe(self._videos.path(uri), self._options.limits)
        except FileNotFoundError as err:
            yield _dead_letter(key, uri, "read", str(err))
            return
        except ClipError as err:
            yield _dead_letter(key, uri, err.stage, err.reason)
            return
        except OSError as err:
            yield _dead_letter(key, uri, "read", f"{type(err).__name__}: {err}")
            return
        chunks = plan_chunks(info.duration_s, self._options.chunk_s, self._options.windows.overlap_s,
                             self._options.workers)
        progress.mark_done(self._progress_dir, f"plan-{key}", {"planned": len(chunks), "start": 0, "end": 0})
        yield beam.pvalue.TaggedOutput("videos", (key, {"uri": uri, "info": dataclasses.asdict(info),
                                                         "chunks": len(chunks)}))
        for chunk in chunks:
            yield {"key": key, "uri": uri, "info": dataclasses.asdict(info), "chunk": dataclasses.asdict(chunk)}


class ChunkPoseFn(beam.DoFn):
    """One chunk task in: every person's windows out in lists of up to `WINDOWS_PER_BATCH` pairs
    `((key, chunk, track, start_s, end_s), input)` (one model call each), the chunk's tracks and boundary
    boxes on `chunks`, or a dead letter on `errors`."""

    def __init__(self, model_path: str, model_spec: str, model_sha256: str, options: LabelOptions,
                 work_root: str | None, progress_dir: str | None) -> None:
        self._model_path = model_path
        self._model_spec = model_spec
        self._model_sha256 = model_sha256
        self._options = options
        self._work_root = work_root
        self._progress_dir = progress_dir
        self._frames = Metrics.counter("label", "frames_posed")
        self._people = Metrics.counter("label", "people_frames")
        self._windows = Metrics.counter("label", "windows")

    def setup(self) -> None:
        # The launcher's bundle, or on a remote worker the container's, checked to be the same model.
        model = pose_model.resolve_for_worker(self._model_path, self._model_spec, self._model_sha256)
        self._buffer = model.read_bytes()
        # The classroom finder's model, read once per worker (not once per chunk).
        self._finder_buffer = finder_buffer(self._options.people)
        self._videos = _LocalVideos()

    def teardown(self) -> None:
        self._videos.close()

    def process(self, task: dict[str, Any]):
        from poseact.pose.video import Chunk  # noqa: PLC0415

        key, uri = task["key"], task["uri"]
        chunk = Chunk(**task["chunk"])
        info = VideoInfo(**task["info"])
        started = time.time()
        try:
            pose = lecture.pose_chunk(self._videos.path(uri), info, chunk, self._options.windows.fps, self._buffer,
                                      self._options.people, self._options.limits, self._finder_buffer)
        except ClipError as err:
            yield _dead_letter(key, uri, err.stage, err.reason, chunk.index)
            return
        except OSError as err:
            yield _dead_letter(key, uri, "read", f"{type(err).__name__}: {err}", chunk.index)
            return
        count = 0
        batch = []
        for window in lecture.windows(pose, self._options.windows):
            count += 1
            batch.append(((key, chunk.index, window.track, window.start_s, window.end_s), lecture.model_input(window)))
            if len(batch) == WINDOWS_PER_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        owned = (pose.times_ms < 1000 * chunk.end_s)
        yield beam.pvalue.TaggedOutput("chunks", (key, {
            "index": chunk.index, "tracks": sorted(pose.tracks), "boundary": lecture.boundary_boxes(pose, self._options.windows),
            "stats": {str(k): v for k, v in lecture.track_stats(pose).items()},
            "frames": int(owned.sum()), "people_per_frame": [int(v) for v in pose.people_per_frame[owned]],
            "seconds": {k: round(v, 4) for k, v in pose.seconds.items()}, "tracking": dict(pose.tracking),
            # A box per person and second (the report's pictures are cut at these), none with --no-images.
            "samples": snapshots.sample_people(pose, faces=self._options.blur_faces) if self._options.images else [],
        }))
        if self._work_root:
            _save_chunk_landmarks(storage.join(self._work_root, key, f"chunk-{chunk.index:05d}.npz"), pose)
        self._frames.inc(len(pose.times_ms))
        self._people.inc(int(pose.people_per_frame.sum()))
        self._windows.inc(count)
        video_s = min(chunk.end_s, info.duration_s) - chunk.start_s
        progress.mark_done(self._progress_dir, f"{key}-{chunk.index:05d}", {
            "start": started, "end": time.time(), "frames": int(owned.sum()), "video_s": max(video_s, 0.0),
            "seconds": pose.seconds,
        })


def _save_chunk_landmarks(uri: str, pose: lecture.ChunkPose) -> None:
    """Owned frames' landmarks of a chunk, for the overlay (written atomically)."""
    owned = pose.times_ms < 1000 * pose.chunk.end_s
    arrays = {"times_ms": pose.times_ms[owned]}
    for track, (landmarks, detected, _) in pose.tracks.items():
        arrays[f"lm_{track}"] = landmarks[owned]
        arrays[f"det_{track}"] = detected[owned]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    storage.write_atomic(uri, buffer.getvalue())


class FinishVideoFn(beam.DoFn):
    """All of one video's parts in (info, chunks, window scores, dead letters); its files out.

    Yields the video's segment and track rows (for the run-level tables), or a dead letter when a part
    failed or is missing (then nothing of the video is written but its dead letter).
    """

    def __init__(self, output: str, classes: list[str], model_id: str, options: LabelOptions,
                 fingerprints: dict[str, str], work_root: str | None) -> None:
        self._output = output
        self._classes = classes
        self._model_id = model_id
        self._options = options
        self._fingerprints = fingerprints
        self._work_root = work_root

    def process(self, item):
        key, parts = item
        videos, chunks, scored, errors = (list(parts[n]) for n in ("videos", "chunks", "windows", "errors"))
        if errors or not videos:
            errs = sorted(errors, key=lambda e: (e["chunk"] is not None, e["chunk"] or 0))
            first = errs[0] if errs else {"uri": key, "stage": "internal", "reason": "no video record"}
            reason = first["reason"] if len(errs) <= 1 else f"{first['reason']} (and {len(errs) - 1} more)"
            yield beam.pvalue.TaggedOutput("errors", {"uri": first["uri"], "video": key, "stage": first["stage"],
                                                      "reason": reason})
            return
        video = videos[0]
        if len(chunks) != video["chunks"]:
            yield beam.pvalue.TaggedOutput("errors", {"uri": video["uri"], "video": key, "stage": "internal",
                                                      "reason": f"{len(chunks)} of {video['chunks']} chunks arrived"})
            return
        yield from self._finish(key, video, chunks, scored)

    def _finish(self, key: str, video: dict[str, Any], chunks: list[dict[str, Any]], scored: list[tuple]):
        mapping = lecture.stitch(chunks)
        per_person = _person_windows(scored, mapping, rules.is_rules(self._model_id))
        segs: list[segments.Segment] = []
        for person in sorted(per_person):
            segs += segments.to_segments(person, per_person[person], self._classes, smooth=self._options.smooth,
                                         threshold=self._options.threshold, min_segment_s=self._options.min_segment_s)
        # People seen for less than a quarter of a window (e.g. a detector glitch) are no students; they
        # have no windows, hence no segments, either.
        tracks = lecture.merge_track_stats(chunks, mapping, min_frames=max(1, self._options.windows.max_frames // 4))
        info = VideoInfo(**video["info"])
        people = [n for c in sorted(chunks, key=lambda c: c["index"]) for n in c["people_per_frame"]]
        done = label_outputs.FinishedLecture(
            key=key, uri=video["uri"], info=info, segments=segs, tracks=tracks, people_per_frame=people,
            tracking={k: sum(c.get("tracking", {}).get(k, 0) for c in chunks)
                      for k in sorted({k for c in chunks for k in c.get("tracking", {})})},
            chunks=len(chunks), classes=self._classes, model_id=self._model_id, options=self._options,
            fingerprint=self._fingerprints.get(video["uri"], ""),
            pictures=label_outputs.make_pictures(video["uri"], info, chunks, mapping, tracks, segs, self._options))
        overlay_fn = None
        if self._options.overlay and self._work_root:
            work = storage.join(self._work_root, key)

            def overlay_fn(out_uri: str) -> None:
                from poseact.label import overlay  # noqa: PLC0415

                overlay.render(video["uri"], info, work, mapping, segs, self._options.windows.fps, out_uri,
                               blur_faces=self._options.blur_faces)
                fs, path = storage.filesystem(work)
                fs.rm(path, recursive=True)

        yield label_outputs.write_lecture(self._output, done, overlay_fn)


def _person_windows(scored: list[tuple], mapping: dict[tuple[int, int], int],
                    rule_features: bool) -> dict[int, list[segments.Window]]:
    """Each person's scored windows. With the rules, the window outputs are rule features, scored here per
    person against the person's own baseline (`rules.person_scores`)."""
    rows: dict[int, list[tuple[float, float, tuple[float, ...]]]] = {}
    for chunk, track, start_s, end_s, output in sorted(scored, key=lambda r: r[:4]):
        rows.setdefault(mapping[(chunk, track)], []).append((start_s, end_s, tuple(output)))
    out: dict[int, list[segments.Window]] = {}
    for person, windows in rows.items():
        outputs = [w[2] for w in windows]
        scores = rules.person_scores(outputs, [w[0] for w in windows]) if rule_features else np.asarray(outputs)
        out[person] = [segments.Window(s, e, tuple(float(v) for v in p)) for (s, e, _), p in zip(windows, scores)]
    return out


class LabelVideos(beam.PTransform):
    """Video URIs in; per video, written outputs. Returns `{"videos": rows, "errors": dead letters}`."""

    def __init__(self, model_dir: str, model_path: str, model_spec: str, output: str, classes: list[str],
                 model_id: str, options: LabelOptions, fingerprints: dict[str, str],
                 progress_dir: str | None, model_sha256: str = "") -> None:
        super().__init__()
        self._args = (model_dir, model_path, model_spec, output, classes, model_id, options, fingerprints,
                      progress_dir, model_sha256)

    def expand(self, uris):
        (model_dir, model_path, model_spec, output, classes, model_id, options, fingerprints, progress_dir,
         model_sha256) = self._args
        work_root = storage.join(output, ".work") if options.overlay else None
        # routing.TaggedParDo, not ParDo(...).with_outputs(...): the DaskRunner hands every output to each consumer.
        planned = uris | "Plan" >> routing.TaggedParDo(PlanChunksFn(options, progress_dir), "videos", "errors",
                                                       main="chunks")
        posed = (
            planned.chunks
            # Spread, not Reshuffle: on Dask a lecture's chunks would otherwise all run in its planning task.
            | "SpreadChunks" >> routing.Spread(lambda task: (task["key"], task["chunk"]["index"]))
            | "Pose" >> routing.TaggedParDo(ChunkPoseFn(model_path, model_spec, model_sha256, options, work_root, progress_dir),
                                            "chunks", "errors", main="windows")
        )
        scores = (
            posed.windows
            # Batches are made per chunk (ChunkPoseFn), not by RunInference's BatchElements, which emits each
            # bundle's last batch from finish_bundle(): the DaskRunner drops such output (tests/dask_gaps.py).
            | "Classify" >> RunInference(KeyedModelHandler(label_models.handler(model_dir, options.windows.fps))
                                         .with_no_batching())
            | "ByVideo" >> beam.Map(lambda kv: (kv[0][0], (*kv[0][1:], [round(float(p), 5) for p in kv[1].inference])))
        )
        errors = (planned.errors, posed.errors) | "AllErrors" >> beam.Flatten()
        finished = (
            {"videos": planned.videos, "chunks": posed.chunks, "windows": scores, "errors": errors}
            | "JoinByVideo" >> beam.CoGroupByKey()
            | "Finish" >> routing.TaggedParDo(FinishVideoFn(output, classes, model_id, options, fingerprints, work_root),
                                              "errors", main="videos")
        )
        return {"videos": finished.videos, "errors": finished.errors}


def _pose_every(args: argparse.Namespace) -> int:
    if args.exact and args.pose_every not in (None, 1):
        raise ValueError("--exact poses every frame: drop --pose-every")
    return 1 if args.exact else (args.pose_every or FAST_POSE_EVERY)


def _follower(args: argparse.Namespace) -> str:
    if args.exact and args.follower not in (None, "tasks"):
        raise ValueError("--exact poses with MediaPipe's landmarker: drop --follower")
    if args.exact:
        return "tasks"
    return args.follower  # None: the finder's own (`poseact.people.tracker.FINDER_DEFAULTS`)


def _finder(args: argparse.Namespace) -> str:
    return args.finder or ("landmarker" if args.exact else FINDER)


def _poses_per_second(args: argparse.Namespace) -> float | None:
    if args.exact and args.poses_per_second not in (None, 0):
        raise ValueError("--exact poses every person in every frame: drop --poses-per-second")
    if args.exact or args.poses_per_second == 0:
        return None
    if args.poses_per_second is not None and args.poses_per_second < 0:
        raise ValueError(f"--poses-per-second must be 0 (no cap) or more, got {args.poses_per_second:g}")
    return args.poses_per_second or POSES_PER_SECOND


def _hold_still(args: argparse.Namespace) -> bool:
    if args.exact and args.hold_still:
        raise ValueError("--exact poses every person in every frame: drop --hold-still")
    return bool(args.hold_still)


def _pose_model_spec(args: argparse.Namespace) -> str:
    if args.exact and args.pose_model not in (None, "full"):
        raise ValueError("--exact uses the full pose model: drop --pose-model")
    return "full" if args.exact else (args.pose_model or FAST_POSE_MODEL)


def _people(config: PeopleConfig) -> PeopleConfig:
    """`config` with its finder's defaults filled in, where the finder is fixed (with "auto", each chunk's)."""
    return config if config.finder == "auto" else config.resolved(config.finder)


def _options(args: argparse.Namespace, card: dict[str, Any]) -> LabelOptions:
    grid = None
    if args.grid.lower() != "auto":
        try:
            grid = tuple(int(v) for v in args.grid.lower().split("x"))
            if len(grid) != 2 or min(grid) < 1:
                raise ValueError(args.grid)
        except ValueError as err:
            raise ValueError(f"--grid must be auto or look like 2x2, got {args.grid!r}") from err
    if args.no_images and args.overlay:
        raise ValueError("--overlay draws people on the video: it cannot go with --no-images")
    fps = card.get("fps")
    if not fps:
        raise ValueError("the model card has no fps: retrain with shards extracted at a fixed --fps")
    return LabelOptions(
        chunk_s=args.chunk_seconds, workers=max(1, args.balance_workers or 1),
        people=_people(PeopleConfig(grid=grid, min_head_px=args.min_head, detect_every_s=args.detect_every,
                                    max_people=args.max_people, finder=_finder(args),
                                    pose_every=_pose_every(args), follower=_follower(args),
                                    hold_still=_hold_still(args), poses_per_second=_poses_per_second(args),
                                    find_heads=args.find_heads)),
        windows=lecture.WindowConfig(fps=float(fps), max_frames=int(card["max_frames"]),
                                     stride_s=args.stride if args.stride is not None else float(card.get("stride_s", 1.0)),
                                     min_detected=args.min_detected),
        smooth=args.smooth if args.smooth is not None else int(card.get("smooth", 3)), threshold=args.threshold, min_segment_s=args.min_segment, overlay=args.overlay,
        limits=VideoLimits(max_duration_s=args.max_duration), images=not args.no_images, blur_faces=args.blur_faces,
    )


def local_workers(beam_args: list[str], uris: list[str], balance: int | None,
                  cpus: int | None = None) -> tuple[list[str], int | None]:
    """Beam's arguments with the worker processes this machine gets for `uris` (`runs.with_local_workers`), and the
    chunk balancing: workers chosen here get balanced chunks, so that both cores finish together (a 61 s video on 2
    cores: 2 chunks of 30.5 s, not 60 s and 1 s). Workers the user chose leave the chunks as --chunk-seconds cuts
    them, the same labels whatever the number of workers, unless --balance-workers (`balance`) asks otherwise."""
    cpus = cpus or os.cpu_count() or 1
    chosen = runs.with_local_workers(beam_args, _local_seconds(uris, cpus), cpus)
    if chosen != list(beam_args) and balance is None:
        balance = runs.direct_workers(chosen)
    return chosen, balance


def _local_seconds(uris: list[str], cpus: int) -> float:
    """Seconds of video in the local files of `uris` (read from their headers), counted only as far as it takes to
    give every core a worker (`runs.SECONDS_PER_WORKER` each): a big archive is not probed at launch."""
    total = 0.0
    for uri in uris:
        if total >= cpus * runs.SECONDS_PER_WORKER:
            break
        if "://" in uri or not os.path.isfile(uri):
            continue
        try:
            total += probe(uri, VideoLimits(max_duration_s=math.inf)).duration_s
        except (ClipError, OSError, ValueError):
            continue  # its dead letter comes from the job
    return total


def label_batch(args: argparse.Namespace, beam_args: list[str], uris: list[str]) -> dict[str, Any]:
    """Label `uris` (skipping finished ones unless --force) and rewrite the run-level tables."""
    card = label_models.read_card(args.model)
    classes = list(card["classes"])
    model_id = label_models.model_id(args.model, card)
    args.pose_model = _pose_model_spec(args)
    pose = pose_model.resolve(args.pose_model)
    beam_options = runs.pipeline_options(beam_args)
    dry_run = runs.is_dry_run(beam_options)
    if not dry_run:
        beam_args, args.balance_workers = local_workers(beam_args, uris, args.balance_workers)
        beam_options = runs.pipeline_options(beam_args)
    options = _options(args, card)
    if not dry_run:
        # Fetched once here, before any worker starts: one clear error for --finder classroom, a warning under auto.
        options = dataclasses.replace(options, people=finder_at_hand(options.people))
    # A dry run only builds the job: nothing is read from or written to the output folder, nor are the
    # videos' sizes asked for (the fingerprints, which then hold no size, go unused).
    fingerprints = {u: fingerprint(u, model_id, pose.sha256, options, stat=not dry_run) for u in uris}
    todo = [u for u in uris if dry_run or args.force or not is_done(args.output, video_key(u), fingerprints[u])]
    skipped = len(uris) - len(todo)
    if skipped:
        _LOG.info("skipping %d video(s) already labelled with this model and these options (--force relabels)", skipped)
    if not dry_run:
        storage.makedirs(args.output)
    started = time.time()
    marks: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    failed: list[dict[str, Any]] = []
    result = None
    size = args.videos_per_job or len(todo) or 1
    with tempfile.TemporaryDirectory(prefix="poseact-progress-") as progress_dir:
        # As in extraction: workers that cannot see this folder skip their markers, so a remote run shows
        # no bar until (unless) markers appear.
        with progress.ProgressBar(progress_dir, 0, "label", enabled=not args.no_progress and bool(todo) and not dry_run,
                                  wait_for_first=not runs.is_local(beam_options), unit="chunk"):
            for first in range(0, len(todo), size):
                # One Beam job per batch of videos: a killed run loses at most the batch in flight.
                batch_uri = storage.join(args.output, f".errors-{first:06d}.jsonl")
                pipeline = runs.make_pipeline(beam_options)
                out = (pipeline | "Videos" >> beam.Create(todo[first:first + size])
                       | "Label" >> LabelVideos(args.model, str(pose.path), args.pose_model, args.output, classes,
                                                model_id, options, fingerprints, progress_dir,
                                                pose.sha256 or ""))
                _ = out["errors"] | "WriteErrors" >> sinks.WriteJsonLines(batch_uri, "uri")
                result = pipeline.run()
                result.wait_until_finish()
                if dry_run:
                    continue
                for key, value in label_outputs.inference_metrics(result).items():
                    metrics[key] = metrics.get(key, 0) + value
                failed += [json.loads(line) for line in storage.read_bytes(batch_uri).decode().splitlines() if line]
                fs, path = storage.filesystem(batch_uri)
                fs.rm(path)
        marks = progress.read_marks(progress_dir)
    if dry_run:
        return runs.dry_run_summary(result, beam_options, videos_in=len(uris), jobs=-(-len(todo) // size))
    label_outputs.write_errors(args.output, uris, failed)
    wall = time.time() - started
    tables = write_run_tables(args.output)
    label_outputs.write_index(args.output)
    run = label_outputs.run_summary(uris, todo, skipped, failed, tables, marks, metrics, wall,
                                    runs.runner_name(beam_options))
    sinks.write_json(storage.join(args.output, "run.json"), run)
    return run

def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run `poseact label`; returns the run summary (also written to `OUTPUT/run.json`).

    Raises:
        poseact.data.manifest.ManifestError: The input list is unusable (before any work starts).
        ValueError: A bad flag or an unusable model folder.
    """
    args, beam_args = flags.parse(build_parser(), argv)
    if args.watch:
        return watch.watch(args, beam_args, label_batch)
    return label_batch(args, beam_args, read_uris(args.input))
