"""A real headless browser for the report tests: Debian's `chromium` driven from the command line.

Playwright would need its own browser download (not reachable from every machine); the system
Chromium's `--headless --screenshot` and `--dump-dom` give what the tests check: the rendered page and
the document the browser built from it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find() -> str | None:
    """The path of an installed Chromium or Chrome, or None."""
    return next((shutil.which(n) for n in NAMES if shutil.which(n)), None)


def _run(page: Path, *flags: str, width: int = 1200, height: int = 1600) -> subprocess.CompletedProcess:
    browser = find()
    if browser is None:
        raise FileNotFoundError("no Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="poseact-chromium-") as profile:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                   f"--user-data-dir={profile}", f"--window-size={width},{height}", *flags, page.resolve().as_uri()]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True,
                              env={**os.environ, "LANG": "en_US.UTF-8"})


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 1600) -> Path:
    """Render `page` and save a PNG of the top `width` x `height` pixels."""
    _run(page, f"--screenshot={out.resolve()}", width=width, height=height)
    return out


def dom(page: Path) -> str:
    """The document as the browser built it (after parsing, with anything a script would have done)."""
    return _run(page, "--dump-dom").stdout
