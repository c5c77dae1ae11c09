"""When a pose is not a new person: the same body seen twice, a pose squeezed into a few pixels, a "person"
on someone's hand or forearm (a pose upside down: `poseact.pose.upright`). The rules `poseact.people.tracker` applies before it starts or
keeps a track.
"""

from __future__ import annotations

import numpy as np

from poseact.people.boxes import VISIBLE

_ANCHORS = (0, 2, 5, 11, 12)  # nose, eyes, shoulders: where two poses of one body coincide
SAME_BODY = 0.25
# Between consecutive posed frames (1/15 s apart at most, or a few with --pose-every) a seated person's
# face and shoulders move far less than one shoulder width; a bigger move is a jump to another person.
JUMP = 1.0
# ... but a hand-held camera shakes everyone by several % of the frame between frames, which is many shoulder
# widths for a small person far away (the real two-people clip: a 15 px wide boy in the back; 5% still lost
# him in some frames, 8% kept him as often as before the jump rule).
JUMP_FLOOR = 0.08


def same_body(a: np.ndarray, b: np.ndarray, width: int, height: int, within: float = SAME_BODY,
              floor_px: float = 0.0) -> bool:
    """Whether two poses sit on one body: their nose, eyes and shoulders (those visible in both) lie within
    `within` (default `SAME_BODY`, a quarter) of the larger shoulder width of each other, on average (or
    within `floor_px` pixels, when that is more).

    Two tracks can hold one person with boxes that differ a lot (one around the head and shoulders, one
    down to the desk: IoU well under 0.5), but never with faces and shoulders a quarter shoulder apart: two
    real people that close would be one in front of the other, and then the back one's face is hidden.
    """
    scale = np.array([width, height], np.float32)
    both = [i for i in _ANCHORS if a[i, 3] >= VISIBLE and b[i, 3] >= VISIBLE]
    if len(both) < 3:
        return False
    shoulders = max(float(np.linalg.norm((p[11, :2] - p[12, :2]) * scale)) for p in (a, b))
    if shoulders <= 0:
        return False
    gap = np.mean([np.linalg.norm((a[i, :2] - b[i, :2]) * scale) for i in both])
    return bool(gap < max(within * shoulders, floor_px))


def too_small(box: np.ndarray, min_head_px: float) -> bool:
    """Whether a "person" box is under half the smallest head detection looks for (`min_head_px`): a
    pose squeezed into a few pixels (seen on the demo lecture: 5-12 px "people" on a cap badge, a chair, a
    palm), not a person. A real person's visible landmarks span at least their face, a head wide; the far
    boy of the real two-people clip (23-35 px boxes) stays."""
    return side_too_small(box_side(box), min_head_px)


def box_side(box: np.ndarray) -> float:
    """The larger side of a box, in pixels."""
    return max(float(box[2] - box[0]), float(box[3] - box[1]))


def side_too_small(side: float, min_head_px: float) -> bool:
    """`too_small` for a box's larger side (e.g. a track's median over its last boxes)."""
    return side < 0.5 * min_head_px


HAND_REACH = 0.6  # fingertips lie up to about half a shoulder width beyond the wrist
HAND_SIZE = 0.5  # a hand is about half a shoulder width long; a person's upper body is far larger
FOREARM_REACH = 0.25  # a forearm is about a quarter of a shoulder width thick (sleeve included)


def _segment_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance from `point` to the segment a-b (all pixels)."""
    ab = b - a
    t = float(np.clip(np.dot(point - a, ab) / max(float(np.dot(ab, ab)), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab)))


def on_arm(box: np.ndarray, points: np.ndarray, width: int, height: int) -> bool:
    """Whether a new "person" box is a phantom on a tracked person's hand or forearm: smaller than
    `HAND_SIZE` of their shoulder width, and centred within `HAND_REACH` shoulder widths of one of their
    visible hand landmarks (wrist, fingers: 15-22) or within `FOREARM_REACH` of a visible forearm
    (elbow to wrist, both seen).

    Seen on the demo lecture's raised hands: the detector took the open palm above a student's head, or
    the round elbow of a raised arm, for a small face and kept a 7-22 px "person" on it for up to 50 s,
    outside the student's own landmark box (which ends at the wrist). A real person behind a raised arm
    shows shoulders and a face, a box larger than a hand of the student in front; a face exactly behind
    the forearm is hidden by it anyway, and is found on the next detection pass once the arm is down.
    The upper arm is left out on purpose: back-row faces often appear beside a front student's shoulder.
    """
    scale = np.array([width, height], np.float32)
    shoulders = float(np.linalg.norm((points[11, :2] - points[12, :2]) * scale))
    size = float(np.hypot(box[2] - box[0], box[3] - box[1]))
    if shoulders <= 0 or size >= HAND_SIZE * shoulders:
        return False
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
    seen = points[:, 3] >= VISIBLE
    hands = points[15:23][seen[15:23], :2] * scale
    if len(hands) and float(np.min(np.linalg.norm(hands - centre, axis=1))) < HAND_REACH * shoulders:
        return True
    for elbow, wrist in ((13, 15), (14, 16)):
        if seen[elbow] and seen[wrist] and _segment_distance(
                centre, points[elbow, :2] * scale, points[wrist, :2] * scale) < FOREARM_REACH * shoulders:
            return True
    return False


__all__ = ["FOREARM_REACH", "HAND_REACH", "HAND_SIZE", "JUMP", "JUMP_FLOOR", "SAME_BODY", "box_side", "on_arm",
           "same_body", "side_too_small", "too_small"]
