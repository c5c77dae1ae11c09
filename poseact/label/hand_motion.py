"""How much a person's hands move in the image: the writing cue of the rules (`poseact.label.rules`, version 3).

Why pixels and not landmarks: a writing hand moves a few hundredths of a shoulder width per stroke, and
MediaPipe's wrist landmark jitters by as much on a still hand (0.03-0.06 sw on the demo lecture's
puppets, 0.005-0.02 on real clips), so a stroke score from landmarks mistook reading for writing and back
(rules v2: 0.77 / 0.76 of the demo lecture's reading / writing windows). The pixels around a still hand do
not change; around a writing hand they do. Measured on the demo lecture (the same landmarks, script
times): the share of changed pixels around the hands, less the body's, was 0.003-0.024 (median per
student) while reading and 0.23-0.35 while writing.

Per sampled frame and person (`frame_motion`):
- each wrist low in front of the body (at least `LOW_HAND_BELOW` sw below the shoulder line, within
  `LOW_HAND_SIDE` sw of the body's centre line: the place of a hand on a desk; a raised or waving hand is
  the raise rule's business) gets a square patch of side 2 x `PATCH_SW` shoulder widths around it: a hand
  and the paper under it. Seen or not: what counts is where the model puts the wrist, and the pixels say
  whether anything moves there. A fist holding a pen got wrist visibilities of 0.2-0.4 on the demo
  lecture while writing (with the wrists gated on visibility, 0.71 of the test lecture's scripted writing
  was read right instead of 0.92); a
  hand hidden under the desk leaves a patch of still desk;
- the patch's share of pixels whose grey level changed by more than `NOISE_LEVEL` since the previous
  sampled frame;
- minus the body's own motion: the same share in a patch around the shoulder midpoint (the neck) and in
  one `CHEST_BELOW` sw below it (the chest), whichever changed less. The camera shaking, the light
  flickering or the whole body swaying changes those pixels too, and is no writing. The lesser of two:
  a nodding head moves the neck patch alone (on the bench lecture a back-row astronaut's shiny helmet ring
  changed 0.04-0.12 of it a frame, as much as her writing hand, and her writing read as reading: 0.58 of
  the scripted writing, 0.72 with the chest beside it), and hands in front of the chest move the chest
  patch alone;
- the largest of the wrists, at least 0; NaN when no wrist is low in front, or the shoulders are not seen
  (visibility under 0.5).

The landmarks used may be a few frames old (`PeopleConfig.pose_every`): a hand on a desk stays within its
patch between poses, and the pixels are always this frame's. That is what lets a fast path pose less
often and still see every stroke.
"""

from __future__ import annotations

import numpy as np

from poseact.pose.landmarks import PoseLandmark

# Grey levels (of 255) a pixel must change by to count: above compression noise (with 8, the demo
# lecture's still reading hands changed 0.3-2.4% of their patches beyond the body's, medians per student),
# well below the contrast of a hand's edge against paper or a desk (tens of levels).
NOISE_LEVEL = 8
PATCH_SW = 0.3  # half the patch side: a hand is about 0.4 sw long, so the patch holds it and some paper
LOW_HAND_BELOW = 0.2  # sw below the shoulder line (as the rules' stroke test)
LOW_HAND_SIDE = 1.2  # sw from the body's centre line
MIN_VISIBILITY = 0.5
CHEST_BELOW = 0.45  # sw below the shoulder midpoint: the chest, above the hands on a desk (about 1 sw below)
_WRISTS = (int(PoseLandmark.LEFT_WRIST), int(PoseLandmark.RIGHT_WRIST))
_SHOULDERS = (int(PoseLandmark.LEFT_SHOULDER), int(PoseLandmark.RIGHT_SHOULDER))


def grey(rgb: np.ndarray) -> np.ndarray:
    """The frame in grey levels (uint8), as `frame_motion` compares frames."""
    import cv2  # noqa: PLC0415

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def changed_share(previous: np.ndarray, current: np.ndarray, centre: np.ndarray, half: float) -> float:
    """Share of the pixels of a square patch (`centre` x, y in pixels, half side `half`) whose grey level
    changed by more than `NOISE_LEVEL` between two frames; NaN when the patch lies outside the frame."""
    height, width = current.shape[:2]
    x0, y0 = max(0, int(round(centre[0] - half))), max(0, int(round(centre[1] - half)))
    x1, y1 = min(width, int(round(centre[0] + half)) + 1), min(height, int(round(centre[1] + half)) + 1)
    if x1 <= x0 or y1 <= y0:
        return float("nan")
    a = previous[y0:y1, x0:x1].astype(np.int16)
    b = current[y0:y1, x0:x1].astype(np.int16)
    return float(np.count_nonzero(np.abs(a - b) > NOISE_LEVEL)) / a.size


def frame_motion(previous: np.ndarray, current: np.ndarray, landmarks: np.ndarray) -> float:
    """Motion of one person's hands low in front between two grey frames (see the module doc).

    Args:
        previous: The previous sampled frame, grey (`grey`).
        current: This frame, grey, the same size.
        landmarks: (33, >=4) the person's landmarks: x, y normalised to the frame, z, visibility.

    Returns:
        Share of changed pixels in [0, 1], NaN when no hand is low in front or the shoulders are unknown.
    """
    height, width = current.shape[:2]
    points = np.asarray(landmarks, np.float64)
    if np.any(points[list(_SHOULDERS), 3] < MIN_VISIBILITY):
        return float("nan")
    xy = points[:, :2] * np.array([width, height], np.float64)
    left, right = xy[_SHOULDERS[0]], xy[_SHOULDERS[1]]
    shoulder_width = float(np.hypot(*(left - right)))
    if shoulder_width < 2.0:
        return float("nan")
    middle = (left + right) / 2.0
    half = max(2.0, PATCH_SW * shoulder_width)
    hands = []
    for wrist in _WRISTS:
        below = (xy[wrist, 1] - middle[1]) / shoulder_width
        aside = abs(xy[wrist, 0] - middle[0]) / shoulder_width
        if below >= LOW_HAND_BELOW and aside <= LOW_HAND_SIDE:
            hands.append(changed_share(previous, current, xy[wrist], half))
    hands = [h for h in hands if np.isfinite(h)]
    if not hands:
        return float("nan")
    chest = middle + np.array([0.0, CHEST_BELOW * shoulder_width])
    body = [v for v in (changed_share(previous, current, middle, half), changed_share(previous, current, chest, half))
            if np.isfinite(v)]
    return max(0.0, max(hands) - (min(body) if body else 0.0))


__all__ = ["CHEST_BELOW", "LOW_HAND_BELOW", "LOW_HAND_SIDE", "NOISE_LEVEL", "PATCH_SW", "changed_share", "frame_motion",
           "grey"]
