"""Read the clip list: a CSV/JSONL manifest or a directory with one folder per class (EduNet layout).

Manifest columns: `uri` and `label` (required), `group` (subject or session; optional) and `split`
(`train`, `val` or `test`; optional). Relative URIs are resolved against the manifest's folder.
Problems with the manifest itself are errors for the whole job, raised before any work starts.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import posixpath

from poseact.common import storage

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
REQUIRED = ("uri", "label")
VALID_SPLITS = ("train", "val", "test")


class ManifestError(ValueError):
    """The clip list is unusable; the message says which rows and what to fix."""


@dataclasses.dataclass(frozen=True, order=True)
class ClipSpec:
    """One input clip.

    Attributes:
        uri: Local path or fsspec URL.
        label: Class name.
        group: Subject or session; clips of one group never straddle splits. Defaults to the URI.
        split: Requested split, or "" to let `poseact.data.splits` decide.
    """

    uri: str
    label: str
    group: str = ""
    split: str = ""


def _resolve(uri: str, base: str) -> str:
    if "://" in uri or os.path.isabs(uri):
        return uri
    return storage.join(base, uri) if not storage.is_local(base) else os.path.normpath(os.path.join(base, uri))


def _rows(source: str, text: str) -> list[dict[str, str]]:
    if source.endswith((".jsonl", ".ndjson")):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ManifestError(f"{source}: line {number} is not JSON: {err}") from err
            if not isinstance(row, dict):
                raise ManifestError(f"{source}: line {number} is not a JSON object")
            rows.append({k: "" if v is None else str(v) for k, v in row.items()})
        return rows
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ManifestError(f"{source}: missing column(s) {missing}; found {reader.fieldnames}")
    return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def read_manifest(source: str, classes: list[str] | None = None) -> list[ClipSpec]:
    """Parse and validate a manifest.

    Args:
        source: Path or URL of a `.csv` or `.jsonl` file.
        classes: Allowed labels; None accepts every non-empty label.

    Raises:
        ManifestError: Missing columns, empty or unknown labels, bad splits or duplicate URIs.
    """
    text = storage.read_bytes(source).decode("utf-8-sig")
    base = os.path.dirname(source) if storage.is_local(source) else posixpath.dirname(source)
    rows = _rows(source, text)
    problems: list[str] = []
    specs: list[ClipSpec] = []
    for number, row in enumerate(rows, start=2 if not source.endswith((".jsonl", ".ndjson")) else 1):
        if any(c not in row for c in REQUIRED):
            problems.append(f"row {number}: missing {[c for c in REQUIRED if c not in row]}")
            continue
        uri, label = row["uri"].strip(), row["label"].strip()
        split = row.get("split", "").strip().lower()
        if not uri:
            problems.append(f"row {number}: empty uri")
        if not label:
            problems.append(f"row {number}: empty label for {uri!r}")
        elif classes is not None and label not in classes:
            problems.append(f"row {number}: unknown label {label!r} (known: {', '.join(classes)})")
        if split and split not in VALID_SPLITS:
            problems.append(f"row {number}: split {split!r} is not one of {VALID_SPLITS}")
        resolved = _resolve(uri, base) if uri else uri
        specs.append(ClipSpec(resolved, label, row.get("group", "").strip() or resolved, split))
    seen: dict[str, int] = {}
    for spec in specs:
        seen[spec.uri] = seen.get(spec.uri, 0) + 1
    problems += [f"uri {uri!r} appears {n} times" for uri, n in sorted(seen.items()) if n > 1 and uri]
    if not specs and not problems:
        problems.append("no rows")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ManifestError(f"{source}: {shown}")
    return specs


def read_class_dirs(
    root: str, classes: list[str] | None = None, extensions: tuple[str, ...] = VIDEO_EXTENSIONS
) -> list[ClipSpec]:
    """Clips from `root/<class>/**/<clip>` (EduNet's layout); each clip is its own group.

    Raises:
        ManifestError: No class folder or no video found, or a folder not in `classes`.
    """
    files = storage.list_files(root)
    specs = []
    prefix = root.rstrip("/")
    for uri in files:
        if not uri.lower().endswith(extensions):
            continue
        relative = uri[len(prefix):].lstrip("/") if uri.startswith(prefix) else os.path.relpath(uri, root)
        parts = relative.replace(os.sep, "/").split("/")
        if len(parts) < 2:
            continue
        label = parts[0]
        if classes is not None and label not in classes:
            raise ManifestError(f"{root}: folder {label!r} is not a known class ({', '.join(classes)})")
        specs.append(ClipSpec(uri, label, uri, ""))
    if not specs:
        raise ManifestError(f"{root}: no files ({', '.join(extensions)}) in class folders")
    return sorted(specs)


def read_clips(
    source: str, classes: list[str] | None = None, extensions: tuple[str, ...] = VIDEO_EXTENSIONS
) -> list[ClipSpec]:
    """A manifest file or a class-folder directory, sorted by URI.

    Raises:
        ManifestError: See `read_manifest` and `read_class_dirs`; also when `source` does not exist.
    """
    if not storage.exists(source):
        raise ManifestError(f"input {source!r} does not exist")
    fs, path = storage.filesystem(source)
    specs = read_class_dirs(source, classes, extensions) if fs.isdir(path) else read_manifest(source, classes)
    return sorted(specs)


def class_names(specs: list[ClipSpec], classes: list[str] | None = None) -> list[str]:
    """The class list: `classes` as given, else the sorted labels seen."""
    return list(classes) if classes else sorted({s.label for s in specs})


_GLOB_CHARS = "*?["
_LIST_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".txt")


def read_uris(source: str, extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> list[str]:
    """Video URIs to label, sorted and unique, from a glob, a folder (searched recursively), a list file
    (`.txt`: one URI per line; `.csv`/`.jsonl`: a `uri` column), or a single video.

    Relative URIs in a list file are relative to the list's folder. Entries of a list file are not checked
    for existence here: a missing one becomes a dead letter of the job, so it is accounted for.

    Raises:
        ManifestError: The source does not exist, matches nothing, or a list file is malformed.
    """
    if any(ch in source for ch in _GLOB_CHARS):
        fs, path = storage.filesystem(source)
        found = sorted(fs.glob(path))
        protocol = "" if storage.is_local(source) else source.split("://", 1)[0] + "://"
        uris = [protocol + p for p in found if p.lower().endswith(extensions)]
        if not uris:
            raise ManifestError(f"{source!r} matches no video ({', '.join(extensions)})")
        return uris
    if not storage.exists(source):
        raise ManifestError(f"input {source!r} does not exist")
    fs, path = storage.filesystem(source)
    if fs.isdir(path):
        uris = [u for u in storage.list_files(source) if u.lower().endswith(extensions)]
        if not uris:
            raise ManifestError(f"{source!r} holds no video ({', '.join(extensions)})")
        return uris
    if source.lower().endswith(extensions):
        return [source]
    if not source.lower().endswith(_LIST_SUFFIXES):
        raise ManifestError(f"{source!r} is neither a video ({', '.join(extensions)}) nor a list (.txt/.csv/.jsonl)")
    text = storage.read_bytes(source).decode("utf-8", errors="replace")
    base = os.path.dirname(source) if storage.is_local(source) else posixpath.dirname(source)
    if source.endswith(".txt"):
        entries = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    else:
        if source.endswith(".csv"):
            reader = csv.DictReader(io.StringIO(text))
            if "uri" not in (reader.fieldnames or []):
                raise ManifestError(f"{source}: no 'uri' column; found {reader.fieldnames}")
            rows = list(reader)
        else:
            rows = _rows(source, text)
        entries = []
        for number, row in enumerate(rows, start=2 if source.endswith(".csv") else 1):
            if not (row.get("uri") or "").strip():
                raise ManifestError(f"{source}: entry {number} has no uri")
            entries.append(row["uri"].strip())
    if not entries:
        raise ManifestError(f"{source}: lists no video")
    return sorted({_resolve(e, base) for e in entries})
