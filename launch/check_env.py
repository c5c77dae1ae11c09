"""Check that a Python environment is the one requirements.lock describes.

    python launch/check_env.py [requirements.lock]

Checks that every package pinned in the lock is installed at exactly the pinned version, and that exactly
one installed distribution provides `cv2` (opencv-python-headless: mediapipe would pull
opencv-contrib-python beside it, see overrides.txt). Exits 1 and names every problem otherwise.

Run at the end of the worker image build (launch/Dockerfile), so that an image whose base shipped other
versions cannot be pushed, and by the tests against the local environment. Standard library only: it runs
in whatever interpreter it checks.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

CV2_OWNER = "opencv-python-headless"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)\s*(?:#.*)?$")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: str) -> dict[str, str]:
    """`name==version` lines of a uv/pip-compile lock file, names normalised.

    Raises:
        ValueError: A requirement line is not an exact pin (the lock would not be a lock).
    """
    pins: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _PIN.match(line)
            if not match:
                raise ValueError(f"{path}:{number}: not an exact pin: {line!r}")
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def installed_versions() -> dict[str, str]:
    """Installed distributions of this interpreter, names normalised."""
    return {normalize(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def mismatches(pins: dict[str, str], installed: dict[str, str]) -> list[str]:
    """One line per pinned package that is missing or installed at another version."""
    problems = []
    for name, version in sorted(pins.items()):
        found = installed.get(name)
        if found != version:
            problems.append(f"{name}: lock pins {version}, installed {found or 'nothing'}")
    return problems


def cv2_owners() -> list[str]:
    """Names of the installed distributions that ship files under `cv2/`."""
    return sorted({
        normalize(d.metadata["Name"]) for d in metadata.distributions()
        if any(str(f).startswith("cv2/") for f in (d.files or []))
    })


def main(argv: list[str] | None = None) -> int:
    """Print every problem; 0 when there is none."""
    args = sys.argv[1:] if argv is None else argv
    lock = args[0] if args else "requirements.lock"
    problems = mismatches(read_pins(lock), installed_versions())
    owners = cv2_owners()
    if owners != [CV2_OWNER]:
        problems.append(f"cv2 must come from {CV2_OWNER} alone; provided by: {', '.join(owners) or 'nothing'}")
    for problem in problems:
        print(f"check_env: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_env: the environment matches {lock} ({sys.version.split()[0]}); cv2 from {CV2_OWNER}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
