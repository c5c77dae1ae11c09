"""Poses that no person takes: one standing on its head is the landmark model's guess on an object.

A pose-level rule, so that extraction (`poseact.data.extraction`, through the landmarker) and the label path's
tracker (`poseact.people.tracker`) refuse the same poses.
"""

from __future__ import annotations

import numpy as np


def upside_down(points: np.ndarray, width: int, height: int) -> bool:
    """Whether a pose stands on its head: the torso (shoulders' midpoint to hips' midpoint) points up,
    within 45 degrees of straight up, and the nose lies below the shoulders.

    Nobody in a classroom is upside down; the landmark model is, when its region of interest was turned
    over on an object it took for a person. Seen on real video: a "person" on a bottle on a table (the
    two-people clip: face on the bottle's foot, hips above its cap, every landmark at visibility 1, for 3 s)
    and on an open palm held to the camera (`torso_no_head`: the face on the palm, the hips at the wrist).
    Never a student's pose: none among the 20 ASL clips, the seated hand raise and the crowd scenes
    (`poseact.demo.crowd`); on the main job's 40 s demo lecture 36 refused poses, each in a frame where all four
    students were posed upright beside it (phantoms on a cap badge, a desk). Within 45 degrees of vertical, not just hips above shoulders: a person lying or bending
    sideways is not upside down. Predicted landmarks count whatever their visibility: the model places the
    hips of a seated student behind a desk below the shoulders all the same.
    """
    scale = np.array([width, height], np.float32)
    shoulders = (points[11, :2] + points[12, :2]) / 2 * scale
    torso = (points[23, :2] + points[24, :2]) / 2 * scale - shoulders
    nose_below = float(points[0, 1] * height) > float(shoulders[1])
    return bool(nose_below and torso[1] < 0 and abs(float(torso[1])) > abs(float(torso[0])))


__all__ = ["upside_down"]
