"""A pose-rule model of classroom actions that needs no training data: `poseact label --model rules`.

Classes: `hand_raise`, `writing`, `reading`, `other`. It reads the same window inputs a trained model reads
(`poseact.data.normalize`: landmarks 1-24, each frame centred on its shoulder midpoint, lengths in shoulder
widths of the window, y pointing down, visibility 0 in frames where the person was not found), so it runs
in the label pipeline's `RunInference` step like any model. Below, heights are in shoulder widths (sw)
above the shoulder line, so every rule is relative to the person's own body and size.

Two stages, because "head down" only means something against the person's own upright head:
1. `window_features` (per window, in `RunInference`): the hand-raise score, the head's height and pitch,
   and the writing-stroke score of each window.
2. `person_scores` (per person, once all their windows are in): the person's upright baseline from their
   own windows, then class scores per window.

Rules (thresholds are ramps `lo -> hi`, scoring 0 below `lo` and 1 above `hi`; why each value, below):
- **Votes.** A landmark votes only with visibility >= `MIN_VISIBILITY` (0.5: MediaPipe's own presence
  threshold). The head votes only when it is plausible: an eye visible, eyes at least `MIN_EYE_HEIGHT`
  (0.15 sw) above the shoulder line. With the head out of frame MediaPipe still invents a face, often
  *below* the shoulders with visibility near 1 (seen on the real `torso_no_head` clip); that head must not
  anchor a raise. For the same reason the head's height and pitch vote in a window only when a plausible
  head is seen in at least half of its frames (`MIN_HEAD_FRACTION`). Missing landmarks give no vote:
  never a raise, never a head-down.
- **hand_raise**, per frame and arm, the highest of:
  - *above the eyes*: wrist height minus eye height, ramp -0.15 -> 0.05 sw (a wrist at the eye line or
    higher is a raised hand in any culture of hand raising; 0.15 sw is about a third of the eye-to-mouth
    height, MediaPipe's wrist jitter on real clips is < 0.05 sw);
  - *elbow up*: elbow height ramp -0.15 -> 0.0 sw (elbow at shoulder height) times the forearm pointing up,
    wrist above elbow ramp 0.2 -> 0.45 sw (a forearm is about 0.75 sw long, so 0.45 sw is about 35 degrees
    from vertical). No head needed: works with the face hidden;
  - *low raise* (a seated student who lifts a hand to face level, like the real seated clip, where the wrist
    reached only 0.1 sw above the shoulders and the index finger the mouth line): wrist height ramp
    -0.25 -> 0.0 sw, forearm up ramp 0.4 -> 0.7 sw, and the wrist beside the face, not in front of it:
    horizontal distance from the face centre beyond the face's half width (half the ear span), ramp
    0.0 -> 0.15 sw. Weighted `LOW_RAISE_WEIGHT` (0.8): a weaker sign than a hand above the head. A hand
    at the chin or mouth (wrist in front of the face, below the eyes) scores 0 on all three.
  A raise must be held: the window's score is the best mean of the frame scores over `HOLD_S` (0.4 s) in a
  row. A hand passing the face for a moment (waving, scratching) is shorter than that.
  *A hand touching the head is no raise* (v4): the eye-level, elbow and low rules need the wrist clear of the ears,
  ramp `OFF_HEAD` 0.3 -> 0.45 sw from the nearer one (a hand at the ear, a phone, a head resting on a hand keep the
  wrist within a hand's length, about 0.35 sw; the real seated raise kept it 0.51-0.95 sw away, the demo's raised
  puppet hands 0.68). Made poses of a hand at the ear read 0.00 (v3: 0.55-0.59). Not yet told apart: a hand lying on
  the crown (made pose: 0.86) from a raised hand whose fingers MediaPipe misplaces (the demo puppets' raised wrists
  sit 0.47 sw above the eyes, about where a hand on the crown does, with the fingers pointing across).
  *In a class, no low raise* (v5): where the chunk was found and followed as a class (`crowd`, the classroom finder's
  path: 20-60 students, heads 20-60 px), only the hand at or above the eyes and the raised elbow count. A low raise
  is a hand lifted to face level beside the face, the same shape as a chin or cheek resting on a hand; near a webcam
  (the real seated clip) the landmarks are sharp enough to trust it, but in a crowd the landmark model guesses arms
  it cannot see, onto a neighbour's shoulder or head, and at 20-60 px heads its 0.15 sw margins are 3-9 px. On the
  60 real `classroom_cctv` frames, where nobody raises a hand (all 60 raises read there were looked at), 23 of them
  came from the low raise alone.
  *A face taller than the shoulders are wide gives no vote* (v6): heights are in shoulder widths, and where the
  landmark model collapses a pose onto a line in a crowd's clutter (its shoulders 2-4 px apart, the arms stacked
  above them), every height is huge and the stacked arms read as raised. A frame whose eye-to-mouth height exceeds
  `FACE_MAX` (1.0 sw) gives no raise vote. Why 1.0: a frontal face is 0.17-0.25 sw from eyes to mouth on every
  frame of 21 real clips and at most 0.37 on the demo puppets; turned side-on the shoulder line shortens, and the
  real arm wrestlers' profiles stayed under 0.77 on 95% of frames. On the 60 real classroom frames, where nobody
  raises a hand, it removed 8 of the 37 raises read (all 8 on collapsed poses; on labelled students 18 -> 16), and
  left every real clip's labels as they were.
- **Head down** (for writing and reading), against the person's baseline (`person_scores`):
  - the eyes drop towards the shoulders: baseline eye height minus the window's, ramp 0.08 -> 0.20 sw;
  - the face pitches: eye-over-ear height (eyes sink below the ears when the head bends forward) below its
    baseline, ramp 0.05 -> 0.12 sw.
  The head-down score is their noisy OR, 1 - (1 - a)(1 - b): either is evidence of a bent head (the eyes
  sink when the neck bends, the face pitches when the head nods; a camera far above, or a drawn puppet,
  may show only one of them).
  Why these: with the eyes about 0.7 sw above the shoulder line and 0.3 sw in front of the neck, a 20
  degree nod lowers them by about 0.14 sw and moves them 0.1 sw against the ears; a reading posture (30-45
  degrees) about twice that. On 21 real clips of upright people the 1 s medians varied by less than 0.1 sw.
  The baseline is the 85th percentile of the person's window medians, leaving out windows with a raise
  (a raised arm lifts its shoulder, which lowers the eyes against the shoulder line), so a person must sit
  up for about 15% of their time for it to be theirs (listening to the teacher), pulled towards the frontal-camera
  prior (`PRIOR_EYE_HEIGHT`, `PRIOR_PITCH`: medians of 21 real upright clips, 0.68 and 0.07 sw) when the person has
  few windows (weight n / (n + 6)).
- **writing** = head down and a hand low in front that moves: the share of changed pixels around each
  wrist low in front (at least 0.2 sw below the shoulder line, within 1.2 sw of the body's centre line),
  less that of the person's neck or chest, whichever moved less (`poseact.label.hand_motion`), averaged over the
  window, ramp 0.02 -> 0.06 above the person's own still hands (the 25th percentile of their windows, pulled towards
  `PRIOR_STILL_MOTION` when they have few). Why these: a still hand changes 0-2% of its patch (compression
  noise; medians of 0.003-0.024 per student on the demo lecture while reading), and a hand 0.4 sw long
  moving 0.02 sw a frame changes about its perimeter times that, about 7% of a patch 0.6 sw wide; the demo
  lecture's writing puppets changed 23-35% (medians per student). Not sweeping: a wrist or index finger
  whose position about its own 1/3 s moving average has an RMS above 0.08 -> 0.15 sw (gestures, reaching) is no writing.
  Rules v2 scored landmark strokes instead (the RMS above, 0.006 -> 0.02 sw above the person's still
  hands): MediaPipe's wrist jitters as much as a stroke moves (0.03-0.06 sw on the demo lecture's still
  puppet hands), and v2 read 0.77 / 0.76 of the lecture's reading / writing windows right; with the
  pixels, 0.89 / 0.94 (the same landmarks). Inputs without pixels (hand motion NaN throughout, e.g. a
  window built from landmarks alone) still get v2's stroke score.
  Writing and reading are sustained activities (seconds to minutes) while a 1 s window's evidence is
  noisy, so a window's writing score is the mean over the person's windows that start within
  `STROKE_SPAN_S`/2 (1 s) of it and see a hand low in front: five windows at the card's 0.5 s stride. The
  raise and the head are not averaged: a 1 s raise must stay a raise, and a head coming up ends the
  activity at once.
- **reading** = head down and no strokes (hands still, holding something, or out of view).
- **other** = the rest: head up and no raise.
Scores sum to 1: raise R, writing (1-R)·D·S, reading (1-R)·D·(1-S), other (1-R)·(1-D).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

# A hand low in front (on a desk) is one place, for the landmark strokes here and the pixels there.
from poseact.label.hand_motion import LOW_HAND_BELOW as _LOW_HAND_BELOW
from poseact.label.hand_motion import LOW_HAND_SIDE as _LOW_HAND_SIDE
from poseact.pose.landmarks import MODEL_LANDMARKS, PoseLandmark

# 2: the stroke score is averaged over the surrounding 2 s (STROKE_SPAN_S); 3: hands' pixels; 4: a hand touching the
# head (at the ear, under the cheek) is no raise; 5: no low raise in a class; 6: no raise vote from a frame whose face
# is taller than its shoulders are wide
VERSION = "6"
NAME = "rules"
MODEL_ID = f"{NAME}@{VERSION}"
CLASSES: tuple[str, ...] = ("hand_raise", "writing", "reading", "other")
FEATURES: tuple[str, ...] = ("raise", "eye_height", "pitch", "stroke_rms", "head_frames", "hand_motion")
"""Per-window features `window_features` returns, in this order (NaN where nothing voted)."""

FPS = 15.0
WINDOW_S = 1.0
STRIDE_S = 0.5
SMOOTH = 1  # the hold inside each window already smooths; averaging windows would smear a 1 s raise
MIN_VISIBILITY = 0.5
MIN_EYE_HEIGHT = 0.15
HOLD_S = 0.4
MIN_HEAD_FRACTION = 0.5
LOW_RAISE_WEIGHT = 0.8
# A hand touching the head (a phone or a hand at the ear, the temple, the cheek) holds the wrist within a hand's length
# (about 0.35 sw) of the ear; the real seated raise kept it 0.51-0.95 sw from the nearer ear while up. Ramp (sw):
OFF_HEAD = (0.3, 0.45)
# Eye-to-mouth height (sw) beyond any real body's: frontal faces 0.17-0.25 on real clips (0.37 on the demo puppets),
# side-on profiles under 0.77 on 95% of frames (the real arm wrestlers).
FACE_MAX = 1.0
PRIOR_EYE_HEIGHT = 0.68
PRIOR_PITCH = 0.07
PRIOR_WEIGHT_WINDOWS = 6.0
BASELINE_QUANTILE = 0.85
PRIOR_STILL_RMS = 0.01  # sw: MediaPipe's jitter on still real hands (5-15 thousandths of a shoulder width)
PRIOR_STILL_MOTION = 0.005  # share of a still hand's patch that changes (compression noise)
MOTION_RAMP = (0.02, 0.06)
SWEEP_RAMP = (0.08, 0.15)  # sw of landmark RMS: a sweeping hand (gesture, reaching) is no writing, in v2 and v3
MIN_MOTION_FRACTION = 1.0 / 3.0  # a window's hand motion counts when measured in a third of its frames
_STROKE_SMOOTH_S = 1.0 / 3.0
STROKE_SPAN_S = 2.0

# Positions of landmarks in the model input (landmarks 1-24, so index = landmark - 1).
_AT = {landmark: MODEL_LANDMARKS.index(int(landmark)) for landmark in PoseLandmark if int(landmark) in MODEL_LANDMARKS}
_EYES = (_AT[PoseLandmark.LEFT_EYE], _AT[PoseLandmark.RIGHT_EYE])
_EARS = (_AT[PoseLandmark.LEFT_EAR], _AT[PoseLandmark.RIGHT_EAR])
_MOUTH = (_AT[PoseLandmark.MOUTH_LEFT], _AT[PoseLandmark.MOUTH_RIGHT])
_ARMS = (
    (_AT[PoseLandmark.LEFT_ELBOW], _AT[PoseLandmark.LEFT_WRIST], _AT[PoseLandmark.LEFT_INDEX]),
    (_AT[PoseLandmark.RIGHT_ELBOW], _AT[PoseLandmark.RIGHT_WRIST], _AT[PoseLandmark.RIGHT_INDEX]),
)


def card() -> dict[str, Any]:
    """What the label pipeline needs to know about the rules, in the shape of a trained model's card."""
    from poseact.data import schema  # noqa: PLC0415 (schema reads the committed pbtxt)
    from poseact.data.normalize import NORMALIZATION_VERSION  # noqa: PLC0415

    return {
        "model": NAME, "version": VERSION, "classes": list(CLASSES), "fps": FPS,
        "max_frames": int(round(FPS * WINDOW_S)), "stride_s": STRIDE_S, "smooth": SMOOTH,
        "landmark_indices": list(MODEL_LANDMARKS), "normalization_version": NORMALIZATION_VERSION,
        "schema_hash": schema.schema_hash(), "features": list(FEATURES),
    }


def ramp(value: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    """0 at or below `lo`, 1 at or above `hi`, linear between; NaN stays NaN."""
    return np.clip((np.asarray(value, np.float64) - lo) / (hi - lo), 0.0, 1.0)


def _visible(pose: np.ndarray, index: int) -> np.ndarray:
    return pose[:, index, 2] >= MIN_VISIBILITY


def _height(pose: np.ndarray, index: int) -> np.ndarray:
    """Height above the shoulder line (sw), NaN where the landmark does not vote."""
    return np.where(_visible(pose, index), -pose[:, index, 1], np.nan)


def _mean_visible(pose: np.ndarray, indices: Sequence[int], axis: int) -> np.ndarray:
    """Per frame: mean coordinate (`axis` 0: x, 1: y) over the visible ones of `indices`, NaN if none."""
    values = np.stack([np.where(_visible(pose, i), pose[:, i, axis], np.nan) for i in indices], axis=1)
    with _quiet():
        return np.nanmean(values, axis=1)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings: an all-NaN frame is a normal 'no vote'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def head(pose: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame: eye height, ear height, face centre x and half width; NaN where the head does not vote.

    Args:
        pose: (T, 24, 3) normalised window (x, y, visibility).
    """
    eye_h = -_mean_visible(pose, _EYES, 1)
    plausible = eye_h >= MIN_EYE_HEIGHT
    ear_h = -_mean_visible(pose, _EARS, 1)
    centre = _mean_visible(pose, _EYES + _EARS, 0)
    ears_seen = _visible(pose, _EARS[0]) & _visible(pose, _EARS[1])
    # Half the ear span, or a typical 0.2 sw when one ear is hidden (side view).
    half = np.where(ears_seen, 0.5 * np.abs(pose[:, _EARS[0], 0] - pose[:, _EARS[1], 0]), 0.2)
    nan = np.full(len(pose), np.nan)
    return {"eye_h": np.where(plausible, eye_h, nan), "ear_h": np.where(plausible, ear_h, nan),
            "centre_x": np.where(plausible, centre, nan), "half_width": np.where(plausible, half, nan)}


def hand_up(pose: np.ndarray, wrist: int, index: int, centre_x: np.ndarray) -> np.ndarray:
    """Per frame, whether the hand points up (fingers above the wrist), not at the head; NaN: no vote.

    The index finger must be at least 0.1 sw above the wrist and lean towards the face centre by less than
    about 27 degrees from vertical (rise >= 2 x lean; ramp over 0.1 sw). A hand brought to the forehead or
    the chin points at the head (seen at 40-45 degrees on real clips of signers touching their forehead);
    a raised hand points up (10-15 degrees on the real seated raise).
    """
    seen = _visible(pose, wrist) & _visible(pose, index)
    rise = pose[:, wrist, 1] - pose[:, index, 1]  # y points down
    towards = np.sign(centre_x - pose[:, wrist, 0])
    lean = np.maximum((pose[:, index, 0] - pose[:, wrist, 0]) * np.nan_to_num(towards, nan=1.0), 0.0)
    return np.where(seen, np.minimum(ramp(rise, 0.0, 0.1), ramp(rise - 2.0 * lean, 0.0, 0.1)), np.nan)


def ear_distance(pose: np.ndarray, wrist: int) -> np.ndarray:
    """Per frame, the wrist's distance (sw) from the nearer visible ear; NaN where the wrist or both ears are unseen."""
    out = np.full(len(pose), np.nan)
    for ear in _EARS:
        seen = _visible(pose, wrist) & _visible(pose, ear)
        gap = np.linalg.norm(pose[:, wrist, :2] - pose[:, ear, :2], axis=1)
        out = np.where(seen, np.fmin(out, gap), out)
    return out


def face_height(pose: np.ndarray) -> np.ndarray:
    """Per frame, the eye-to-mouth height (sw): the distance from the eyes' midpoint to the mouth's. Every face
    landmark counts whatever its visibility, as the landmark model places them on a face turned away too.

    Args:
        pose: (T, 24, 3) normalised window (x, y, visibility).
    """
    eyes = pose[:, list(_EYES), :2].mean(axis=1)
    mouth = pose[:, list(_MOUTH), :2].mean(axis=1)
    return np.linalg.norm(eyes - mouth, axis=1)


def raise_levels(pose: np.ndarray, crowd: bool = False) -> np.ndarray:
    """Per frame, how clearly a hand is raised, in [0, 1] (0 where nothing votes). See the module doc.

    Args:
        pose: (T, 24, 3) normalised window.
        crowd: The person is one of a class (the classroom finder's path): no low raise.

    Returns:
        (T,) scores.
    """
    face = head(pose)
    best = np.zeros(len(pose))
    for elbow, wrist, index in _ARMS:
        wrist_h, elbow_h = _height(pose, wrist), _height(pose, elbow)
        forearm_up = wrist_h - elbow_h
        over_eyes = wrist_h - face["eye_h"]
        beside = ramp(np.abs(np.where(_visible(pose, wrist), pose[:, wrist, 0], np.nan) - face["centre_x"])
                      - face["half_width"], 0.0, 0.15)
        pointing_up = hand_up(pose, wrist, index, face["centre_x"])
        above_head = ramp(over_eyes, 0.25, 0.45)
        ears = ear_distance(pose, wrist)
        off_head = np.where(np.isnan(ears), 1.0, ramp(ears, *OFF_HEAD))  # ears unseen: no vote against
        at_eyes = ramp(over_eyes, -0.15, 0.05) * beside * off_head
        elbow_up = ramp(elbow_h, -0.15, 0.0) * ramp(forearm_up, 0.2, 0.45) * off_head
        low = (np.zeros(len(pose)) if crowd
               else LOW_RAISE_WEIGHT * ramp(wrist_h, -0.25, 0.0) * ramp(forearm_up, 0.35, 0.6) * beside * off_head)
        guarded = np.nan_to_num(pointing_up, nan=0.0) * np.fmax(np.fmax(np.nan_to_num(at_eyes, nan=0.0),
                                                                          np.nan_to_num(elbow_up, nan=0.0)),
                                                                  np.nan_to_num(low, nan=0.0))
        best = np.fmax(best, np.fmax(np.nan_to_num(above_head, nan=0.0), guarded))
    best = np.where(face_height(pose) <= FACE_MAX, best, 0.0)  # shoulders too short to measure by: no vote
    # Bridge one-frame dips (a finger landmark jumping for a frame) before the hold: a closing (3-frame
    # max, then 3-frame min) fills a single low frame between high ones without lengthening a raise.
    return _slide(_slide(best, np.maximum), np.minimum)


def _slide(values: np.ndarray, pick) -> np.ndarray:
    padded = np.pad(values, 1, mode="edge")
    return pick(pick(padded[:-2], padded[1:-1]), padded[2:])


def held(levels: np.ndarray, frames: int) -> float:
    """Best mean of `levels` over `frames` consecutive frames (the whole window when shorter)."""
    if len(levels) == 0:
        return 0.0
    frames = max(1, min(frames, len(levels)))
    sums = np.convolve(levels, np.ones(frames), mode="valid")
    return float(sums.max() / frames)


def stroke_rms(pose: np.ndarray, fps: float = FPS) -> float:
    """How much a hand low in front moves in small quick strokes: the largest RMS (sw) of a wrist's or index
    finger's position about its own 1/3 s moving average; NaN when no hand is seen low in front.

    Args:
        pose: (T, 24, 3) normalised window.
        fps: Frame rate of the window.
    """
    span = max(3, int(round(_STROKE_SMOOTH_S * fps)) | 1)  # odd, centred moving average
    best = np.nan
    for _, wrist, index in _ARMS:
        for point in (wrist, index):
            seen = _visible(pose, point)
            xy = pose[:, point, :2]
            low = seen & (xy[:, 1] >= _LOW_HAND_BELOW) & (np.abs(xy[:, 0]) <= _LOW_HAND_SIDE)
            if low.sum() < span + 2:
                continue
            track = xy[low]
            kernel = np.ones(span) / span
            trend = np.stack([np.convolve(track[:, c], kernel, mode="valid") for c in (0, 1)], axis=1)
            half = span // 2
            residual = track[half:len(track) - half] - trend
            best = np.fmax(best, float(np.sqrt(np.mean(np.sum(residual ** 2, axis=1)))))
    return float(best)


def stroke_scores(rms: np.ndarray) -> np.ndarray:
    """Per window, small quick strokes against the person's own still hands, in [0, 1] (0 where no hand).

    MediaPipe's jitter on still hands depends on the person's size and the video (about 0.005-0.015 sw on
    real clips, more on small people), so strokes count above the person's stillest windows (the 25th
    percentile of their RMS, pulled towards `PRIOR_STILL_RMS` when they have few): ramp 0.006 -> 0.02 sw
    above it (strokes of a few % of the shoulder width). Large, sweeping motion (above 0.08 sw: gestures,
    reaching) is no writing.
    """
    rms = np.asarray(rms, np.float64)
    still = _baseline(rms, PRIOR_STILL_RMS, quantile=0.25)
    score = ramp(rms - still, 0.006, 0.02) * (1.0 - ramp(rms, *SWEEP_RAMP))
    return np.nan_to_num(score, nan=0.0)


def window_features(pose: np.ndarray, frame_mask: np.ndarray | None = None, fps: float = FPS,
                    hand_motion: np.ndarray | None = None, crowd: bool = False) -> np.ndarray:
    """The per-window features of `FEATURES` for one normalised window.

    Args:
        pose: (T, 24, 3) x, y, visibility from `poseact.data.normalize`.
        frame_mask: (T,) 1 for real frames; padding frames are dropped.
        fps: Frame rate of the window.
        hand_motion: (T,) the person's hand motion per frame (`poseact.label.hand_motion`), NaN where not
            measured; None: not known (landmarks alone).
        crowd: The person is one of a class (`raise_levels`).

    Returns:
        (len(FEATURES),) float64: raise score in [0, 1]; median eye height and eye-over-ear height (sw,
        NaN when the head never voted); stroke RMS (sw, NaN when no hand was low in front); frames with a
        head; mean hand motion (NaN when measured in under `MIN_MOTION_FRACTION` of the frames).
    """
    pose = np.asarray(pose, np.float64)
    motion = np.full(len(pose), np.nan) if hand_motion is None else np.asarray(hand_motion, np.float64)
    if motion.shape != (len(pose),):
        raise ValueError(f"hand_motion must be ({len(pose)},), got {motion.shape}")
    if frame_mask is not None:
        real = np.asarray(frame_mask) > 0
        pose, motion = pose[real], motion[real]
    if pose.ndim != 3 or pose.shape[1:] != (len(MODEL_LANDMARKS), 3):
        raise ValueError(f"pose must be (T, {len(MODEL_LANDMARKS)}, 3), got {pose.shape}")
    raised = held(raise_levels(pose, crowd), int(round(HOLD_S * fps)))
    face = head(pose)
    if np.isfinite(face["eye_h"]).sum() < MIN_HEAD_FRACTION * len(pose):
        # A head seen in a few frames only is more likely invented (head out of frame) than real.
        face = {k: np.full(len(pose), np.nan) for k in face}
    pitch = face["eye_h"] - face["ear_h"]
    with _quiet():
        eye = float(np.nanmedian(face["eye_h"])) if np.isfinite(face["eye_h"]).any() else np.nan
        tilt = float(np.nanmedian(pitch)) if np.isfinite(pitch).any() else np.nan
    measured = np.isfinite(motion)
    enough = len(pose) and measured.sum() >= MIN_MOTION_FRACTION * len(pose)
    moving = float(np.mean(motion[measured])) if enough else np.nan
    return np.array([raised, eye, tilt, stroke_rms(pose, fps), float(np.isfinite(face["eye_h"]).sum()), moving])


def batch_features(batch: np.ndarray, fps: float = FPS) -> np.ndarray:
    """`window_features` of a batch shaped like the label pipeline's model input.

    Args:
        batch: (N, T, 24, 4 to 6): x, y, visibility, the frame mask as a fourth channel and, when there are
            more, the hand motion per frame and the crowd flag (`poseact.label.lecture.model_input`; the same on
            every landmark).
        fps: Frame rate.

    Returns:
        (N, len(FEATURES)).
    """
    batch = np.asarray(batch, np.float64)
    return np.stack([window_features(w[..., :3], w[:, 0, 3], fps, w[:, 0, 4] if w.shape[-1] > 4 else None,
                                     bool(w.shape[-1] > 5 and w[0, 0, 5] > 0.5))
                     for w in batch]) if len(batch) else np.zeros((0, len(FEATURES)))


def _baseline(values: np.ndarray, prior: float, quantile: float | None = None) -> float:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return prior
    weight = len(finite) / (len(finite) + PRIOR_WEIGHT_WINDOWS)
    q = BASELINE_QUANTILE if quantile is None else quantile
    return weight * float(np.quantile(finite, q)) + (1.0 - weight) * prior


def head_down(features: np.ndarray) -> np.ndarray:
    """Per window, how far the head is bent down against the person's own upright baseline, in [0, 1].

    Args:
        features: (N, len(FEATURES)) of one person's windows.
    """
    eye, pitch = features[:, 1], features[:, 2]
    # A raised arm lifts its shoulder, and so lowers the eyes against the shoulder line: windows with a
    # raise say nothing about the upright head.
    calm = np.nan_to_num(features[:, 0], nan=0.0) < 0.5
    drop = ramp(_baseline(eye[calm], PRIOR_EYE_HEIGHT) - eye, 0.08, 0.20)
    nod = ramp(_baseline(pitch[calm], PRIOR_PITCH) - pitch, 0.05, 0.12)
    # Either cue is evidence of a bent head (a noisy OR): the eyes sink when the neck bends, the face
    # pitches when the head nods; a puppet or a camera far above may show only one of them.
    return 1.0 - (1.0 - np.nan_to_num(drop, nan=0.0)) * (1.0 - np.nan_to_num(nod, nan=0.0))


def motion_scores(motion: np.ndarray, rms: np.ndarray) -> np.ndarray:
    """Per window, a hand low in front that moves against the person's own still hands, in [0, 1] (0 where
    no hand was measured): mean hand motion ramp `MOTION_RAMP` above the person's stillest windows (25th
    percentile, pulled towards `PRIOR_STILL_MOTION` when they have few), and not sweeping (stroke RMS
    above `SWEEP_RAMP`). See the module doc for why.

    Args:
        motion: (N,) the windows' mean hand motion (`FEATURES` "hand_motion").
        rms: (N,) their stroke RMS (sw), NaN where no hand was seen low in front.
    """
    motion = np.asarray(motion, np.float64)
    still = _baseline(motion, PRIOR_STILL_MOTION, quantile=0.25)
    sweeping = np.nan_to_num(ramp(rms, *SWEEP_RAMP), nan=0.0)
    return np.nan_to_num(ramp(motion - still, *MOTION_RAMP), nan=0.0) * (1.0 - sweeping)


def smooth_strokes(scores: np.ndarray, seen: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each window's stroke score averaged over the windows starting within `STROKE_SPAN_S`/2 of it where a
    hand was seen low in front (`seen`); 0 where there is none.

    Args:
        scores: (N,) per-window stroke scores (`stroke_scores`).
        seen: (N,) whether each window saw a hand low in front.
        starts: (N,) window start times in seconds.
    """
    starts = np.asarray(starts, np.float64)
    order = np.argsort(starts, kind="stable")
    times = starts[order]
    # Sums over each window's neighbourhood from running sums: a 90-minute lecture has 10,800 windows.
    totals = np.concatenate([[0.0], np.cumsum(np.where(seen, scores, 0.0)[order])])
    counts = np.concatenate([[0], np.cumsum(np.asarray(seen, bool)[order])])
    half = STROKE_SPAN_S / 2 + 1e-6
    lo, hi = np.searchsorted(times, times - half, "left"), np.searchsorted(times, times + half, "right")
    n = counts[hi] - counts[lo]
    out = np.zeros(len(starts))
    out[order] = np.where(n > 0, (totals[hi] - totals[lo]) / np.maximum(n, 1), 0.0)
    return out


def person_scores(features: Sequence[Sequence[float]], starts: Sequence[float] | None = None) -> np.ndarray:
    """Class scores of one person's windows, in `CLASSES` order; each row sums to 1.

    Args:
        features: (N, len(FEATURES)) from `window_features`, all windows of one person (any order).
        starts: (N,) the windows' start times in seconds, for averaging the stroke score over time
            (`smooth_strokes`); default: consecutive windows `STRIDE_S` apart, in the order given.

    Returns:
        (N, len(CLASSES)) in [0, 1].
    """
    features = np.asarray(features, np.float64).reshape(-1, len(FEATURES))
    starts = np.arange(len(features)) * STRIDE_S if starts is None else np.asarray(starts, np.float64)
    raised = np.clip(np.nan_to_num(features[:, 0], nan=0.0), 0.0, 1.0)
    down = head_down(features)
    motion = features[:, 5]
    if np.isfinite(motion).any():  # the hands' pixels were seen (the label pipeline)
        strokes = smooth_strokes(motion_scores(motion, features[:, 3]), np.isfinite(motion), starts)
    else:  # landmarks alone: v2's landmark strokes
        strokes = smooth_strokes(stroke_scores(features[:, 3]), np.isfinite(features[:, 3]), starts)
    rest = 1.0 - raised
    scores = np.stack([raised, rest * down * strokes, rest * down * (1.0 - strokes), rest * (1.0 - down)], axis=1)
    return np.round(scores, 5)


def is_rules(spec: str) -> bool:
    """Whether a `--model` value names the rules (`rules` or `rules@VERSION`)."""
    name, _, version = spec.partition("@")
    if name != NAME:
        return False
    if version and version != VERSION:
        raise ValueError(f"this poseact has rules@{VERSION}, not {spec!r}")
    return True


__all__ = ["CLASSES", "FACE_MAX", "FEATURES", "MODEL_ID", "VERSION", "batch_features", "card", "face_height", "head",
           "head_down", "held", "is_rules", "motion_scores", "person_scores", "raise_levels", "ramp",
           "smooth_strokes", "stroke_rms", "stroke_scores", "window_features"]
