"""poseact.data.box_extraction: which person a box holds, and the rows and reasons it gives."""

import numpy as np
import pytest

from poseact.data.annotations import BoxedImage
from poseact.data.box_extraction import BoxConfig, assign_boxes, box_rows, heads_in_boxes, instant_index


def test_head_boxes_hold_heads_within_a_quarter_of_their_size():
    boxes = np.array([[100, 100, 140, 140]], np.float32)
    heads = np.array([[120, 120], [145, 120], [155, 120]], np.float32)  # inside, in the grown margin, beyond it
    assert heads_in_boxes(boxes, heads, "head").tolist() == [[True, True, False]]


def test_body_boxes_hold_heads_in_their_upper_half():
    boxes = np.array([[0, 0, 100, 200]], np.float32)
    heads = np.array([[50, 30], [50, 99], [50, 150]], np.float32)  # face, chest height, a hand on the desk
    assert heads_in_boxes(boxes, heads, "body").tolist() == [[True, True, False]]


def test_a_box_with_nobody_or_two_people_has_no_owner():
    boxes = np.array([[0, 0, 40, 40], [100, 0, 140, 40], [300, 0, 340, 40]], np.float32)
    heads = np.array([[20, 20], [110, 20], [130, 20]], np.float32)
    assert assign_boxes(boxes, heads, "head") == [0, "two persons", "no person"]
    assert assign_boxes(boxes, np.zeros((0, 2), np.float32), "head") == ["no person"] * 3


def test_a_person_two_boxes_claim_goes_to_the_nearer_box():
    boxes = np.array([[0, 0, 40, 40], [30, 0, 70, 40]], np.float32)  # overlapping neighbours
    heads = np.array([[36, 20]], np.float32)
    assert assign_boxes(boxes, heads, "head") == ["no person", 0]


def _track(x: float, y: float, frames: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A made pose whose face sits at (x, y) (normalised) with shoulders below it."""
    landmarks = np.zeros((frames, 33, 5), np.float32)
    landmarks[:, :, 0], landmarks[:, :, 1], landmarks[:, :, 3:] = x, y + 0.2, 0.9
    landmarks[:, :11, 1] = y
    landmarks[:, 11, 0], landmarks[:, 12, 0] = x + 0.05, x - 0.05
    return landmarks, np.ones(frames, bool)


def test_rows_and_reasons_for_every_box():
    image = BoxedImage("img/7.jpg", "7", 200, 100, np.array([[30, 10, 50, 30], [130, 10, 150, 30], [80, 60, 90, 70],
                                                            [30, 10, 50, 30]], np.float32),
                       ("up", "down", "down", "sleeping"))
    tracks = {3: _track(0.2, 0.2), 5: _track(0.7, 0.2)}
    config = BoxConfig(part="head", max_frames=48)
    times = np.arange(5) * 1000 / 15
    out = box_rows(image, "train", "frames:#0", {"up": 0, "down": 1}, times, tracks, instant_index(times, image),
                   config)
    assert [(o.index, o.row is not None, o.stage) for o in out] == [(0, True, ""), (1, True, ""), (2, False, "match"),
                                                                   (3, False, "label")]
    row = out[0].row
    assert row["clip_id"] == "7#0" and row["label"] == "up" and row["label_id"] == 0 and row["split"] == "train"
    assert row["pose"].shape == (48, 24, 3) and row["frame_mask"].sum() == 5 and row["uri"] == "img/7.jpg#box0"
    assert "unknown label 'sleeping'" in out[3].reason


def test_only_known_parts():
    with pytest.raises(ValueError, match="part"):
        BoxConfig(part="face")
