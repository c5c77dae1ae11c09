"""Box annotations researchers already have: YOLO folders, Pascal VOC folders and AVA-style CSVs.

A YOLO folder holds `data.yaml` (or `classes.txt`) with the class names, and `images/` beside `labels/`, either at
its top or inside split folders (`train/`, `valid/`, `test/`). Each label file has one line per box:
`class cx cy w h`, normalised to the image (Roboflow and SCB-dataset exports).

A VOC folder holds one `.xml` per image (usually in `Annotations/`, the images in `JPEGImages/` or beside the
`.xml`): `<filename>`, `<size>` and one `<object>` per box with its `<name>` and `<bndbox>` in pixels.

An AVA-style CSV lists boxes in videos: `video_id, timestamp, x1, y1, x2, y2, action, person_id`, the box normalised to
the frame, the timestamp in seconds, the action a class name or a number (named by a `classes.txt` beside the CSV, one
name per line, first line 1 as in AVA's label map); the videos lie beside the CSV or in `videos/` (`video_id.*`). This
is the spatio-temporal action format MMAction2 reads.

Readers given a `bad` list put each malformed row there (with its reason) instead of stopping: a job then writes them
to its dead letters and counts them among its inputs.

Exports repeat frames: Roboflow renames `40.jpg` to `40_jpg.rf.<hash>.jpg` or `40.rf.<hash>.jpg`, and the same
frame can land in two splits. `frame_key` strips those decorations, and `read_yolo` keeps each frame once
(the first in path order), so nothing is counted twice.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_ROBOFLOW = re.compile(r"(?:_(?:jpe?g|png|bmp|webp))?\.rf\.[0-9a-f]+$", re.IGNORECASE)


class AnnotationError(ValueError):
    """An annotation folder or file that cannot be read as its format says."""


@dataclasses.dataclass(frozen=True)
class BoxedImage:
    """One annotated image, or one annotated instant of a video.

    Attributes:
        path: The image file (or the video).
        key: The frame's identity across splits and re-exports (`frame_key`; for a video, `video_id@seconds`).
        width: Image width in pixels.
        height: Image height in pixels.
        boxes: (N, 4) x0, y0, x1, y1 in pixels.
        labels: N class names.
        time_s: For a video, the annotated instant (seconds); None for an image.
        recording: What the frame was taken from (`recording_group` groups frames by it): the video for a video; for
            an image, its key without a trailing frame number.
    """

    path: str
    key: str
    width: int
    height: int
    boxes: np.ndarray
    labels: tuple[str, ...]
    time_s: float | None = None
    recording: str = ""


@dataclasses.dataclass(frozen=True)
class BadRow:
    """An annotation row that could not be read: where it is and why."""

    source: str
    line: int
    reason: str


def frame_key(path: str | Path) -> str:
    """The frame a file shows, without Roboflow's `_jpg.rf.<hash>` / `.rf.<hash>` decorations."""
    return _ROBOFLOW.sub("", Path(path).stem)


def class_names(root: Path) -> list[str]:
    """Class names from `data.yaml` (`names:` as a list or a mapping) or `classes.txt` (one per line).

    Raises:
        AnnotationError: Neither file, or no names in it.
    """
    yaml_path, txt_path = root / "data.yaml", root / "classes.txt"
    if yaml_path.exists():
        import yaml  # noqa: PLC0415 (PyYAML comes with Beam and TensorFlow's dependencies)

        names = (yaml.safe_load(yaml_path.read_text()) or {}).get("names")
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        if not names:
            raise AnnotationError(f"{yaml_path} has no `names:` list")
        return [str(n) for n in names]
    if txt_path.exists():
        names = [line.strip() for line in txt_path.read_text().splitlines() if line.strip()]
        if names:
            return names
    raise AnnotationError(f"{root}: no data.yaml or classes.txt with the class names")


def _image_size(path: Path) -> tuple[int, int]:
    import cv2  # noqa: PLC0415

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise AnnotationError(f"{path}: not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def _bad(bad: list[BadRow] | None, source: Path | str, line: int, reason: str) -> None:
    """Keep a malformed row in `bad`, or stop with it when there is no list."""
    if bad is None:
        raise AnnotationError(f"{source}:{line}: {reason}")
    bad.append(BadRow(str(source), line, reason))


def read_label_file(path: Path, names: list[str], width: int, height: int,
                    bad: list[BadRow] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Boxes (pixels) and class names of one YOLO label file.

    Raises:
        AnnotationError: (without `bad`) a line that is not `class cx cy w h`, or a class index with no name.
    """
    boxes, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            index = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:5])
            if len(parts) != 5:
                raise ValueError(line)
        except ValueError:
            _bad(bad, path, number, f"expected `class cx cy w h`, got {line!r}")
            continue
        if not 0 <= index < len(names):
            _bad(bad, path, number, f"class {index} has no name (names: {names})")
            continue
        if not (w > 0 and h > 0 and np.isfinite([cx, cy, w, h]).all()):
            _bad(bad, path, number, f"an empty or broken box: {line!r}")
            continue
        boxes.append([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height])
        labels.append(names[index])
    return np.asarray(boxes, np.float32).reshape(-1, 4), tuple(labels)


_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def recording_of(key: str) -> str:
    """The recording a frame key belongs to: the key without its trailing frame number (`lecture3_000120` ->
    `lecture3_`; `108` -> ``)."""
    match = _TRAILING_NUMBER.match(key)
    return match.group(1) if match else key


def recording_group(image: BoxedImage, block: int) -> str:
    """The split group of a frame: its recording, and for numbered frames the block of `block` consecutive numbers it
    falls in. Frames of one recording a second apart are near copies, so they must share a split; blocks far apart in a
    long recording may go to different splits. A video's boxes group by the video (`block` windows would still
    overlap their neighbours)."""
    if image.time_s is not None:
        return f"video:{image.recording}"
    match = _TRAILING_NUMBER.match(image.key)
    if not match:
        return f"frame:{image.key}"
    return f"frames:{match.group(1)}#{int(match.group(2)) // max(1, block)}"


def read_yolo(root: str | Path, bad: list[BadRow] | None = None) -> list[BoxedImage]:
    """Every distinct annotated frame of a YOLO folder, in path order (repeats across splits dropped).

    Raises:
        AnnotationError: No class names, no images, or (without `bad`) a malformed label file.
    """
    root = Path(root)
    names = class_names(root)
    images = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.parent.name == "images")
    if not images:
        raise AnnotationError(f"{root}: no images/ folder with images in it")
    seen: set[str] = set()
    out = []
    for image in images:
        key = frame_key(image)
        if key in seen:
            continue
        seen.add(key)
        label_path = image.parent.parent / "labels" / (image.stem + ".txt")
        try:
            width, height = _image_size(image)
        except AnnotationError as err:
            if bad is None:
                raise
            # Each of its boxes is an input that cannot be read: one dead letter per label line.
            lines = label_path.read_text().splitlines() if label_path.exists() else []
            for number, line in enumerate(lines, 1):
                if line.strip():
                    _bad(bad, label_path, number, f"its image is not readable: {err}")
            continue
        boxes, labels = (read_label_file(label_path, names, width, height, bad) if label_path.exists()
                         else (np.zeros((0, 4), np.float32), ()))
        out.append(BoxedImage(str(image), key, width, height, boxes, labels, recording=recording_of(key)))
    return out


def read_voc(root: str | Path, bad: list[BadRow] | None = None) -> list[BoxedImage]:
    """Every annotated image of a Pascal VOC folder (its `.xml` files, in path order).

    Raises:
        AnnotationError: No `.xml` file; (without `bad`) one that is not VOC or names an image that is not there.
    """
    import xml.etree.ElementTree as ElementTree  # noqa: PLC0415

    root = Path(root)
    files = sorted(root.rglob("*.xml"))
    if not files:
        raise AnnotationError(f"{root}: no VOC .xml files")
    out, seen = [], set()
    for path in files:
        try:
            tree = ElementTree.parse(path).getroot()
            filename = (tree.findtext("filename") or "").strip()
        except ElementTree.ParseError as err:
            _bad(bad, path, 0, f"not XML: {err}")
            continue
        image = next((c for c in (path.parent / filename, root / "JPEGImages" / filename,
                                  path.parent.parent / "JPEGImages" / filename) if filename and c.is_file()), None)
        if image is None:
            _bad(bad, path, 0, f"the image {filename!r} it names is not there")
            continue
        key = frame_key(image)
        if key in seen:
            continue
        seen.add(key)
        try:
            width, height = _image_size(image)
        except AnnotationError as err:
            if bad is None:
                raise
            for number, _ in enumerate(tree.iter("object"), 1):  # each of its boxes: an input not read
                _bad(bad, path, number, f"object {number}: its image is not readable: {err}")
            continue
        boxes, labels = [], []
        for number, obj in enumerate(tree.iter("object"), 1):
            name, box = (obj.findtext("name") or "").strip(), obj.find("bndbox")
            try:
                x0, y0, x1, y1 = (float(box.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax"))
                if not (name and x1 > x0 and y1 > y0):
                    raise ValueError(name)
            except (AttributeError, TypeError, ValueError):
                _bad(bad, path, number, f"object {number}: no name or no valid <bndbox>")
                continue
            boxes.append([x0, y0, x1, y1])
            labels.append(name)
        out.append(BoxedImage(str(image), key, width, height, np.asarray(boxes, np.float32).reshape(-1, 4),
                              tuple(labels), recording=recording_of(key)))
    return out


AVA_COLUMNS = ("video_id", "timestamp", "x1", "y1", "x2", "y2", "action", "person_id")


def read_ava(csv_path: str | Path, bad: list[BadRow] | None = None) -> list[BoxedImage]:
    """The annotated instants of an AVA-style CSV, one per (video, timestamp), in order of both.

    Raises:
        AnnotationError: The CSV is not there; (without `bad`) a malformed row or a video that is not there.
    """
    import csv  # noqa: PLC0415

    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise AnnotationError(f"{csv_path}: no such CSV")
    names_path = csv_path.parent / "classes.txt"
    names = [n.strip() for n in names_path.read_text().splitlines() if n.strip()] if names_path.exists() else []
    instants: dict[tuple[str, float], list[tuple[list[float], str]]] = {}
    videos: dict[str, Path | None] = {}
    with open(csv_path, newline="") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or (number == 1 and row[0].strip() == "video_id"):
                continue
            try:
                if len(row) < 7:
                    raise ValueError("too few columns")
                video_id, time_s = row[0].strip(), float(row[1])
                x0, y0, x1, y1 = (float(v) for v in row[2:6])
                if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and video_id):
                    raise ValueError("the box must be normalised, x1 < x2 and y1 < y2")
            except ValueError as err:
                _bad(bad, csv_path, number, f"expected `{', '.join(AVA_COLUMNS)}`: {err}")
                continue
            action = row[6].strip()
            if action.isdigit() and names:
                if not 1 <= int(action) <= len(names):
                    _bad(bad, csv_path, number, f"action {action} has no name in {names_path.name}")
                    continue
                action = names[int(action) - 1]
            if video_id not in videos:
                videos[video_id] = next((p for folder in (csv_path.parent, csv_path.parent / "videos")
                                         for p in sorted(folder.glob(f"{video_id}.*"))
                                         if p.suffix.lower() != ".csv"), None)
            if videos[video_id] is None:
                _bad(bad, csv_path, number, f"no video {video_id}.* beside the CSV or in videos/")
                continue
            instants.setdefault((video_id, time_s), []).append(([x0, y0, x1, y1], action))
    out = []
    for (video_id, time_s), rows in sorted(instants.items()):
        try:
            width, height = _video_size(videos[video_id])
        except AnnotationError as err:
            if bad is None:
                raise
            for _ in rows:  # each of its boxes: an input not read
                _bad(bad, csv_path, 0, f"{video_id} at {time_s:g} s: {err}")
            continue
        boxes = np.asarray([b for b, _ in rows], np.float32) * np.array([width, height, width, height], np.float32)
        out.append(BoxedImage(str(videos[video_id]), f"{video_id}@{time_s:g}", width, height, boxes,
                              tuple(a for _, a in rows), time_s=time_s, recording=video_id))
    return out


def _video_size(path: Path) -> tuple[int, int]:
    import cv2  # noqa: PLC0415

    capture = cv2.VideoCapture(str(path))
    try:
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if width <= 0 or height <= 0:
        raise AnnotationError(f"{path}: not a readable video")
    return width, height


FORMATS = ("yolo", "voc", "ava")


def detect_format(path: str | Path) -> str:
    """Which of `FORMATS` a path holds: a CSV is AVA; a folder with `data.yaml`/`classes.txt` and `images/` is YOLO;
    a folder of `.xml` files is VOC.

    Raises:
        AnnotationError: None of them.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return "ava"
    if path.is_dir():
        if ((path / "data.yaml").exists() or (path / "classes.txt").exists()) and any(
                p.name == "images" for p in path.rglob("images")):
            return "yolo"
        if next(path.rglob("*.xml"), None) is not None:
            return "voc"
    raise AnnotationError(f"{path}: not a YOLO folder (data.yaml or classes.txt, images/, labels/), a VOC folder "
                          "(.xml files) or an AVA-style .csv; --box-format names the format")


def read_boxes(path: str | Path, box_format: str = "auto",
               bad: list[BadRow] | None = None) -> tuple[str, list[BoxedImage]]:
    """The format (`detect_format` for "auto") and the annotated frames of `path`."""
    box_format = detect_format(path) if box_format == "auto" else box_format
    readers = {"yolo": read_yolo, "voc": read_voc, "ava": read_ava}
    if box_format not in readers:
        raise AnnotationError(f"unknown box format {box_format!r}: one of auto, {', '.join(FORMATS)}")
    return box_format, readers[box_format](path, bad)


__all__ = ["AVA_COLUMNS", "FORMATS", "IMAGE_SUFFIXES", "AnnotationError", "BadRow", "BoxedImage", "class_names",
           "detect_format", "frame_key", "read_ava", "read_boxes", "read_label_file", "read_voc", "read_yolo",
           "recording_group", "recording_of"]
