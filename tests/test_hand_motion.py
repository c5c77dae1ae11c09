"""The hands' pixels (`poseact.label.hand_motion`) on hand-made frames, and as the rules' writing cue."""

from __future__ import annotations

import numpy as np
import pytest

from poseact.label import hand_motion

SIZE = 200  # frame side (pixels)


def scene(seed: int = 0) -> np.ndarray:
    """A textured grey frame: every shift of it changes many pixels."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (SIZE // 4, SIZE // 4), dtype=np.uint8)
    return np.kron(small, np.ones((4, 4), np.uint8))


def person(wrist=(0.45, 0.7), visible: float = 1.0) -> np.ndarray:
    """Landmarks (33, 5): shoulders 40 px apart at y = 0.4, the left wrist at `wrist` (normalised)."""
    points = np.zeros((33, 5), np.float32)
    points[:, 3] = 0.0
    points[11, :2], points[12, :2] = (0.6, 0.4), (0.4, 0.4)
    points[11, 3] = points[12, 3] = 1.0
    points[15, :2] = wrist
    points[15, 3] = visible
    return points


def with_patch_changed(frame: np.ndarray, centre_px: tuple[int, int], half: int, seed: int) -> np.ndarray:
    out = frame.copy()
    x, y = centre_px
    out[y - half:y + half, x - half:x + half] = scene(seed)[:2 * half, :2 * half]
    return out


def test_a_still_hand_does_not_move():
    frame = scene()
    assert hand_motion.frame_motion(frame, frame.copy(), person()) == 0.0


def test_a_moving_hand_low_in_front_moves():
    before = scene()
    after = with_patch_changed(before, (90, 140), 8, seed=1)  # a hand-sized change at the wrist
    motion = hand_motion.frame_motion(before, after, person())
    assert 0.1 < motion <= 1.0


def test_the_camera_shaking_is_no_hand_motion():
    """The whole frame moves by a pixel: the neck patch changes as much as the hand's, nothing is left."""
    before = scene()
    after = np.roll(before, 1, axis=1)
    assert hand_motion.changed_share(before, after, np.array([90.0, 140.0]), 12) > 0.1
    assert hand_motion.frame_motion(before, after, person()) < 0.05


def test_no_vote_without_a_hand_low_in_front():
    before = scene()
    after = with_patch_changed(before, (90, 40), 8, seed=1)
    assert np.isnan(hand_motion.frame_motion(before, after, person(wrist=(0.45, 0.2))))  # raised: not on a desk
    assert np.isnan(hand_motion.frame_motion(before, after, person(wrist=(0.95, 0.7))))  # far to the side
    hidden = person()
    hidden[12, 3] = 0.0  # a shoulder unknown: no scale
    assert np.isnan(hand_motion.frame_motion(before, after, hidden))


def test_a_wrist_seen_poorly_is_measured_where_the_model_puts_it():
    """A writing fist with a pen got wrist visibilities of 0.2-0.4 on the demo lecture: still measured."""
    before = scene()
    after = with_patch_changed(before, (90, 140), 8, seed=1)
    assert hand_motion.frame_motion(before, after, person(visible=0.2)) > 0.1


def test_noise_below_the_noise_level_is_still():
    rng = np.random.default_rng(3)
    before = scene()
    noisy = np.clip(before.astype(np.int16) + rng.integers(-hand_motion.NOISE_LEVEL, hand_motion.NOISE_LEVEL + 1,
                                                           before.shape), 0, 255).astype(np.uint8)
    assert hand_motion.frame_motion(before, noisy, person()) == 0.0


def test_patch_outside_the_frame_is_nan():
    frame = scene()
    assert np.isnan(hand_motion.changed_share(frame, frame, np.array([-50.0, -50.0]), 10))


def test_a_nodding_head_does_not_cancel_a_writing_hand():
    """The neck patch moves with the head (a nod, a shiny collar); the chest does not: the body's own
    motion is the lesser of the two, so the hand's motion stays."""
    before = scene()
    hand = with_patch_changed(before, (90, 140), 8, seed=1)
    nodding = with_patch_changed(hand, (100, 74), 6, seed=2)  # inside the neck patch, above the chest patch
    alone = hand_motion.frame_motion(before, hand, person())
    assert hand_motion.frame_motion(before, nodding, person()) == pytest.approx(alone)
