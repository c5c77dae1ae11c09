"""Still crops: when a person's pose is reused instead of running the model (poseact.people.followers)."""

import numpy as np

from poseact.people import followers


def _frame(rng, hand_x: int, noise: float) -> np.ndarray:
    """A 200 x 200 seated student's crop: light paper, a dark 12 x 12 px pen hand at `hand_x`, camera noise."""
    frame = np.full((200, 200, 3), 190.0)
    frame[120:132, hand_x:hand_x + 12] = 60.0
    frame += rng.normal(0, noise, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_noise_is_still_and_a_three_pixel_pen_stroke_is_not():
    rng = np.random.default_rng(0)
    crop = (0, 0, 200, 200)
    still = followers.thumbnail(_frame(rng, 90, noise=4.0), crop)
    again = followers.thumbnail(_frame(rng, 90, noise=4.0), crop)  # same scene, fresh sensor noise
    moved = followers.thumbnail(_frame(rng, 93, noise=4.0), crop)  # the hand 3 px along (3% of a shoulder width)
    assert not followers.changed(still, again)
    assert followers.changed(still, moved)


def test_masked_crop_greys_out_other_faces_only_inside_the_crop():
    rgb = np.zeros((100, 100, 3), np.uint8)
    rgb[:, :50] = 200
    part = followers.masked_crop(rgb, (0, 0, 60, 60), [np.array([40, 10, 55, 20], np.float32)])
    assert part.shape == (60, 60, 3)
    assert (part[10:20, 40:55] == np.median(rgb[:60, :60].reshape(-1, 3), axis=0)).all()
    assert (part[30:, :40] == 200).all()
