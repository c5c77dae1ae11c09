"""What poses one tracked person frame after frame: two interchangeable followers for `poseact.people.tracker`.

- `TasksFollower` (the default and `--exact`): a VIDEO-mode MediaPipe `PoseLandmarker` on a fixed crop
  around the person, which finds them in the crop itself and then tracks them.
- `RoiFollower` (`--follower roi`): our own run of the landmark model (`poseact.pose.landmark_runner`) on a
  rotated region that follows the person's last landmarks inside that crop, started (and restarted when
  lost) from BlazePose's detector on the crop (`poseact.pose.detector`), as MediaPipe's landmarker does.

Either can hold a person's last pose while their crop is still (`StillHold`, `--hold-still`).

Both return (33, 5) landmarks normalised to the whole frame (x, y, z scaled like x, visibility, presence).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from poseact.pose.detector import PoseDetector
from poseact.pose.landmark_runner import LandmarkModel, PoseTracker, Roi, roi_from_body


def masked_crop(rgb: np.ndarray, crop: tuple[int, int, int, int], hidden: list[np.ndarray]) -> np.ndarray:
    """The crop (x0, y0, x1, y1) of a frame with the `hidden` frame-pixel boxes filled with its median colour."""
    x0, y0, x1, y1 = crop
    part = rgb[y0:y1, x0:x1]
    if not hidden:
        return np.ascontiguousarray(part)
    part = part.copy()
    fill = np.median(part.reshape(-1, 3), axis=0).astype(part.dtype)
    for fx0, fy0, fx1, fy1 in hidden:
        part[max(0, int(fy0) - y0):max(0, int(fy1) - y0), max(0, int(fx0) - x0):max(0, int(fx1) - x0)] = fill
    return part


def to_frame(points: np.ndarray, region: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Landmarks normalised to a region -> normalised to the whole frame (z scales like x)."""
    x0, y0, x1, y1 = region
    out = points.copy()
    out[:, 0] = (points[:, 0] * (x1 - x0) + x0) / width
    out[:, 1] = (points[:, 1] * (y1 - y0) + y0) / height
    out[:, 2] = points[:, 2] * (x1 - x0) / width
    return out


class StillHold:
    """Remembers a person's last pose with a thumbnail of their crop, and gives it back while the crop has
    not changed (`changed`), for at most `MAX_HOLD_S`.

    Args:
        enabled: False never holds (every frame is posed).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last: tuple[np.ndarray, tuple[int, int, int, int], float, np.ndarray] | None = None
        self._thumb: np.ndarray | None = None
        self.held = 0  # frames answered with the last pose

    def get(self, rgb: np.ndarray, ts_ms: float, crop: tuple[int, int, int, int]) -> np.ndarray | None:
        """The held pose when this frame's crop is still, else None (then pose it and call `put`)."""
        self._thumb = thumbnail(rgb, crop) if self.enabled else None
        if self._thumb is None or self._last is None:
            return None
        last_thumb, last_crop, last_ms, last_out = self._last
        if last_crop != tuple(crop) or ts_ms - last_ms > 1000 * MAX_HOLD_S or changed(self._thumb, last_thumb):
            return None
        self.held += 1
        return last_out.copy()

    def put(self, ts_ms: float, crop: tuple[int, int, int, int], pose: np.ndarray | None) -> None:
        """Remember the pose just found in this frame (None forgets: nothing to hold)."""
        remember = pose is not None and self._thumb is not None
        self._last = (self._thumb, tuple(crop), float(ts_ms), pose.copy()) if remember else None

    def forget(self) -> None:
        """Nothing to hold (a new or restarted track)."""
        self._last = None


class _Follower:
    """What both followers share: the still-crop hold and the part of the frame they look at (the crop)."""

    def __init__(self, hold_still: bool) -> None:
        self._hold = StillHold(hold_still)

    @property
    def held(self) -> int:
        """Frames answered with the last pose (crop unchanged)."""
        return self._hold.held

    def region(self, crop: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
        """The part of the frame this follower looks at: the track's crop."""
        return tuple(float(v) for v in crop)

    def shift(self, dx: float, dy: float, start: Roi | None = None) -> None:
        """The camera moved the picture by (dx, dy) pixels and the track's crop moved with it (`start`: the finder's
        region, moved too). A pose held for a still crop no longer applies; a landmarker on the crop sees its person
        where it did."""
        self._hold.forget()


class TasksFollower(_Follower):
    """A MediaPipe VIDEO-mode landmarker (num_poses 1) on the track's crop.

    Args:
        make: Makes a fresh VIDEO-mode landmarker.
        hold_still: Reuse the last pose while the person's crop has not changed (see CHANGE_LEVEL).
    """

    def __init__(self, make: Callable[[], object], hold_still: bool = False) -> None:
        super().__init__(hold_still)
        self._make = make
        self._landmarker = make()

    @property
    def lost(self) -> bool:
        """Never: the landmarker re-runs its own detector on the crop when it loses the person."""
        return False

    def start(self, rgb: np.ndarray, points: np.ndarray, crop: tuple[int, int, int, int],
              roi: Roi | None = None) -> None:
        """Nothing to do: the landmarker finds the person in its crop."""

    def step(self, rgb: np.ndarray, ts_ms: int, crop: tuple[int, int, int, int],
             hidden: list[np.ndarray]) -> np.ndarray | None:
        """Landmarks of the person in this frame, or None."""
        import mediapipe as mp  # noqa: PLC0415

        held = self._hold.get(rgb, ts_ms, crop)
        if held is not None:
            return held
        height, width = rgb.shape[:2]
        part = masked_crop(rgb, crop, hidden)
        result = self._landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=part), ts_ms)
        points = None
        if result.pose_landmarks:
            points = to_frame(np.array([[p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0]
                                        for p in result.pose_landmarks[0]], np.float32), crop, width, height)
        self._hold.put(ts_ms, crop, points)
        return points

    def reset(self) -> None:
        """Forget the person (the landmarker jumped to someone else): a fresh landmarker."""
        self._hold.forget()
        self._landmarker.close()
        self._landmarker = self._make()

    def close(self) -> None:
        """Release the landmarker."""
        self._landmarker.close()


# Still crops. A pixel of the grey thumbnail (THUMB_PX square) of a person's crop has changed when it moved by
# more than CHANGE_LEVEL of 255 since the last posed frame; with fewer than CHANGED_PIXELS such pixels the
# person is held (the last pose is reused, the model does not run), for at most MAX_HOLD_S. Why these: a
# thumbnail pixel averages about 4 x 4 pixels of a seated student's 150-250 px crop, so sensor and
# compression noise (a few levels per pixel) averages under 2 levels, while a pen hand moving by 3 px
# (3% of a shoulder width) against paper changes several thumbnail pixels by tens of levels
# (tests/test_followers.py). Comparing with the last *posed* frame, not the previous one, makes slow
# drifts add up until they count.
THUMB_PX = 48
CHANGE_LEVEL = 12
CHANGED_PIXELS = 3
MAX_HOLD_S = 2.0


def thumbnail(rgb: np.ndarray, crop: tuple[int, int, int, int]) -> np.ndarray:
    """Grey THUMB_PX x THUMB_PX thumbnail (int16) of a crop of a frame, pixels averaged (area)."""
    import cv2  # noqa: PLC0415

    x0, y0, x1, y1 = crop
    part = rgb[y0:y1:2, x0:x1:2]  # every other pixel: the area average below is over 2-4 of them anyway
    grey = cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA).astype(np.int16)


def changed(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two thumbnails of a crop differ by motion rather than noise (see CHANGE_LEVEL)."""
    return int(np.count_nonzero(np.abs(a - b) > CHANGE_LEVEL)) >= CHANGED_PIXELS


class RoiFollower(_Follower):
    """Our own landmark runner on a crop that follows the person (`poseact.pose.landmark_runner.PoseTracker`).

    Args:
        model: The chunk's shared landmark model.
        reference_fps: The sampling rate (the visibility filter's reference, see `PoseTracker`).
        min_presence: Least pose flag to keep following.
        hold_still: Reuse the last pose while the person's crop has not changed (see CHANGE_LEVEL).
    """

    def __init__(self, model: LandmarkModel, reference_fps: float, min_presence: float = 0.5,
                 hold_still: bool = True, detector: PoseDetector | None = None) -> None:
        super().__init__(hold_still)
        self._tracker = PoseTracker(model, reference_fps, min_presence)
        self._start: Roi | None = None  # the classroom finder's region for this person, when it found them
        self._detector = detector

    @property
    def lost(self) -> bool:
        """Whether the person was lost (the next detection pass restarts the follower)."""
        return self._tracker.roi is None

    @property
    def roi(self) -> Roi | None:
        """Where the next frame's crop is taken."""
        return self._tracker.roi

    def start(self, rgb: np.ndarray, points: np.ndarray, crop: tuple[int, int, int, int],
              roi: Roi | None = None) -> None:
        """Start following a person inside `crop`. From `roi` when given: where the classroom finder's box put
        the person (`poseact.people.tracker.rois_from_person_box`), which also restarts the person when lost,
        since the pose detector, which looks for faces, does not find a student seen from behind or bent over a
        book, and in a crowded crop would rather take a neighbour's face. Else as MediaPipe's landmarker given
        that crop would: from its detector's best detection there (`poseact.pose.detector`); without a detector
        or a detection, from the detection pass's landmarks (33, 5, frame-normalised) `points`."""
        height, width = rgb.shape[:2]
        self._hold.forget()
        self._start = roi
        if roi is not None:
            self._tracker.start(rgb, roi, crop)
        elif not self._redetect(rgb, crop):
            self._tracker.start(rgb, roi_from_body(points, width, height), crop)

    def _redetect(self, rgb: np.ndarray, crop: tuple[int, int, int, int]) -> bool:
        """Restart tracking at the finder's region when there is one, else at the detector's best detection in the
        crop; False when it finds nobody."""
        if self._start is not None:
            self._tracker.begin(self._start)
            return True
        found = self._detector.detect(rgb, crop) if self._detector is not None else []
        if not found:
            return False
        self._tracker.begin(max(found, key=lambda d: d.score).roi())
        return True

    def step(self, rgb: np.ndarray, ts_ms: int, crop: tuple[int, int, int, int],
             hidden: list[np.ndarray]) -> np.ndarray | None:
        """Landmarks of the person in this frame, or None (lost: `lost` is then True)."""
        height, width = rgb.shape[:2]
        held = self._hold.get(rgb, ts_ms, crop) if not self.lost else None
        if held is not None:
            return held
        points = self._tracker.step(rgb, float(ts_ms), hidden, crop)
        if points is None and self._redetect(rgb, crop):
            # As MediaPipe's landmarker does when its tracking confidence drops: look for the person in the
            # crop again with the detector (10 ms) and pose the same frame from there, rather than wait for
            # the next detection pass over the whole frame (a second or more).
            points = self._tracker.step(rgb, float(ts_ms), hidden, crop)
        out = None
        if points is not None:
            out = points.astype(np.float32)
            out[:, 0] /= width
            out[:, 1] /= height
            out[:, 2] /= width
        self._hold.put(ts_ms, crop, out)
        return out

    def shift(self, dx: float, dy: float, start: Roi | None = None) -> None:
        """The camera moved the picture by (dx, dy) pixels: the next frame's region moves with it, and a lost person
        restarts at the finder's moved region `start`."""
        super().shift(dx, dy, start)
        if self._tracker.roi is not None:
            self._tracker.roi = dataclasses.replace(self._tracker.roi, cx=self._tracker.roi.cx + dx,
                                                    cy=self._tracker.roi.cy + dy)
        if self._start is not None:
            self._start = start

    def reset(self) -> None:
        """Forget the person (the crop jumped to someone else); the next detection pass restarts it."""
        self._tracker.roi = None
        self._hold.forget()

    def close(self) -> None:
        """Nothing to release: the model belongs to the chunk."""
