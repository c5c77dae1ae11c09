"""Progress of local runs: workers drop one marker file per finished item, the launcher counts them.

Beam's DirectRunner gives the launching process no per-element callback, and in `multi_processing`
mode the work happens in other processes; a folder of markers works for both and costs one small file
per clip. Markers also carry start and end times, from which benchmarks take steady-state throughput.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any


def mark_done(progress_dir: str | None, key: str, record: dict[str, Any]) -> None:
    """Record one finished item (no-op when progress is off)."""
    if not progress_dir:
        return
    record = {**record, "pid": os.getpid()}
    path = os.path.join(progress_dir, key + ".json")
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(record, handle)
    os.replace(tmp, path)


def read_marks(progress_dir: str) -> list[dict[str, Any]]:
    """All markers written so far."""
    marks = []
    for name in sorted(os.listdir(progress_dir)):
        if name.endswith(".json"):
            with open(os.path.join(progress_dir, name)) as handle:
                marks.append(json.load(handle))
    return marks


def steady_state(marks: list[dict[str, Any]]) -> dict[str, Any]:
    """Frames and seconds between the first item's start and the last item's end (start-up excluded),
    and how many items each worker process did (a picture of the load balance)."""
    if not marks:
        return {"frames": 0.0, "seconds": 0.0, "items_per_worker": []}
    span = max(m["end"] for m in marks) - min(m["start"] for m in marks)
    per_worker: dict[int, int] = {}
    for mark in marks:
        per_worker[mark.get("pid", 0)] = per_worker.get(mark.get("pid", 0), 0) + 1
    return {"frames": float(sum(m.get("frames", 0) for m in marks)), "seconds": span,
            "items_per_worker": sorted(per_worker.values(), reverse=True)}


class ProgressBar:
    """A thread that shows items done, frames per second and ETA while a pipeline runs."""

    def __init__(self, progress_dir: str, total: int, label: str, enabled: bool = True) -> None:
        self._dir = progress_dir
        self._total = total
        self._label = label
        self._enabled = enabled and total > 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProgressBar:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._stop.set()
            self._thread.join()

    def _loop(self) -> None:
        from tqdm import tqdm  # noqa: PLC0415

        started = time.time()
        with tqdm(total=self._total, desc=self._label, unit="clip", file=sys.stderr, dynamic_ncols=True) as bar:
            while True:
                stopping = self._stop.wait(1.0)
                marks = read_marks(self._dir)
                frames = sum(m.get("frames", 0) for m in marks)
                bar.set_postfix(frames=frames, fps=f"{frames / max(time.time() - started, 1e-9):.1f}")
                bar.update(len(marks) - bar.n)
                if stopping:
                    return
