"""One student, two tracks: once a class chunk is posed, tracks whose faces sit on one head are joined into one.

The tracker ends a second pose on a student as it goes (`poseact.people.phantoms.same_body`,
`poseact.people.tracker.same_face`), judging each pair of poses by their own shoulder widths, on one frame. In a class
seen from high at the back, shoulders look short and vary (a student's shoulder width was 0.55-1.25 of their labelled
head width on the classroom_cctv frames, 10th to 90th percentile), and two tracks on one head are not always alive on
the same frame: a student's follower is lost and a later detection pass starts them again under a new id. With the
whole chunk at hand, both can be seen: two tracks whose faces lie on one head, on the frames they share, or where one
ends and the other begins, are one student (`join_shadows`).

How close is "on one head" is read from the class itself, not from a body part whose size depends on where the camera
is: the spacing between neighbouring students where they sit (`local_spacing`). Heads in a class do not overlap much
whatever the camera's angle, and the spacing scales with their size in the picture.
"""

from __future__ import annotations

import numpy as np

from poseact.people.heads import head_point

# Two tracks are one student when their faces lie within this share of the local spacing (`local_spacing`). On the 60
# classroom_cctv frames a labelled head's nearest neighbour is 1.34 head widths away at the median (0.95 at the 5th
# percentile), and of 17,810 pairs of labelled heads none is closer than 0.58 of their local spacing measured the same
# way. 0.4 (about half a head width there) leaves room for a face point a little off its head, and for the spacing of
# tracks, which a second pose on someone makes shorter (so fewer are joined, never more).
SAME_HEAD = 0.4
# The local spacing is the median, over this many students whose faces are nearest (themselves included), of each one's
# distance to their nearest neighbour: one student's nearest neighbour may be a second pose on them.
NEIGHBOURS = 5


def face_points(landmarks: np.ndarray, detected: np.ndarray, width: int, height: int) -> np.ndarray:
    """(F, 2) one track's face point per frame (`heads.head_point`, pixels), NaN where not found."""
    return np.where(detected[:, None], head_point(landmarks, width, height).astype(np.float64), np.nan)


def local_spacing(faces: np.ndarray) -> np.ndarray:
    """(N,) each student's local spacing (pixels): the median, over the `NEIGHBOURS` students whose faces are nearest
    theirs (them included), of each one's distance to their own nearest neighbour. NaN with fewer than two students.

    Args:
        faces: (N, 2) each student's face point (pixels).
    """
    faces = np.asarray(faces, np.float64).reshape(-1, 2)
    if len(faces) < 2:
        return np.full(len(faces), np.nan)
    gaps = np.linalg.norm(faces[:, None, :] - faces[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    nearest_gap = gaps.min(axis=1)
    np.fill_diagonal(gaps, -1.0)  # each student first among their own neighbours
    nearest = np.argsort(gaps, axis=1, kind="stable")[:, :NEIGHBOURS]
    return np.median(nearest_gap[nearest], axis=1)


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
    it whose face lies within `SAME_HEAD` of their mean local spacing (`face_gap`, `local_spacing`, where each track's
    face is its median face point). The kept track keeps its frames and takes the joined one's where it was not found.

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
    spacing = dict.fromkeys(idents, np.nan)
    if seen:
        spacing.update(zip(seen, local_spacing(np.stack([np.nanmedian(faces[t], axis=0) for t in seen]))))
    order = sorted(idents, key=lambda t: (-int(tracks[t][1].sum()), t))
    kept: list[int] = []
    joined: dict[int, int] = {}

    def one_student(a: int, b: int) -> bool:  # a NaN spacing (never found) is no one's
        return face_gap(faces[a], faces[b], max_gap) < SAME_HEAD * (spacing[a] + spacing[b]) / 2

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


__all__ = ["NEIGHBOURS", "SAME_HEAD", "face_gap", "face_points", "join_shadows", "local_spacing"]
