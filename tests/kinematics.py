"""A tiny kinematic generator of MediaPipe-like landmark sequences, for training tests.

Three upper-body actions of a seated person, seen from the front: `raise` (one wrist goes above the
head and back), `write` (wrists low, small fast scribbling motion), `read` (head tilts down, wrists
hold a book at chest height). Each subject has its own body proportions and position, so a grouped
split tests generalisation to new subjects.
"""

import numpy as np

from poseact.pose.landmarks import PoseLandmark as P

ACTIONS = ("raise", "write", "read")


def _skeleton(rng):
    cx, cy = rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.5)
    half = rng.uniform(0.07, 0.12)  # half shoulder width
    base = np.zeros((33, 2))
    base[P.LEFT_SHOULDER], base[P.RIGHT_SHOULDER] = (cx + half, cy), (cx - half, cy)
    base[P.NOSE] = (cx, cy - 1.3 * half)
    for i, dx in ((P.LEFT_EYE_INNER, .15), (P.LEFT_EYE, .25), (P.LEFT_EYE_OUTER, .35), (P.RIGHT_EYE_INNER, -.15),
                  (P.RIGHT_EYE, -.25), (P.RIGHT_EYE_OUTER, -.35), (P.LEFT_EAR, .5), (P.RIGHT_EAR, -.5)):
        base[i] = (cx + dx * half, cy - 1.45 * half)
    base[P.MOUTH_LEFT], base[P.MOUTH_RIGHT] = (cx + .15 * half, cy - 1.1 * half), (cx - .15 * half, cy - 1.1 * half)
    base[P.LEFT_HIP], base[P.RIGHT_HIP] = (cx + .8 * half, cy + 2.6 * half), (cx - .8 * half, cy + 2.6 * half)
    return base, half


def sequence(action, subject_rng, clip_rng, frames=40):
    """(frames, 33, 4) landmarks x, y, z, visibility."""
    base, half = _skeleton(subject_rng)
    t = np.linspace(0, 1, frames)
    out = np.zeros((frames, 33, 4), np.float32)
    phase, speed = clip_rng.uniform(0, 2 * np.pi), clip_rng.uniform(0.8, 1.2)
    for k in range(frames):
        pts = base.copy()
        ls, rs = pts[P.LEFT_SHOULDER], pts[P.RIGHT_SHOULDER]
        lw, rw = ls + (0.3 * half, 1.9 * half), rs + (-0.3 * half, 1.9 * half)
        if action == "raise":
            lift = np.sin(np.pi * np.clip(t[k] * speed, 0, 1))
            rw = rs + (-0.3 * half, (1.9 - 4.2 * lift) * half)
        elif action == "write":
            wobble = 0.25 * half * np.sin(2 * np.pi * 4 * speed * t[k] + phase)
            lw, rw = ls + (-0.6 * half + wobble, 1.7 * half), rs + (0.6 * half + wobble, 1.7 * half)
        else:
            tilt = 0.5 * half * (0.6 + 0.4 * np.sin(2 * np.pi * speed * t[k] + phase))
            for i in range(0, 11):
                pts[i] = pts[i] + (0, tilt)
            lw, rw = ls + (-0.2 * half, 1.1 * half), rs + (0.2 * half, 1.1 * half)
        pts[P.LEFT_WRIST], pts[P.RIGHT_WRIST] = lw, rw
        pts[P.LEFT_ELBOW], pts[P.RIGHT_ELBOW] = (ls + lw) / 2 + (0.3 * half, 0), (rs + rw) / 2 - (0.3 * half, 0)
        for wrist, fingers in ((P.LEFT_WRIST, (P.LEFT_PINKY, P.LEFT_INDEX, P.LEFT_THUMB)),
                               (P.RIGHT_WRIST, (P.RIGHT_PINKY, P.RIGHT_INDEX, P.RIGHT_THUMB))):
            for j, f in enumerate(fingers):
                pts[f] = pts[wrist] + (0.1 * half * (j - 1), -0.15 * half)
        for i in range(25, 33):
            pts[i] = pts[P.LEFT_HIP if i % 2 else P.RIGHT_HIP] + (0, 0.5 * half * (i - 23) / 2)
        out[k, :, :2] = pts + clip_rng.normal(0, 0.004, size=pts.shape)
        out[k, :, 3] = 0.95
    return out


def write_dataset(root, subjects=8, clips_per_action=2, seed=0):
    """`root/<action>/s<subject>-<n>.npy` plus `root/manifest.csv` (uri, label, group)."""
    rows = ["uri,label,group"]
    for s in range(subjects):
        for a, action in enumerate(ACTIONS):
            (root / action).mkdir(parents=True, exist_ok=True)
            for n in range(clips_per_action):
                path = root / action / f"s{s}-{n}.npy"
                np.save(path, sequence(action, np.random.default_rng([seed, s]), np.random.default_rng([seed, s, a, n])))
                rows.append(f"{action}/s{s}-{n}.npy,{action},subject{s}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return str(root / "manifest.csv")
