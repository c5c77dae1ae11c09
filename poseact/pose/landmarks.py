"""MediaPipe's 33 pose landmarks, the paper's upper-body subset and left/right pairs.

Array layouts used throughout poseact:
    T: frames, V: landmarks (33 raw, 24 model), C: channels.
    raw image landmarks: (T, 33, 5) as x, y, z, visibility, presence; x and y normalised to [0, 1]
        by image width and height, z on the scale of x (MediaPipe's convention).
    world landmarks: (T, 33, 3) metres, origin between the hips.
    model input: (max_frames, 24, 3) as x, y, visibility after `poseact.data.normalize`.
"""

from __future__ import annotations

import enum


class PoseLandmark(enum.IntEnum):
    """The 33 BlazePose landmarks, numbered as MediaPipe numbers them."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


NUM_LANDMARKS = len(PoseLandmark)
RAW_CHANNELS = ("x", "y", "z", "visibility", "presence")
WORLD_CHANNELS = ("x", "y", "z")
# The paper keeps landmarks 1-24 (eyes to hips): upper-body actions, and legs are hidden under desks.
MODEL_LANDMARKS: tuple[int, ...] = tuple(range(1, 25))
MODEL_CHANNELS = ("x", "y", "visibility")


def _mirror(landmark: PoseLandmark) -> PoseLandmark:
    name = landmark.name
    if name.startswith("LEFT_"):
        return PoseLandmark["RIGHT_" + name[5:]]
    if name.startswith("RIGHT_"):
        return PoseLandmark["LEFT_" + name[6:]]
    if name.startswith("MOUTH_"):
        return PoseLandmark["MOUTH_" + ("RIGHT" if name.endswith("LEFT") else "LEFT")]
    return landmark


# MIRROR[i] is the landmark that i becomes in a left/right mirrored image.
MIRROR: tuple[int, ...] = tuple(int(_mirror(lm)) for lm in PoseLandmark)
