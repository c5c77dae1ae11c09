"""Box annotations researchers already have: a YOLO dataset folder (Roboflow and SCB-dataset exports).

A YOLO folder holds `data.yaml` (or `classes.txt`) with the class names, and `images/` beside `labels/`, either at
its top or inside split folders (`train/`, `valid/`, `test/`). Each label file has one line per box:
`class cx cy w h`, normalised to the image.

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
    """One annotated image.

    Attributes:
        path: The image file.
        key: The frame's identity across splits and re-exports (`frame_key`).
        width: Image width in pixels.
        height: Image height in pixels.
        boxes: (N, 4) x0, y0, x1, y1 in pixels.
        labels: N class names.
    """

    path: str
    key: str
    width: int
    height: int
    boxes: np.ndarray
    labels: tuple[str, ...]


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


def read_label_file(path: Path, names: list[str], width: int, height: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Boxes (pixels) and class names of one YOLO label file.

    Raises:
        AnnotationError: A line that is not `class cx cy w h`, or a class index with no name.
    """
    boxes, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            index = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:5])
        except ValueError as err:
            raise AnnotationError(f"{path}:{number}: expected `class cx cy w h`, got {line!r}") from err
        if len(parts) != 5:
            raise AnnotationError(f"{path}:{number}: expected `class cx cy w h`, got {line!r}")
        if not 0 <= index < len(names):
            raise AnnotationError(f"{path}:{number}: class {index} has no name (names: {names})")
        boxes.append([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height])
        labels.append(names[index])
    return np.asarray(boxes, np.float32).reshape(-1, 4), tuple(labels)


def read_yolo(root: str | Path) -> list[BoxedImage]:
    """Every distinct annotated frame of a YOLO folder, in path order (repeats across splits dropped).

    Raises:
        AnnotationError: No class names, no images, or a malformed label file.
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
        width, height = _image_size(image)
        boxes, labels = (read_label_file(label_path, names, width, height) if label_path.exists()
                         else (np.zeros((0, 4), np.float32), ()))
        out.append(BoxedImage(str(image), key, width, height, boxes, labels))
    return out


__all__ = ["IMAGE_SUFFIXES", "AnnotationError", "BoxedImage", "class_names", "frame_key", "read_label_file",
           "read_yolo"]
