"""The real classroom frames in `../shared/data/classroom_cctv` (tests skip when absent), and small data sets of a few
of them, linked rather than copied."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CCTV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "classroom_cctv"


def frame_image(key: str) -> Path:
    """The image of the distinct frame `key` (its number, e.g. "71"), whichever split holds it."""
    return sorted(CCTV.glob(f"*/images/{key}_jpg*"))[0]


def linked_set(folder: Path, images: Iterable[Path]) -> Path:
    """A YOLO data set in `folder` (data.yaml, images/, labels/) of links to these frames' images and labels."""
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "data.yaml").write_text((CCTV / "data.yaml").read_text())
    for image in images:
        (folder / "images" / image.name).symlink_to(image)
        (folder / "labels" / (image.stem + ".txt")).symlink_to(image.parents[1] / "labels" / (image.stem + ".txt"))
    return folder
