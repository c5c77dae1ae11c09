"""What a command shows while it runs: progress, the warnings that matter, and a closing summary.

Everything else goes to a log file: Beam's INFO lines, Python warnings, Keras' per-epoch lines, and the
C++ logs of TensorFlow, MediaPipe and LiteRT. Those C++ logs are written by native code straight to file
descriptor 2, ignoring Python's `sys.stderr` and, for LiteRT, every environment variable; and Beam's
worker subprocesses inherit the descriptors of the launcher. So a `Session` points descriptors 1 and 2
themselves at the log, and keeps a duplicate of the real stderr (`stream()`) for what the user sees.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

# Set before TensorFlow or MediaPipe is imported (they read them once): fewer C++ lines even in the log.
NATIVE_LOG_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "GLOG_minloglevel": "2"}
# Loggers whose warnings the user sees; other libraries' warnings go to the log only.
OWN_LOGGERS = ("poseact", "pipelines")
_STREAM: IO[str] | None = None  # the real stderr while a Session captures
MAX_INTERVAL_S = 300.0  # longest gap between progress lines off a terminal


def quiet_native_logs() -> None:
    """Ask TensorFlow and glog-based code for warnings and errors only (unless the user set the variables).

    Call before those packages are imported; Beam's worker subprocesses inherit the environment.
    """
    for name, value in NATIVE_LOG_ENV.items():
        os.environ.setdefault(name, value)


def stream() -> IO[str]:
    """Where lines for the user go: the terminal (real stderr) while a `Session` captures, else `sys.stderr`."""
    return _STREAM if _STREAM is not None else sys.stderr


def is_terminal() -> bool:
    """Whether `stream()` is a terminal (then progress redraws one line; else it prints a line now and then)."""
    try:
        return stream().isatty()
    except (AttributeError, ValueError):
        return False


def say(text: str) -> None:
    """Print a line for the user (progress, a notice), whatever the capture."""
    out = stream()
    out.write(text + "\n")
    out.flush()


class _OwnWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".")[0] in OWN_LOGGERS


class _WatchedStdout:
    """`sys.stdout` that also reports each line matching `pattern` (e.g. Keras' "Epoch 3/40")."""

    def __init__(self, inner: IO[str], pattern: re.Pattern[str], on_match: Callable[[re.Match[str]], None]) -> None:
        self._inner = inner
        self._pattern = pattern
        self._on_match = on_match

    def write(self, text: str) -> int:
        for match in self._pattern.finditer(text):
            self._on_match(match)
        return self._inner.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Session:
    """Send everything but progress, own warnings and the closing summary to a log file.

    With `verbose=True` nothing is captured: all logs (INFO and up) go to stderr as they come.

    Attributes:
        log_path: The local log file (None when verbose).
        last_match: The latest stdout line matching `watch`, if any.
    """

    def __init__(self, verbose: bool = False, watch: re.Pattern[str] | None = None, name: str = "poseact") -> None:
        """Prepare; nothing is redirected before `__enter__`.

        Args:
            verbose: Show everything instead of capturing.
            watch: A pattern looked for in what the command prints on stdout (progress without a callback).
            name: Prefix of the log file's name.
        """
        self.verbose = verbose
        self.log_path: str | None = None
        self.last_match: re.Match[str] | None = None
        self._watch = watch
        self._name = name
        self._saved: dict[int, int] = {}
        self._handlers: list[logging.Handler] = []
        self._old_stdout: IO[str] | None = None
        self._old_streams: tuple[IO[str], IO[str]] = (sys.stdout, sys.stderr)
        self._old_level = logging.WARNING

    def __enter__(self) -> Session:
        global _STREAM
        root = logging.getLogger()
        self._old_level = root.level
        root.setLevel(logging.INFO)
        if self.verbose:
            self._add(logging.StreamHandler(sys.stderr), logging.INFO)
            return self
        fd, self.log_path = tempfile.mkstemp(prefix=f"{self._name}-", suffix=".log")
        os.close(fd)
        # O_APPEND: descriptors 1 and 2, worker subprocesses and the logging handler all add at the end.
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
        sys.stdout.flush()
        sys.stderr.flush()
        for target in (1, 2):
            self._saved[target] = os.dup(target)
            os.dup2(fd, target)
        os.close(fd)
        _STREAM = os.fdopen(os.dup(self._saved[2]), "w", buffering=1)
        # Python-level writers too (they may not be the plain descriptors, e.g. under a test runner).
        self._old_streams = (sys.stdout, sys.stderr)
        sys.stdout = os.fdopen(os.dup(1), "w", buffering=1)
        sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)
        self._add(logging.FileHandler(self.log_path), logging.INFO)
        console = self._add(logging.StreamHandler(_STREAM), logging.WARNING)
        console.addFilter(_OwnWarnings())
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logging.captureWarnings(True)
        if self._watch is not None:
            self._old_stdout = sys.stdout
            sys.stdout = _WatchedStdout(sys.stdout, self._watch, self._matched)
        return self

    def _add(self, handler: logging.Handler, level: int) -> logging.Handler:
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        self._handlers.append(handler)
        return handler

    def _matched(self, match: re.Match[str]) -> None:
        self.last_match = match

    def __exit__(self, *exc: object) -> None:
        global _STREAM
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
            handler.flush()
        root.setLevel(self._old_level)
        if self.verbose:
            return
        logging.captureWarnings(False)
        for opened in (sys.stdout, sys.stderr):
            opened.flush()
        own = (self._old_stdout or sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self._old_streams
        for opened in own:
            opened.close()
        for target, saved in self._saved.items():
            os.dup2(saved, target)
            os.close(saved)
        self._saved.clear()
        if _STREAM is not None:
            _STREAM.close()
        _STREAM = None

    def tail(self, lines: int = 15) -> list[str]:
        """The log's last lines (to show why a command failed)."""
        if not self.log_path or not os.path.exists(self.log_path):
            return []
        with open(self.log_path, errors="replace") as handle:
            return [line.rstrip("\n") for line in handle.readlines()[-lines:]]

    def keep(self, folder: str | None, name: str) -> str | None:
        """Move the log into `folder` (local or remote, through `poseact.common.storage`) as `name`.

        Returns:
            Where the log now is: `folder/name`, or the local temporary file when `folder` is None or the
            copy failed; None when verbose (no log).
        """
        if not self.log_path:
            return None
        if folder is None:
            return self.log_path
        from poseact.common import storage  # noqa: PLC0415

        uri = storage.join(folder, name)
        try:
            storage.upload_atomic(self.log_path, uri)
        except OSError as err:
            say(f"could not copy the log to {uri}: {err}")
            return self.log_path
        os.unlink(self.log_path)
        return uri


class Heartbeat:
    """A progress line: redrawn in place on a terminal every second; otherwise printed when it changed,
    every `interval` seconds at first and then every third of the time run so far (at most
    `MAX_INTERVAL_S`): a file or CI log gets a few lines, not a redraw per update."""

    def __init__(self, status: Callable[[], str | None], interval: float = 10.0) -> None:
        """Prepare; nothing is printed before `__enter__`.

        Args:
            status: Returns the current line, or None while there is nothing to show.
            interval: Seconds between lines when not on a terminal.
        """
        self._status = status
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        terminal = is_terminal()
        started = last_time = time.time()  # the first line after one interval (or at the end)
        last = None
        while True:
            stopping = self._stop.wait(1.0 if terminal else min(self._interval, 1.0))
            text = self._status()
            now = time.time()
            # Off a terminal lines come further apart as a run grows: a third of the time so far, so that
            # an hour's job writes some twenty lines to its log, not hundreds.
            due = max(self._interval, min((now - started) / 3, MAX_INTERVAL_S))
            if text is not None and text != last and (terminal or stopping or now - last_time >= due):
                out = stream()
                out.write(f"\r{text}\x1b[K" if terminal else text + "\n")
                out.flush()
                last, last_time = text, now
            if stopping:
                if terminal and last is not None:
                    stream().write("\n")
                return

