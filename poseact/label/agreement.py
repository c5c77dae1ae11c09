"""Agreement of labelled segments with a ground-truth script (the demo lecture's, or a user's annotations).

A script has one row per (student, stretch of time, action) and each student's region in the frame:
`student,start_s,end_s,action,x0,y0,x1,y1` (pixels). Tracked persons are matched to students by how much of
the person's mean box lies in the student's region (Hungarian assignment, at least `MIN_MATCH` overlap).
Then, on a grid of `step_s`, every scripted instant of a student counts for its action: it agrees when the
matched person's label there is that action. Instants within `margin_s` of a change in the script are left
out: a window-based classifier cannot switch at an instant, and a label half a window late is not wrong.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

MIN_MATCH = 0.3
NO_LABEL = "(none)"


@dataclasses.dataclass(frozen=True)
class ScriptRow:
    """One scripted stretch of one student.

    Attributes:
        student: Student number.
        start_s: Start, seconds.
        end_s: End, seconds.
        action: Action name.
        box: The student's region (x0, y0, x1, y1), pixels.
    """

    student: int
    start_s: float
    end_s: float
    action: str
    box: tuple[float, float, float, float]


def read_script(text: str) -> list[ScriptRow]:
    """Parse a script CSV.

    Raises:
        ValueError: A column is missing or a value is not a number.
    """
    reader = csv.DictReader(io.StringIO(text))
    needed = {"student", "start_s", "end_s", "action", "x0", "y0", "x1", "y1"}
    if not reader.fieldnames or not needed <= set(reader.fieldnames):
        raise ValueError(f"a script needs the columns {sorted(needed)}, got {reader.fieldnames}")
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            rows.append(ScriptRow(int(row["student"]), float(row["start_s"]), float(row["end_s"]), row["action"],
                                  tuple(float(row[k]) for k in ("x0", "y0", "x1", "y1"))))
        except (TypeError, ValueError) as err:
            raise ValueError(f"script line {number}: {err}") from err
    return rows


def _inside(box: Sequence[float], region: Sequence[float]) -> float:
    """Fraction of `box`'s area inside `region`."""
    w = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    h = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    area = max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))
    return w * h / area


def match_students(tracks: Iterable[dict[str, Any]], script: Sequence[ScriptRow]) -> dict[int, int]:
    """Student -> person, by the share of each person's mean box inside each student's region.

    Args:
        tracks: Rows of `tracks.parquet` for one video (`person`, `box_x0`, ... `box_y1`, `frames_seen`).
        script: The video's script.

    Returns:
        Matched pairs with at least `MIN_MATCH` overlap; persons seen longest win ties.
    """
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    regions = {}
    for row in script:
        regions.setdefault(row.student, row.box)
    students = sorted(regions)
    people = sorted(tracks, key=lambda t: (-int(t.get("frames_seen", 0)), int(t["person"])))
    if not students or not people:
        return {}
    score = np.zeros((len(students), len(people)))
    for i, student in enumerate(students):
        for j, track in enumerate(people):
            box = [track[k] for k in ("box_x0", "box_y0", "box_x1", "box_y1")]
            # A small bonus for longer tracks breaks ties between a person and a short duplicate of them.
            score[i, j] = _inside(box, regions[student]) + 1e-6 * int(track.get("frames_seen", 0))
    rows, cols = linear_sum_assignment(-score)
    return {students[i]: int(people[j]["person"]) for i, j in zip(rows, cols) if score[i, j] >= MIN_MATCH}


def label_at(segments: Sequence[dict[str, Any]], person: int, t: float) -> str:
    """The person's label at time `t`, or `NO_LABEL` when no segment covers it."""
    for seg in segments:
        if seg["person"] == person and seg["start_s"] <= t < seg["end_s"]:
            return str(seg["action"])
    return NO_LABEL


def agreement(script: Sequence[ScriptRow], segments: Sequence[dict[str, Any]], tracks: Sequence[dict[str, Any]],
              step_s: float = 0.1, margin_s: float = 0.5, actions: Sequence[str] | None = None) -> dict[str, Any]:
    """Per-class frame agreement of one video's segments with its script.

    Args:
        script: The video's script rows.
        segments: Rows of `segments.parquet` for the video (`person`, `start_s`, `end_s`, `action`).
        tracks: Rows of `tracks.parquet` for the video.
        step_s: Time grid.
        margin_s: Instants this close to a scripted change are not counted.
        actions: Score only these scripted actions (the others still mark changes); None scores all.

    Returns:
        `{"per_class": {action: {"agreement", "instants", "confusion": {label: count}}}, "overall",
        "matched": {student: person}, "students": n}`; agreement is None for a class with no instants.
    """
    matched = match_students(tracks, script)
    by_student: dict[int, list[ScriptRow]] = {}
    for row in script:
        by_student.setdefault(row.student, []).append(row)
    per_class: dict[str, dict[str, Any]] = {}
    for student, rows in sorted(by_student.items()):
        changes = sorted({r.start_s for r in rows} | {r.end_s for r in rows})
        person = matched.get(student)
        for row in rows:
            if actions is not None and row.action not in actions:
                continue
            entry = per_class.setdefault(row.action, {"agree": 0, "instants": 0, "confusion": {}})
            for t in np.arange(row.start_s + step_s / 2, row.end_s, step_s):
                if min(abs(t - c) for c in changes) < margin_s:
                    continue
                label = label_at(segments, person, float(t)) if person is not None else NO_LABEL
                entry["instants"] += 1
                entry["agree"] += int(label == row.action)
                entry["confusion"][label] = entry["confusion"].get(label, 0) + 1
    total = sum(e["instants"] for e in per_class.values())
    return {
        "per_class": {a: {"agreement": round(e["agree"] / e["instants"], 3) if e["instants"] else None,
                          "instants": e["instants"], "confusion": dict(sorted(e["confusion"].items()))}
                      for a, e in sorted(per_class.items())},
        "overall": round(sum(e["agree"] for e in per_class.values()) / total, 3) if total else None,
        "matched": {str(k): v for k, v in sorted(matched.items())}, "students": len(by_student),
    }


def format_table(name: str, result: dict[str, Any]) -> str:
    """A few lines for a terminal: agreement per class, then overall."""
    parts = [f"{action} {v['agreement']:.2f}" if v["agreement"] is not None else f"{action} -"
             for action, v in result["per_class"].items()]
    found = f"{len(result['matched'])}/{result['students']} students matched"
    overall = f"{result['overall']:.2f}" if result["overall"] is not None else "-"
    return f"{name}: agreement with the script: {', '.join(parts)}; overall {overall} ({found})"


def main(argv: list[str] | None = None) -> int:
    """`poseact agree --labels OUT --script SCRIPT.csv [--video URI] [--name NAME] [--json PATH]`."""
    import json  # noqa: PLC0415

    import pyarrow.parquet as pq  # noqa: PLC0415

    from poseact.common import arguments, storage  # noqa: PLC0415

    parser = arguments.Parser(prog="poseact agree", description="agreement of labels with a script")
    parser.add_argument("--labels", required=True, help="output folder of `poseact label`")
    parser.add_argument("--script", required=True, help="CSV: student,start_s,end_s,action,x0,y0,x1,y1")
    parser.add_argument("--video", help="the video the script is about (default: the only one labelled)")
    parser.add_argument("--name", default="labels", help="name shown in the printed line (e.g. the model)")
    parser.add_argument("--json", help="also write the full result here")
    parser.add_argument("--actions", help="comma-separated scripted actions to score (default: all)")
    args = parser.parse_args(argv)
    script = read_script(storage.read_bytes(args.script).decode())
    tables = {}
    for name in ("segments", "tracks"):
        with storage.local_copy(storage.join(args.labels, f"{name}.parquet")) as path:
            tables[name] = pq.read_table(path).to_pylist()
    videos = sorted({r["video"] for r in tables["tracks"]} | {r["video"] for r in tables["segments"]})
    video = args.video or (videos[0] if len(videos) == 1 else None)
    if video is None:
        raise ValueError(f"{args.labels} holds {len(videos)} videos: say which with --video")
    rows = {n: [r for r in t if r["video"] == video] for n, t in tables.items()}
    only = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    result = agreement(script, rows["segments"], rows["tracks"], actions=only)
    if args.json:
        storage.write_atomic(args.json, json.dumps(result, indent=2, sort_keys=True).encode())
    print(format_table(args.name, result))
    return 0
