"""MediaPipe PoseLandmarker over a clip, keeping one subject per clip.

Subject rule (several people in view): at the first frame with any detection, the subject is the person
with the largest landmark bounding box (the nearest or most central student, usually); on later frames
it is the detected person whose shoulder midpoint is nearest to the subject's last known one. Sizes and
distances are measured in pixels (aspect-corrected), so wide and tall frames behave alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from poseact.pose.landmarks import NUM_LANDMARKS, PoseLandmark
from poseact.pose.upright import upside_down
from poseact.pose.video import Frame


@dataclasses.dataclass(frozen=True)
class PoseConfig:
    """Options of the landmarker.

    Attributes:
        num_poses: Most people detected per frame; the subject rule picks one of them.
        min_detection_confidence: Person detector threshold.
        min_presence_confidence: Landmark presence threshold.
        min_tracking_confidence: Below this, VIDEO mode re-runs the detector.
    """

    num_poses: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclasses.dataclass
class ClipPose:
    """Landmarks of the subject over the kept frames of one clip.

    Attributes:
        timestamps_ms: (T,) container times of the kept frames.
        landmarks: (T, 33, 5) image landmarks x, y, z, visibility, presence; zeros where undetected.
        world: (T, 33, 3) world landmarks in metres; zeros where undetected.
        detected: (T,) 1 where the subject was found.
        people: (T,) how many people the landmarker found.
        width: Frame width in pixels.
        height: Frame height in pixels.
    """

    timestamps_ms: np.ndarray
    landmarks: np.ndarray
    world: np.ndarray
    detected: np.ndarray
    people: np.ndarray
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        """T."""
        return int(self.timestamps_ms.shape[0])


def _as_array(landmarks) -> np.ndarray:
    return np.array(
        [[p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0] for p in landmarks], dtype=np.float32
    )


def _shoulder_mid(points: np.ndarray, aspect: float) -> np.ndarray:
    mid = 0.5 * (points[PoseLandmark.LEFT_SHOULDER, :2] + points[PoseLandmark.RIGHT_SHOULDER, :2])
    return mid * np.array([aspect, 1.0], dtype=np.float32)


def _box_area(points: np.ndarray, aspect: float) -> float:
    xy = points[:, :2] * np.array([aspect, 1.0], dtype=np.float32)
    span = xy.max(axis=0) - xy.min(axis=0)
    return float(span[0] * span[1])


def choose_subject(people: list[np.ndarray], previous_mid: np.ndarray | None, aspect: float) -> int:
    """Index of the subject among the people of one frame (see the module's rule)."""
    if previous_mid is None:
        return int(np.argmax([_box_area(p, aspect) for p in people]))
    return int(np.argmin([np.linalg.norm(_shoulder_mid(p, aspect) - previous_mid) for p in people]))


class PoseLandmarkerModel:
    """Holds one model bundle in memory and makes VIDEO-mode landmarkers from it.

    A fresh landmarker per clip costs about 0.15 s but resets MediaPipe's tracking state, so a clip's
    landmarks never depend on which clip the same worker processed before: re-runs give identical
    bytes whatever the bundling. The bundle is read once per worker (in `DoFn.setup()`).
    """

    def __init__(self, model_path: str, config: PoseConfig = PoseConfig()) -> None:
        with open(model_path, "rb") as handle:
            self._buffer = handle.read()
        self.config = config

    def landmarker(self):
        """A new PoseLandmarker in VIDEO mode (a context manager)."""
        from mediapipe.tasks.python import vision  # noqa: PLC0415
        from mediapipe.tasks.python.core import base_options  # noqa: PLC0415

        options = vision.PoseLandmarkerOptions(
            base_options=base_options.BaseOptions(model_asset_buffer=self._buffer),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=self.config.num_poses,
            min_pose_detection_confidence=self.config.min_detection_confidence,
            min_pose_presence_confidence=self.config.min_presence_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )
        return vision.PoseLandmarker.create_from_options(options)

    def track_clip(self, frames: Iterable[Frame]) -> ClipPose:
        """Run the landmarker over the frames of one clip and keep the subject.

        Args:
            frames: Frames with strictly increasing timestamps.

        Returns:
            The subject's landmarks; T may be 0 when no frame was decodable.
        """
        import mediapipe as mp  # noqa: PLC0415

        times, image_lm, world_lm, found, counts = [], [], [], [], []
        width = height = 0
        previous_mid = None
        with self.landmarker() as landmarker:
            last_ms = -1
            for frame in frames:
                height, width = frame.rgb.shape[:2]
                aspect = width / height
                # MediaPipe wants integer milliseconds, strictly increasing.
                ts = max(int(round(frame.timestamp_ms)), last_ms + 1)
                last_ms = ts
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.rgb))
                result = landmarker.detect_for_video(image, ts)
                # A pose standing on its head is the model's guess on an object or a palm, not a person
                # (`poseact.pose.upright.upside_down`; the real torso clip: 88 of 98 poses, the face on the palm).
                poses = [_as_array(p) for p in result.pose_landmarks]
                kept = [i for i, p in enumerate(poses) if not upside_down(p, width, height)]
                people = [poses[i] for i in kept]
                times.append(frame.timestamp_ms)
                counts.append(len(people))
                if not people:
                    image_lm.append(np.zeros((NUM_LANDMARKS, 5), np.float32))
                    world_lm.append(np.zeros((NUM_LANDMARKS, 3), np.float32))
                    found.append(0)
                    continue
                k = choose_subject(people, previous_mid, aspect)
                previous_mid = _shoulder_mid(people[k], aspect)
                image_lm.append(people[k])
                world_lm.append(_as_array(result.pose_world_landmarks[kept[k]])[:, :3])
                found.append(1)
        count = len(times)
        return ClipPose(
            timestamps_ms=np.asarray(times, np.float64),
            landmarks=np.asarray(image_lm, np.float32).reshape(count, NUM_LANDMARKS, 5),
            world=np.asarray(world_lm, np.float32).reshape(count, NUM_LANDMARKS, 3),
            detected=np.asarray(found, np.int64),
            people=np.asarray(counts, np.int64),
            width=width,
            height=height,
        )
