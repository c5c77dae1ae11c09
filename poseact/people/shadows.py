"""One student, two tracks: once a class chunk is posed, tracks whose faces sit on one head are joined into one.

The tracker ends a second pose on a student as it goes (`poseact.people.phantoms.same_body`,
`poseact.people.tracker.same_face`), judging each pair of poses by their own shoulder widths, on one frame. In a class
seen from above, shoulders are short and vary (a student's shoulder width is 0.55-1.25 of their labelled head width on
the classroom_cctv frames, 10th to 90th percentile), and two tracks on one head are not always alive on the same frame:
a student's follower is lost and a later detection pass starts them again under a new id. With the whole chunk at hand,
both can be seen: two tracks whose faces lie on one head, on the frames they share, or where one ends and the other
begins, are one student (`join_shadows`). The head's size comes from the students around them
(`local_head_widths`): a class sits in rows at about one depth.
"""

from __future__ import annotations

import numpy as np

from poseact.people.heads import FACE

# Two tracks are one student when their faces lie within this many head widths of each other. Of 17,810 pairs of
# labelled heads on the 60 classroom_cctv frames none is closer than 0.8 head widths (centre to centre): heads that
# close would cover each other. Half a head width leaves room for the error of the local width (`local_head_widths`).
SAME_HEAD = 0.5
# A seated student's shoulder width over their head width, as this camera angle shows them: the median over the 1,195
# students the label path matched to a labelled head on the 60 classroom_cctv frames (0.55-1.25, 10th-90th percentile;
# a camera high at the back sees shoulders short).
SHOULDERS_PER_HEAD = 0.93
# The local head width is the median over this many students whose faces are nearest (themselves included): one
# student's shoulders vary too much (above) to size their own head.
HEAD_NEIGHBOURS = 5


def face_points(landmarks: np.ndarray, detected: np.ndarray, width: int, height: int) -> np.ndarray:
    """(F, 2) one track's face point per frame (the median of its face landmarks, pixels), NaN where not found."""
    faces = np.median(landmarks[:, list(FACE), :2], axis=1) * np.array([width, height], np.float64)
    return np.where(detected[:, None], faces, np.nan)


def local_head_widths(faces: np.ndarray, shoulders: np.ndarray) -> np.ndarray:
    """Each student's head width (pixels) from the shoulders of the `HEAD_NEIGHBOURS` students nearest them.

    Args:
        faces: (N, 2) each student's face point (pixels).
        shoulders: (N,) each student's shoulder width (pixels).
    """
    faces = np.asarray(faces, np.float64).reshape(-1, 2)
    if not len(faces):
        return np.zeros(0)
    gaps = np.linalg.norm(faces[:, None, :] - faces[None, :, :], axis=2)
    nearest = np.argsort(gaps, axis=1, kind="stable")[:, :HEAD_NEIGHBOURS]
    return np.median(np.asarray(shoulders, np.float64)[nearest], axis=1) / SHOULDERS_PER_HEAD


def shoulder_width(track: tuple[np.ndarray, np.ndarray, np.ndarray], width: int, height: int) -> float:
    """A track's shoulder width (pixels), the median over the frames it was found on."""
    landmarks, detected = track[0][track[1]], track[1]
    if not detected.any():
        return float("nan")
    return float(np.median(np.linalg.norm((landmarks[:, 11, :2] - landmarks[:, 12, :2]) * np.array([width, height]),
                                          axis=1)))


def face_gap(a: np.ndarray, b: np.ndarray, max_gap: int) -> float:
    """How far apart two tracks' faces are (pixels; `face_points` of each): the median over the frames both were found
    on; where they share none, between their two frames nearest in time (where one ends and the other begins), if
    those are at most `max_gap` frames apart. Inf otherwise."""
    seen_a, seen_b = ~np.isnan(a[:, 0]), ~np.isnan(b[:, 0])
    both = seen_a & seen_b
    if both.any():
        return float(np.median(np.linalg.norm(a[both] - b[both], axis=1)))
    frames_a, frames_b = np.flatnonzero(seen_a), np.flatnonzero(seen_b)
    if not len(frames_a) or not len(frames_b):
        return float("inf")
    # For each of a's frames, b's nearest in time (frames_b is sorted).
    after = np.clip(np.searchsorted(frames_b, frames_a), 0, len(frames_b) - 1)
    before = np.clip(after - 1, 0, len(frames_b) - 1)
    nearest = np.where(np.abs(frames_b[before] - frames_a) < np.abs(frames_b[after] - frames_a), before, after)
    i = int(np.argmin(np.abs(frames_b[nearest] - frames_a)))
    j = int(frames_b[nearest[i]])
    if abs(j - int(frames_a[i])) > max_gap:
        return float("inf")
    return float(np.linalg.norm(a[frames_a[i]] - b[j]))


def join_shadows(tracks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]], hands: dict[int, np.ndarray],
                 width: int, height: int, max_gap: int) -> tuple[dict, dict, dict[int, int]]:
    """Join the tracks of a class chunk that are one student.

    Tracks are taken longest first (most frames found; the lower id on a tie); each joins the first track kept before
    it whose face lies within `SAME_HEAD` of their mean local head width (`face_gap`, `local_head_widths`). The kept
    track keeps its frames and takes the joined one's where it was not found.

    Args:
        tracks: Track id -> (landmarks (F, 33, 5) frame-normalised, detected (F,), boxes (F, 4)), as
            `poseact.label.lecture.ChunkPose.tracks`.
        hands: Track id -> (F,) hand motion (NaN where not measured).
        width: Frame width.
        height: Frame height.
        max_gap: Frames from the end of one track to the start of another that may still be one student's.

    Returns:
        The tracks and hands left, and which track each joined one went into.
    """
    if len(tracks) < 2:
        return tracks, hands, {}
    idents = list(tracks)
    faces = {t: face_points(tracks[t][0], tracks[t][1], width, height) for t in idents}
    seen = [t for t in idents if tracks[t][1].any()]
    heads = dict.fromkeys(idents, np.nan)
    if seen:
        centres = np.stack([np.nanmedian(faces[t], axis=0) for t in seen])
        heads.update(zip(seen, local_head_widths(centres, [shoulder_width(tracks[t], width, height) for t in seen])))
    order = sorted(idents, key=lambda t: (-int(tracks[t][1].sum()), t))
    kept: list[int] = []
    joined: dict[int, int] = {}

    def one_student(a: int, b: int) -> bool:  # a NaN head width (never found) is no one's
        return face_gap(faces[a], faces[b], max_gap) < SAME_HEAD * (heads[a] + heads[b]) / 2

    for track in order:
        into = next((k for k in kept if one_student(track, k)), None)
        if into is None:
            kept.append(track)
            continue
        joined[track] = into
        landmarks, detected, boxes = tracks[into]
        fill = tracks[track][1] & ~detected
        landmarks[fill], boxes[fill], detected[fill] = tracks[track][0][fill], tracks[track][2][fill], True
        faces[into] = np.where(fill[:, None], faces[track], faces[into])
        if track in hands:
            own = hands.setdefault(into, np.full(len(detected), np.nan, np.float32))
            own[fill] = hands[track][fill]
    left = {t: tracks[t] for t in sorted(tracks) if t not in joined}
    return left, {t: h for t, h in hands.items() if t not in joined}, joined


__all__ = ["HEAD_NEIGHBOURS", "SAME_HEAD", "SHOULDERS_PER_HEAD", "face_gap", "face_points", "join_shadows",
           "local_head_widths", "shoulder_width"]
