"""Progress of local runs: workers drop one marker file per finished item, the launcher counts them.

Beam's DirectRunner gives the launching process no per-element callback, and in `multi_processing`
mode the work happens in other processes; a folder of markers works for both and costs one small file
per clip. Markers also carry start and end times, from which benchmarks take steady-state throughput.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from poseact.common import console

LINE_INTERVAL_S = 10.0  # seconds between the first progress lines when the output is not a terminal


def mark_done(progress_dir: str | None, key: str, record: dict[str, Any]) -> None:
    """Record one finished item (no-op when progress is off).

    Also a no-op on a worker that cannot see the launcher's folder (another machine: Dataflow, a remote
    Dask cluster), so the same pipeline reports progress wherever workers share the launcher's disk.
    """
    if not progress_dir or not os.path.isdir(progress_dir):
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
    marks = [m for m in marks if "planned" not in m]
    if not marks:
        return {"frames": 0.0, "seconds": 0.0, "items_per_worker": []}
    span = max(m["end"] for m in marks) - min(m["start"] for m in marks)
    per_worker: dict[int, int] = {}
    for mark in marks:
        per_worker[mark.get("pid", 0)] = per_worker.get(mark.get("pid", 0), 0) + 1
    return {"frames": float(sum(m.get("frames", 0) for m in marks)), "seconds": span,
            "items_per_worker": sorted(per_worker.values(), reverse=True)}


class ProgressBar:
    """A thread that shows items done, frames per second and ETA while a pipeline runs: a tqdm bar on a
    terminal, else a line now and then (`poseact.common.console.Heartbeat`: every `LINE_INTERVAL_S` seconds at
    first, less often as the run grows), on `poseact.common.console.stream()`."""

    def __init__(self, progress_dir: str, total: int, label: str, enabled: bool = True,
                 wait_for_first: bool = False, unit: str = "clip") -> None:
        """Prepare the bar; nothing is drawn before `__enter__`.

        Args:
            progress_dir: The folder workers drop markers in.
            total: Items expected; 0 when unknown up front: then markers with a `planned` count (written
                by a planning step) add to the total as they arrive.
            label: Text before the bar.
            enabled: False draws nothing.
            wait_for_first: Draw the bar only once a first marker appears; for runners whose workers may
                not see the folder, so that a remote run shows no bar stuck at zero.
            unit: What an item is (clip, chunk).
        """
        self._dir = progress_dir
        self._total = total
        self._label = label
        self._enabled = enabled
        self._wait_for_first = wait_for_first
        self._unit = unit
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
        started = time.time()
        while self._wait_for_first and not read_marks(self._dir):
            if self._stop.wait(1.0):
                return
        if console.is_terminal():
            self._draw_bar(started)
            return
        # Not a terminal (a file, CI): a line every few seconds, not a redraw per update.
        with console.Heartbeat(lambda: self._line(started), interval=LINE_INTERVAL_S):
            self._stop.wait()

    def _counts(self, started: float) -> dict[str, Any]:
        marks = read_marks(self._dir)
        work = [m for m in marks if "planned" not in m]
        elapsed = max(time.time() - started, 1e-9)
        frames = sum(m.get("frames", 0) for m in work)
        return {"done": len(work), "total": self._total + sum(m["planned"] for m in marks if "planned" in m),
                "frames": frames, "fps": frames / elapsed, "elapsed": elapsed,
                "realtime": sum(m.get("video_s", 0.0) for m in work) / elapsed}

    def _line(self, started: float) -> str:
        c = self._counts(started)
        text = f"{self._label}: {c['done']}/{c['total'] or '?'} {self._unit}s, {c['frames']} frames, {c['fps']:.1f} fps"
        if c["realtime"]:
            text += f", {c['realtime']:.2f}x real time"
        return text + f", {c['elapsed']:.0f} s"

    def _draw_bar(self, started: float) -> None:
        from tqdm import tqdm  # noqa: PLC0415

        with tqdm(total=self._total or None, desc=self._label, unit=self._unit, file=console.stream(),
                  dynamic_ncols=True) as bar:
            while True:
                stopping = self._stop.wait(1.0)
                c = self._counts(started)
                if c["total"] and bar.total != c["total"]:
                    bar.total = c["total"]
                postfix = {"frames": c["frames"], "fps": f"{c['fps']:.1f}"}
                if c["realtime"]:
                    postfix["realtime"] = f"{c['realtime']:.1f}x"
                bar.set_postfix(postfix)
                bar.update(c["done"] - bar.n)
                if stopping:
                    return
