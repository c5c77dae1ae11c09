"""Tests of poseact.label.rules on made landmark sequences (a frontal upper body in shoulder widths).

The made skeleton is in the model-input layout (`poseact.data.normalize`): landmarks 1-24, each frame centred on
the shoulder midpoint, lengths in shoulder widths, y pointing down; proportions from the median of 21 real
upright MediaPipe clips (eyes 0.68 sw above the shoulder line, ears 0.07 sw below the eyes).
"""

from __future__ import annotations

import numpy as np
import pytest

from poseact.label import rules
from poseact.pose.landmarks import MODEL_LANDMARKS
from poseact.pose.landmarks import PoseLandmark as P

FPS = rules.FPS
T = int(round(FPS * rules.WINDOW_S))

# (x, y) in shoulder widths, y down, the person's left on image right (a camera facing them).
UPRIGHT = {
    P.LEFT_EYE_INNER: (0.05, -0.68), P.LEFT_EYE: (0.09, -0.68), P.LEFT_EYE_OUTER: (0.12, -0.68),
    P.RIGHT_EYE_INNER: (-0.05, -0.68), P.RIGHT_EYE: (-0.09, -0.68), P.RIGHT_EYE_OUTER: (-0.12, -0.68),
    P.LEFT_EAR: (0.2, -0.61), P.RIGHT_EAR: (-0.2, -0.61), P.MOUTH_LEFT: (0.05, -0.46),
    P.MOUTH_RIGHT: (-0.05, -0.46), P.LEFT_SHOULDER: (0.5, 0.0), P.RIGHT_SHOULDER: (-0.5, 0.0),
    P.LEFT_ELBOW: (0.6, 0.7), P.RIGHT_ELBOW: (-0.6, 0.7), P.LEFT_WRIST: (0.4, 1.3),
    P.RIGHT_WRIST: (-0.4, 1.3), P.LEFT_PINKY: (0.38, 1.45), P.RIGHT_PINKY: (-0.38, 1.45),
    P.LEFT_INDEX: (0.36, 1.47), P.RIGHT_INDEX: (-0.36, 1.47), P.LEFT_THUMB: (0.33, 1.4),
    P.RIGHT_THUMB: (-0.33, 1.4), P.LEFT_HIP: (0.35, 1.9), P.RIGHT_HIP: (-0.35, 1.9),
}
HEAD = (P.LEFT_EYE_INNER, P.LEFT_EYE, P.LEFT_EYE_OUTER, P.RIGHT_EYE_INNER, P.RIGHT_EYE, P.RIGHT_EYE_OUTER,
        P.LEFT_EAR, P.RIGHT_EAR, P.MOUTH_LEFT, P.MOUTH_RIGHT)
HAND = ("WRIST", "PINKY", "INDEX", "THUMB")


def frame(**moves: tuple[float, float]) -> np.ndarray:
    """One (24, 3) frame of the upright skeleton with some landmarks moved (`LEFT_WRIST=(x, y)`)."""
    points = dict(UPRIGHT)
    for name, xy in moves.items():
        points[P[name]] = xy
    out = np.zeros((len(MODEL_LANDMARKS), 3))
    for landmark, (x, y) in points.items():
        out[MODEL_LANDMARKS.index(int(landmark))] = (x, y, 0.95)
    return out


def clip(frames: list[np.ndarray] | np.ndarray, jitter: float = 0.004, seed: int = 0) -> np.ndarray:
    """Frames stacked with MediaPipe-like landmark jitter (about 0.004 sw on still real landmarks)."""
    pose = np.stack(frames).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0.0, jitter, pose[..., :2].shape)
    pose[..., :2] += noise
    return pose


def arm(side: str, elbow: tuple[float, float], wrist: tuple[float, float], finger: tuple[float, float]) -> dict:
    """Moves for one arm: elbow, wrist, and the hand points at `finger` offsets from the wrist."""
    dx, dy = finger
    moves = {f"{side}_ELBOW": elbow, f"{side}_WRIST": wrist}
    for part, scale in zip(HAND[1:], (0.9, 1.0, 0.7)):
        moves[f"{side}_{part}"] = (wrist[0] + scale * dx, wrist[1] + scale * dy)
    return moves


def head_moves(drop: float, nod: float) -> dict:
    """Moves of the head: the face sinks by `drop` sw and the eyes and mouth sink by `nod` more than the ears."""
    moves = {}
    for landmark in HEAD:
        x, y = UPRIGHT[landmark]
        extra = 0.0 if "EAR" in landmark.name else nod
        moves[landmark.name] = (x, y + drop + extra)
    return moves


RAISED = arm("RIGHT", (-0.7, -0.3), (-0.65, -1.0), (0.0, -0.2))          # straight up, wrist over the head
HALF_RAISED = arm("RIGHT", (-0.85, -0.02), (-0.8, -0.65), (0.02, -0.2))      # elbow at the shoulder, forearm up
LOW_RAISE = arm("RIGHT", (-0.7, 0.75), (-0.5, -0.05), (0.05, -0.3))        # the real seated clip's shape
CHIN_REST = arm("RIGHT", (-0.3, 0.8), (-0.08, -0.3), (0.05, -0.18))        # hand at the chin, in front of the face
FOREHEAD = arm("RIGHT", (-0.7, 0.1), (-0.6, -0.55), (0.17, -0.17))         # hand brought to the forehead (a salute)
SIDEWAYS = arm("RIGHT", (-1.1, 0.0), (-1.8, 0.0), (-0.2, 0.0))             # arm stretched out horizontally
DESK = arm("RIGHT", (-0.55, 0.75), (-0.25, 1.0), (0.15, 0.05))             # hand low in front, on the desk


def raise_score(moves: dict, frames: int = T) -> float:
    return float(rules.window_features(clip([frame(**moves)] * frames))[0])


@pytest.mark.parametrize("moves", [RAISED, HALF_RAISED, LOW_RAISE], ids=["raised", "half-raised", "low-raise"])
def test_raised_hands_are_raises(moves):
    assert raise_score(moves) >= 0.75


DRINK = arm("RIGHT", (-0.45, -0.05), (-0.1, -0.55), (0.12, -0.04))          # a bottle at the mouth, elbow up
EAR = arm("RIGHT", (-0.6, 0.1), (-0.3, -0.7), (0.02, -0.2))                  # a hand at the ear (a phone), elbow out
HEAD_ON_HAND = arm("RIGHT", (-0.35, 0.7), (-0.2, -0.35), (0.05, -0.15))      # the head resting on the hand
ON_HEAD = arm("RIGHT", (-0.7, -0.4), (-0.25, -0.9), (0.1, -0.05))           # a hand on the side of the head


@pytest.mark.parametrize("moves", [{}, CHIN_REST, FOREHEAD, SIDEWAYS, DESK, DRINK, EAR, HEAD_ON_HAND, ON_HEAD],
                         ids=["rest", "hand-at-chin", "hand-at-forehead", "arm-sideways", "hand-on-desk", "drinking",
                              "hand-at-ear", "head-on-hand", "hand-on-head"])
def test_hands_near_the_face_or_down_are_not_raises(moves):
    assert raise_score(moves) <= 0.2


def test_in_a_class_only_a_hand_at_or_above_the_eyes_or_a_raised_elbow_is_a_raise():
    """In a class (`crowd`) a low raise is the shape of a chin resting on a hand, and of an arm the landmark model
    guessed onto a neighbour: on the 60 real classroom frames, where nobody raises a hand, it made 23 of 60 raises."""
    def crowd_score(moves: dict) -> float:
        return float(rules.window_features(clip([frame(**moves)] * T), crowd=True)[0])

    assert raise_score(LOW_RAISE) >= 0.75 and crowd_score(LOW_RAISE) <= 0.2
    assert crowd_score(RAISED) >= 0.75 and crowd_score(HALF_RAISED) >= 0.75
    # The label path's model input carries the flag as a sixth channel (`poseact.label.lecture.model_input`).
    pose = clip([frame(**LOW_RAISE)] * T)
    extra = np.ones((T, len(MODEL_LANDMARKS), 3))
    extra[..., 1] = np.nan  # no hand motion measured
    for flag, expected in ((0.0, raise_score(LOW_RAISE)), (1.0, crowd_score(LOW_RAISE))):
        extra[..., 2] = flag
        batch = np.concatenate([pose, extra], axis=-1)[None]
        assert rules.batch_features(batch)[0, 0] == pytest.approx(expected)


def test_a_hand_at_the_ear_is_no_raise_but_one_clear_of_the_head_is():
    # The same hand at eye level and pointing up: touching the ear (0.12 sw from it), then 0.5 sw out.
    assert raise_score(arm("RIGHT", (-0.6, 0.1), (-0.3, -0.7), (0.02, -0.2))) <= 0.2
    assert raise_score(arm("RIGHT", (-0.9, 0.1), (-0.7, -0.7), (0.02, -0.2))) >= 0.5


def test_mirrored_arm_is_a_raise_too():
    left = {k.replace("RIGHT", "LEFT"): (-x, y) for k, (x, y) in RAISED.items()}
    assert raise_score(left) >= 0.75


def test_a_raise_must_be_held():
    """A hand up for 2 frames (0.13 s) is a passing gesture; 8 frames (0.53 s) is a raise."""
    def window(up: int) -> float:
        frames = [frame(**RAISED) if i < up else frame() for i in range(T)]
        return float(rules.window_features(clip(frames))[0])

    assert window(2) < 0.4
    assert window(8) >= 0.9


def test_low_visibility_gives_no_vote():
    pose = clip([frame(**RAISED)] * T)
    for name in ("RIGHT_WRIST", "RIGHT_ELBOW"):
        pose[:, MODEL_LANDMARKS.index(int(P[name])), 2] = 0.3
    assert rules.window_features(pose)[0] == 0.0


def test_invented_head_below_the_shoulders_gives_no_vote():
    """With the head out of frame MediaPipe may put a confident face below the shoulders (real torso clip)."""
    moves = {**head_moves(drop=0.9, nod=0.0), **arm("RIGHT", (-0.7, 0.6), (-0.5, 0.2), (0.0, -0.2))}
    features = rules.window_features(clip([frame(**moves)] * T))
    assert features[0] == 0.0
    assert np.isnan(features[1]) and np.isnan(features[2])


def test_missing_head_keeps_the_elbow_rule():
    """Face hidden (visibility 0), elbow up with the forearm up: still a raise; nothing about the head."""
    pose = clip([frame(**HALF_RAISED)] * T)
    for landmark in HEAD:
        pose[:, MODEL_LANDMARKS.index(int(landmark)), 2] = 0.0
    features = rules.window_features(pose)
    assert features[0] >= 0.75
    assert np.isnan(features[1])


def collapsed(face_height: float) -> np.ndarray:
    """A pose the landmark model collapsed onto a line in a crowd, as on real classroom frame 71 (the shoulders a
    few px apart, so in shoulder widths the face is tall and the arms stacked straight up): the face `face_height`
    sw from eyes to mouth, the elbows above the shoulders, the wrists and fingers above the eyes."""
    eye_y = -3.0 * face_height
    moves = {landmark.name: (0.3 * x, eye_y + face_height * (y - UPRIGHT[P.LEFT_EYE][1]) / 0.22)
             for landmark, (x, y) in UPRIGHT.items() if landmark in HEAD}
    for side, sign in (("LEFT", 1.0), ("RIGHT", -1.0)):
        moves.update(arm(side, (sign * 0.1, -0.4 * face_height), (sign * 0.05, eye_y - face_height), (0.0, -0.2)))
    return clip([frame(**moves)] * T)


def test_a_face_taller_than_the_shoulders_are_wide_gives_no_vote(monkeypatch):
    """Real frame 71: a collapsed pose's arms stand straight up in shoulder widths. Its face, 1.2 sw from eyes to
    mouth (a frontal face: 0.17-0.25), says the shoulders cannot measure it: no raise. Without the rule it is one."""
    assert rules.face_height(clip([frame()] * T)).max() < 0.25
    assert rules.window_features(collapsed(1.2))[0] == 0.0
    monkeypatch.setattr(rules, "FACE_MAX", np.inf)
    assert rules.window_features(collapsed(1.2))[0] >= 0.75


def test_a_raise_seen_side_on_is_still_a_raise():
    """Turned side-on, the shoulder line shortens to about a third: in shoulder widths every height triples and the
    face is 0.66 sw tall, under `FACE_MAX`. The raise stays a raise; the hands at rest stay none."""
    for moves, expected in ((RAISED, True), (HALF_RAISED, True), ({}, False), (CHIN_REST, False)):
        pose = clip([frame(**moves)] * T)
        pose[..., 1] *= 3.0
        assert rules.face_height(pose).max() < rules.FACE_MAX
        score = rules.window_features(pose)[0]
        assert (score >= 0.75) if expected else (score <= 0.2), (moves, score)


def test_padding_frames_are_ignored():
    pose = np.concatenate([clip([frame(**RAISED)] * 8), np.zeros((T, 24, 3))])
    mask = np.r_[np.ones(8), np.zeros(T)]
    assert rules.window_features(pose, mask)[0] >= 0.9


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="pose must be"):
        rules.window_features(np.zeros((T, 33, 3)))


def writing_frames(amplitude: float, hz: float = 3.0, frames: int = T) -> list[np.ndarray]:
    """Head down, the right hand low in front making strokes of `amplitude` sw at `hz`."""
    out = []
    for i in range(frames):
        phase = 2 * np.pi * hz * i / FPS
        wx, wy = -0.25 + amplitude * np.sin(phase), 1.0 + 0.5 * amplitude * np.sin(2 * phase)
        out.append(frame(**head_moves(0.25, 0.12), **arm("RIGHT", (-0.55, 0.75), (wx, wy), (0.15, 0.05))))
    return out


def test_strokes_of_a_hand_low_in_front():
    still = [rules.stroke_rms(clip([frame()] * T, seed=i)) for i in range(8)]
    strokes = rules.stroke_rms(clip(writing_frames(0.06)))
    sweeping = rules.stroke_rms(clip(writing_frames(0.5)))
    scores = rules.stroke_scores(np.array([*still, strokes, sweeping]))
    assert max(still) < 0.01 and strokes > 0.03
    assert scores[:8].max() <= 0.1  # still hands: jitter only
    assert scores[8] >= 0.9  # small quick strokes
    assert scores[9] <= 0.1  # large sweeping motion is no writing
    hidden = clip([frame()] * T)
    hidden[:, [MODEL_LANDMARKS.index(int(P[f"{s}_{p}"])) for s in ("LEFT", "RIGHT") for p in HAND], 2] = 0.0
    assert np.isnan(rules.stroke_rms(hidden))  # no hand seen: no vote


def test_strokes_count_above_the_persons_own_jitter():
    """A small, far person's still hands jitter more; the same jitter is no writing for them."""
    jittery = [rules.stroke_rms(clip([frame()] * T, jitter=0.012, seed=i)) for i in range(8)]
    scores = rules.stroke_scores(np.array(jittery))
    assert min(jittery) > 0.01 and scores.max() < 0.5  # never enough for writing


def person(upright: int, *actions: list[np.ndarray]) -> np.ndarray:
    """Features of one person: `upright` windows sitting up, then one window per given action."""
    windows = [clip([frame()] * T, seed=i) for i in range(upright)]
    windows += [clip(a, seed=100 + i) for i, a in enumerate(actions)]
    return np.stack([rules.window_features(w) for w in windows])


def label(scores: np.ndarray) -> list[str]:
    return [rules.CLASSES[int(np.argmax(row))] for row in scores]


def test_writing_reading_and_other_against_the_persons_baseline():
    reading = [frame(**head_moves(0.25, 0.12), **DESK)] * T
    features = person(8, writing_frames(0.06), reading, [frame(**RAISED)] * T)
    # Upright windows, then the three actions each a few seconds apart (no stroke averaging across them).
    scores = rules.person_scores(features, [0.5 * i for i in range(8)] + [10.0, 20.0, 30.0])
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert label(scores) == ["other"] * 8 + ["writing", "reading", "hand_raise"]
    assert scores[8, 1] >= 0.7 and scores[9, 2] >= 0.7


def test_head_down_is_relative_to_the_persons_own_upright_head():
    """A camera above the class sees everyone's upright head lower; the baseline absorbs that."""
    low = head_moves(0.15, 0.06)  # this person's upright head, seen from above
    lower = head_moves(0.25, 0.14)
    windows = [clip([frame(**low, **DESK)] * T, seed=i) for i in range(8)]
    windows += [clip([frame(**lower, **DESK)] * T, seed=50)]
    scores = rules.person_scores(np.stack([rules.window_features(w) for w in windows]))
    assert label(scores) == ["other"] * 8 + ["reading"]


def test_head_hidden_votes_for_nothing():
    features = np.array([[0.0, np.nan, np.nan, np.nan, 0.0, np.nan]] * 3)
    assert label(rules.person_scores(features)) == ["other"] * 3


def test_is_rules():
    assert rules.is_rules("rules") and rules.is_rules(rules.MODEL_ID)
    assert not rules.is_rules("runs/demo/model")
    with pytest.raises(ValueError, match="rules@999"):
        rules.is_rules("rules@999")


def test_card_matches_the_window_layout():
    card = rules.card()
    assert card["classes"] == ["hand_raise", "writing", "reading", "other"]
    assert card["max_frames"] == T and card["fps"] == FPS


def test_strokes_are_averaged_over_the_surrounding_two_seconds():
    """One jittery window in a run of still reading is no writing; a run of strokes stays writing; windows
    that see no hand low in front neither add nor dilute, and windows far apart do not mix."""
    scores = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    seen = np.array([True] * 8 + [False, True])
    starts = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 10.0, 10.5, 11.0, 11.5, 30.0])
    out = rules.smooth_strokes(scores, seen, starts)
    assert out[2] == pytest.approx(0.2)  # the spike among four still windows within 1 s
    assert out[6] == pytest.approx(1.0) and out[7] == pytest.approx(1.0)  # strokes; the unseen window adds nothing
    assert out[8] == pytest.approx(1.0)  # an unseen window takes its neighbours' strokes
    assert out[9] == pytest.approx(1.0)  # alone: its own score
    assert rules.smooth_strokes(np.zeros(2), np.zeros(2, bool), np.array([0.0, 0.5])).tolist() == [0.0, 0.0]


def test_person_scores_default_starts_are_the_stride_apart():
    writing, still = writing_frames(0.06), [frame(**head_moves(0.25, 0.12), **DESK)] * T
    features = person(8, still, still, writing, still, still)
    by_order = rules.person_scores(features)
    by_time = rules.person_scores(features, rules.STRIDE_S * np.arange(len(features)))
    assert np.array_equal(by_order, by_time)
    # The lone writing window among reading ones within 1 s is averaged down to reading.
    assert label(by_order)[10] == "reading"


def test_hand_motion_tells_writing_from_reading():
    """Rules v3: with the hands' pixels measured, a bent head over moving hands is writing and over still
    hands reading, whatever the landmarks' jitter says."""
    bent = [frame(**head_moves(0.25, 0.12), **DESK)] * T
    windows = [clip([frame()] * T, seed=i) for i in range(8)] + [clip(bent, seed=50), clip(bent, seed=51)]
    motions = [0.0] * 8 + [0.2, 0.005]
    features = np.stack([rules.window_features(w, hand_motion=np.full(T, m)) for w, m in zip(windows, motions)])
    assert features[8, rules.FEATURES.index("hand_motion")] == pytest.approx(0.2)
    scores = rules.person_scores(features, [0.5 * i for i in range(8)] + [10.0, 20.0])
    assert label(scores) == ["other"] * 8 + ["writing", "reading"]


def test_hand_motion_needs_a_third_of_the_frames():
    window = clip([frame()] * T)
    few = np.full(T, np.nan)
    few[:T // 4] = 0.3
    assert np.isnan(rules.window_features(window, hand_motion=few)[rules.FEATURES.index("hand_motion")])
    enough = np.full(T, np.nan)
    enough[:T // 2] = 0.3
    assert rules.window_features(window, hand_motion=enough)[rules.FEATURES.index("hand_motion")] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="hand_motion"):
        rules.window_features(window, hand_motion=np.zeros(T + 1))


def test_motion_scores_count_above_the_persons_still_hands_and_not_sweeping():
    still = [0.0, 0.01, 0.005, 0.0, 0.01, 0.0, 0.005, 0.01]
    motion = np.array([*still, 0.015, 0.08, 0.08])
    rms = np.array([0.01] * 10 + [0.5])  # the last window's hand sweeps
    scores = rules.motion_scores(motion, rms)
    assert scores[:9].max() < 0.3 and scores[9] == 1.0 and scores[10] == 0.0
    # Unmeasured windows score 0.
    assert rules.motion_scores(np.array([np.nan, 0.1]), np.array([np.nan, 0.01]))[0] == 0.0


def test_batch_features_read_the_fifth_channel():
    window = clip([frame()] * T)
    mask = np.ones((T, window.shape[1], 1))
    four = np.concatenate([window, mask], axis=-1)[None]
    five = np.concatenate([window, mask, np.full((T, window.shape[1], 1), 0.25)], axis=-1)[None]
    at = rules.FEATURES.index("hand_motion")
    assert np.isnan(rules.batch_features(four)[0, at])
    assert rules.batch_features(five)[0, at] == pytest.approx(0.25)
