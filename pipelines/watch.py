"""Watch mode of `poseact label`: label new videos as they land under a prefix, one batch job per poll."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from poseact.common import storage
from poseact.data.manifest import VIDEO_EXTENSIONS

_LOG = logging.getLogger(__name__)

LabelBatch = Callable[[argparse.Namespace, list[str], list[str]], dict[str, Any]]


def watch(args: argparse.Namespace, beam_args: list[str], label_batch: LabelBatch) -> dict[str, Any]:
    """Label new videos under `args.watch` as they land, until a signal or `--max-idle` seconds idle.

    Each poll lists the prefix; a video is taken once its size is the same in two polls (still being
    copied otherwise) and it is not done yet; the new ones run as one batch job. Why a loop of batch jobs
    rather than a streaming pipeline: Beam's `MatchContinuously` on the DirectRunner either ends at once
    (deduplicating mode) or re-emits every file each poll, and the per-video join would need streaming
    windows and triggers; batch jobs per poll give the same outputs as `--input` and resume for free.

    Args:
        args: `poseact label`'s flags (`watch`, `poll`, `max_idle`, and what `label_batch` needs).
        beam_args: Beam pipeline options.
        label_batch: Labels a list of videos and returns its run summary (`pipelines.label.label_batch`).

    Returns:
        Counts over all batches: batches, videos labelled, failed and skipped.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    sizes: dict[str, int] = {}
    attempted: set[str] = set()
    last_work = time.time()
    runs: list[dict[str, Any]] = []
    try:
        while not stop.is_set():
            ready = []
            for uri in _list_videos(args.watch):
                size = _size(uri)
                if size > 0 and sizes.get(uri) == size and uri not in attempted:
                    ready.append(uri)
                sizes[uri] = size
            if ready:
                _LOG.info("watch: %d new video(s)", len(ready))
                runs.append(label_batch(args, beam_args, ready))
                attempted.update(ready)
                last_work = time.time()
            elif args.max_idle and time.time() - last_work > args.max_idle:
                _LOG.info("watch: idle for %.0f s, stopping", args.max_idle)
                break
            stop.wait(args.poll)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {"batches": len(runs), "videos_labelled": sum(r["videos_labelled"] for r in runs),
            "videos_failed": sum(r["videos_failed"] for r in runs), "videos_skipped": sum(r["videos_skipped"] for r in runs)}


def _list_videos(prefix: str) -> list[str]:
    if not storage.exists(prefix):
        return []
    return [u for u in storage.list_files(prefix) if u.lower().endswith(VIDEO_EXTENSIONS)]


def _size(uri: str) -> int:
    try:
        fs, path = storage.filesystem(uri)
        return int(fs.size(path))
    except (OSError, ValueError):
        return -1


