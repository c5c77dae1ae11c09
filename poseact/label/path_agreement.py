"""How far a fast labelling path agrees with the reference (`--exact`) path on the same video.

Persons of the two runs are paired by their boxes (`tracks.parquet`, IoU, Hungarian assignment); then,
every `STEP_S` (0.1 s, so that a raise of half a second weighs what it lasts), each reference person's label
is compared with their partner's. An instant counts when either of the two has a label then; a reference
person with no partner disagrees on all their labelled instants, and so does a fast-path person with no
reference partner. The agreement is the share of person-time with the same label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from poseact.label.agreement import NO_LABEL, label_at
from poseact.people.tracker import iou

STEP_S = 0.1
MIN_IOU = 0.3  # two runs' boxes of one seated person overlap far more; neighbours' boxes far less


def _box(track: dict[str, Any]) -> np.ndarray:
    return np.array([track[k] for k in ("box_x0", "box_y0", "box_x1", "box_y1")], np.float64)


def pair_persons(reference: Sequence[dict[str, Any]], other: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Reference person -> other run's person, by box IoU (at least `MIN_IOU`)."""
    if not reference or not other:
        return {}
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    score = np.array([[iou(_box(r), _box(o)) for o in other] for r in reference])
    rows, cols = linear_sum_assignment(-score)
    return {int(reference[i]["person"]): int(other[j]["person"]) for i, j in zip(rows, cols) if score[i, j] >= MIN_IOU}


def per_second_agreement(reference_segments: Sequence[dict[str, Any]], reference_tracks: Sequence[dict[str, Any]],
                         segments: Sequence[dict[str, Any]], tracks: Sequence[dict[str, Any]],
                         duration_s: float) -> dict[str, Any]:
    """Label agreement over time of a run with the reference run of the same video.

    Returns:
        `{"agreement", "seconds" (person-seconds counted), "persons_reference", "persons", "paired",
        "per_person": {ref: agreement}}`; agreement is None when nothing counts.
    """
    pairs = pair_persons(reference_tracks, tracks)
    agree = total = 0
    per_person: dict[str, float | None] = {}
    times = np.arange(STEP_S / 2, duration_s, STEP_S)
    for ref in sorted(int(t["person"]) for t in reference_tracks):
        mine = pairs.get(ref)
        a = n = 0
        for t in times:
            expected = label_at(reference_segments, ref, float(t))
            got = label_at(segments, mine, float(t)) if mine is not None else NO_LABEL
            if expected == NO_LABEL and got == NO_LABEL:
                continue
            n += 1
            a += int(expected == got)
        per_person[str(ref)] = round(a / n, 3) if n else None
        agree, total = agree + a, total + n
    for person in sorted(int(t["person"]) for t in tracks):
        if person in pairs.values():
            continue
        total += sum(label_at(segments, person, float(t)) != NO_LABEL for t in times)
    return {"agreement": round(agree / total, 3) if total else None, "seconds": round(total * STEP_S, 1),
            "persons_reference": len(reference_tracks), "persons": len(tracks), "paired": len(pairs),
            "per_person": per_person}
