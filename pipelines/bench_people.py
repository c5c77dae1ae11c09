"""`poseact bench people`: how many labelled students the label path finds on real classroom frames, and what it reads.

Each distinct annotated frame (`poseact.data.annotations.read_yolo`: a YOLO folder of head boxes, such as
`../shared/data/classroom_cctv`) becomes a still video of `--seconds` (the frame repeated at the rules' 15 fps,
written as .mp4 so the codec is part of it), and goes through the label path as `poseact label --model rules`
runs it, with the same flags and defaults: decode, find and follow people (`poseact.label.lecture.pose_chunk`),
windows, the rules. The persons kept are those the label path would list (seen in at least a quarter of a
window's frames). Each is matched to a labelled head by its face landmarks (`poseact.people.heads`).

Reported, by head width: recall of labelled students; persons on no labelled head (and of those, how many lie
outside the labelled area); students found twice; and for matched students, the action read against the head's
label: `down` should be read as reading or writing, `up` and `lookaround` as neither (`phone` as it comes).
Writes `OUT/people.json` and one picture per frame (`OUT/frames/KEY.png`: labelled heads in green when found,
red when missed; found persons' heads as dots, orange when on no labelled head, with the action read).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

import numpy as np

from pipelines import options
from poseact.common import arguments, storage

# Head widths (pixels) the figures are split by: the dev frames' heads are 21-92 px wide.
SIZE_EDGES = (30.0, 45.0, 60.0)
DOWN_READS = ("reading", "writing")


def size_bucket(width: float) -> str:
    """The head-width bucket a box falls in, e.g. `30-45`."""
    edges = (0.0, *SIZE_EDGES, float("inf"))
    for lo, hi in zip(edges, edges[1:]):
        if lo <= width < hi:
            return f"<{hi:g}" if lo == 0 else (f">={lo:g}" if hi == float("inf") else f"{lo:g}-{hi:g}")
    raise ValueError(width)


def action_right(label: str, read: str) -> bool | None:
    """Whether the action read agrees with a head's label: `down` is reading or writing; `up` and `lookaround` are
    neither. None for other labels (`phone`), which are reported as they come."""
    if label == "down":
        return read in DOWN_READS
    if label in ("up", "lookaround"):
        return read not in DOWN_READS
    return None


def score_frame(heads: np.ndarray, labels: tuple[str, ...], persons: list[dict[str, Any]]) -> dict[str, Any]:
    """One frame's figures from its labelled heads and the persons found (`{"head": (x, y), "action": str}`)."""
    from poseact.people.heads import match_heads  # noqa: PLC0415

    points = np.array([p["head"] for p in persons], np.float32).reshape(-1, 2)
    match = match_heads(heads, points)
    widths = heads[:, 2] - heads[:, 0]
    found = {h for h, _ in match.pairs}
    reads = {h: persons[p]["action"] for h, p in match.pairs}
    return {
        "heads": [{"label": labels[h], "width": round(float(widths[h]), 1), "found": h in found,
                   "twice": h in match.doubles, "read": reads.get(h)} for h in range(len(heads))],
        "persons": len(persons), "on_no_head": len(match.unmatched), "outside_labelled": len(match.outside),
        "pairs": match.pairs, "unmatched": match.unmatched,
    }


def score_refusals(heads: np.ndarray, found: set[int], refusals: list[tuple[str, float, float]]) -> dict[str, dict]:
    """What each phantom rule removed on one frame: per rule, the labelled heads its refused poses sat on that the
    label path then missed (students it cost) or found anyway (a second view of a found student), and the places
    (10 px cells) on no labelled head (phantoms). A head or place counts once per rule however often it was refused."""
    from poseact.people.heads import grown as grow  # noqa: PLC0415

    grown = grow(heads)
    rules: dict[str, dict[str, set]] = {}
    for rule, x, y in refusals:
        row = rules.setdefault(rule, {"missed": set(), "found": set(), "no_head": set()})
        inside = np.flatnonzero((grown[:, 0] <= x) & (x <= grown[:, 2]) & (grown[:, 1] <= y) & (y <= grown[:, 3]))
        if not len(inside):
            row["no_head"].add((round(x / 10), round(y / 10)))
            continue
        head = int(inside[np.argmin(np.hypot((heads[inside, 0] + heads[inside, 2]) / 2 - x,
                                             (heads[inside, 1] + heads[inside, 3]) / 2 - y))])
        row["found" if head in found else "missed"].add(head)
    return {rule: {k: len(v) for k, v in row.items()} for rule, row in sorted(rules.items())}


def totals(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures over all frames: recall by head width, precision, doubles, actions."""
    heads = [h for f in frames for h in f["heads"]]
    by_size: dict[str, list[int]] = {}
    for h in heads:
        by_size.setdefault(size_bucket(h["width"]), [0, 0])
        by_size[size_bucket(h["width"])][0] += h["found"]
        by_size[size_bucket(h["width"])][1] += 1
    persons = sum(f["persons"] for f in frames)
    outside = sum(f["outside_labelled"] for f in frames)
    on_no_head = sum(f["on_no_head"] for f in frames)
    found = sum(h["found"] for h in heads)
    verdicts = [action_right(h["label"], h["read"]) for h in heads if h["found"]]
    judged = [v for v in verdicts if v is not None]
    reads: dict[str, dict[str, int]] = {}
    for h in heads:
        if h["found"]:
            row = reads.setdefault(h["label"], {})
            row[h["read"]] = row.get(h["read"], 0) + 1
    return {
        "frames": len(frames), "labelled": len(heads), "found": found,
        "recall": round(found / len(heads), 3) if heads else None,
        "recall_by_head_px": {k: {"found": v[0], "labelled": v[1], "recall": round(v[0] / v[1], 3)}
                              for k, v in sorted(by_size.items(), key=lambda kv: _bucket_order(kv[0]))},
        "persons": persons, "on_no_head": on_no_head, "outside_labelled": outside,
        # Persons inside the labelled rows on no labelled head: phantoms, or students the annotators left out.
        "on_no_head_share": round((on_no_head - outside) / max(persons - outside, 1), 3),
        "found_twice": sum(h["twice"] for h in heads),
        "found_twice_share": round(sum(h["twice"] for h in heads) / len(heads), 3) if heads else None,
        "down_vs_up_right": round(sum(judged) / len(judged), 3) if judged else None, "down_vs_up_judged": len(judged),
        "reads_by_label": reads,
        "false_raises": sum(1 for h in heads if h["found"] and h["label"] != "up" and h["read"] == "hand_raise"),
        "refused_by_rule": _summed(f.get("refused", {}) for f in frames),
    }


def _summed(rows) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        for rule, counts in row.items():
            for key, value in counts.items():
                out.setdefault(rule, {}).setdefault(key, 0)
                out[rule][key] += value
    return dict(sorted(out.items()))


def _bucket_order(name: str) -> float:
    return float(name.lstrip("<>=").split("-")[0]) + (0.5 if name.startswith(">=") else 0.0)


def pose_video(frames, path: str, label_options, buffer: bytes) -> tuple[Any, float]:
    """Write `frames` (RGB) as an `.mp4` at the label path's rate and find and pose everyone in it as one chunk
    (`poseact.label.lecture.pose_chunk`); the chunk's poses and the seconds that took."""
    from poseact.demo.media import write_video  # noqa: PLC0415
    from poseact.label import lecture  # noqa: PLC0415
    from poseact.pose.video import Chunk, VideoLimits, probe  # noqa: PLC0415

    fps = label_options.windows.fps
    write_video(path, frames, fps)
    limits = VideoLimits(max_duration_s=3600)
    info = probe(path, limits)
    started = time.perf_counter()
    pose = lecture.pose_chunk(path, info, Chunk(0, 0.0, float("inf"), float("inf")), fps, buffer,
                              label_options.people, limits)
    return pose, time.perf_counter() - started


def label_frame(rgb: np.ndarray, seconds: float, label_options, buffer: bytes, work: str) -> tuple[list[dict], dict]:
    """The persons the label path finds in a still video of `rgb`, each with its head point and the action read."""
    from poseact.label import lecture, rules  # noqa: PLC0415
    from poseact.people.heads import head_point  # noqa: PLC0415

    fps = label_options.windows.fps
    still = (rgb for _ in range(max(1, round(seconds * fps))))
    pose, wall = pose_video(still, os.path.join(work, "still.mp4"), label_options, buffer)
    windows: dict[int, list] = {}
    for window in lecture.windows(pose, label_options.windows):
        windows.setdefault(window.track, []).append(window)
    least = max(1, label_options.windows.max_frames // 4)  # the label path's floor for listing a person
    persons = []
    for track, (landmarks, detected, _) in pose.tracks.items():
        if detected.sum() < least:
            continue
        action = "unknown"
        if windows.get(track):
            batch = np.stack([lecture.model_input(w) for w in windows[track]])
            scores = rules.person_scores(rules.batch_features(batch, fps), [w.start_s for w in windows[track]])
            mean = scores.mean(axis=0)
            action = rules.CLASSES[int(np.argmax(mean))] if mean.max() >= label_options.threshold else "unknown"
        middle = np.flatnonzero(detected)[len(np.flatnonzero(detected)) // 2]
        persons.append({"track": int(track), "head": head_point(landmarks[middle], pose.width, pose.height).tolist(),
                        "action": action})
    timing = {"wall_s": wall, "frames": len(pose.times_ms), **{f"{k}_s": v for k, v in pose.seconds.items()},
              "refusals": pose.refusals}
    return persons, timing


PAN_SHARE = 0.25  # a pan shows 0.75 of the frame's width and moves across the other 0.25


def pan_frames(rgb: np.ndarray, count: int) -> tuple[list[np.ndarray], np.ndarray]:
    """A slow pan over one frame: `count` crops 1 - PAN_SHARE as wide, their left edge moving from 0 to PAN_SHARE
    of the width; and each crop's left edge (pixels)."""
    width = rgb.shape[1]
    span = int(round(width * (1.0 - PAN_SHARE))) // 2 * 2  # even sizes for the codec
    lefts = np.round(np.linspace(0, width - span, max(count, 1))).astype(int)
    return [np.ascontiguousarray(rgb[:rgb.shape[0] // 2 * 2, x:x + span]) for x in lefts], lefts


def tracks_per_student(heads: np.ndarray, lefts: np.ndarray, pose) -> dict[str, Any]:
    """Over a pan, how many track ids each student's head carried (1 is ideal), for the students in view.

    A student is in view in a frame when their whole head box is in the crop; each frame's persons are matched to
    the heads in view (`poseact.people.heads.match_heads`), and every id matched to a student counts."""
    from poseact.people.heads import head_point, match_heads  # noqa: PLC0415

    ids: dict[int, set[int]] = {}
    for index, left in enumerate(lefts[:len(pose.times_ms)]):
        shifted = heads - np.array([left, 0, left, 0], np.float32)
        in_view = np.flatnonzero((shifted[:, 0] >= 0) & (shifted[:, 2] <= pose.width))
        tracks = [t for t, (_, detected, _) in pose.tracks.items() if detected[index]]
        points = np.array([head_point(pose.tracks[t][0][index], pose.width, pose.height) for t in tracks])
        match = match_heads(shifted[in_view], points.reshape(-1, 2))
        for h, p in match.pairs:
            ids.setdefault(int(in_view[h]), set()).add(int(tracks[p]))
    counts = [len(v) for v in ids.values()]
    return {"students_tracked": len(counts), "tracks": int(sum(counts)),
            "tracks_per_student": round(float(np.mean(counts)), 3) if counts else None}


def pan_frame(rgb: np.ndarray, heads: np.ndarray, seconds: float, label_options, buffer: bytes,
              work: str) -> dict[str, Any]:
    """Track a slow pan over `rgb` through the label path's finding and following; ids per student."""
    fps = label_options.windows.fps
    frames, lefts = pan_frames(rgb, max(1, round(seconds * fps)))
    pose, wall = pose_video(frames, os.path.join(work, "pan.mp4"), label_options, buffer)
    return {**tracks_per_student(heads, lefts, pose), "wall_s": wall, "video_s": len(pose.times_ms) / fps}


def class_scene(first: np.ndarray, second: np.ndarray, rows: tuple[float, float] = (0.09, 0.49)) -> np.ndarray:
    """A bigger class from two real frames of the same room: the band of seated rows (`rows`, fractions of the
    height: 0.09-0.49 on `classroom_cctv`, where the labelled heads are) of each, one above the other."""
    height = first.shape[0]
    top, bottom = int(round(rows[0] * height)), int(round(rows[1] * height))
    scene = np.concatenate([first[top:bottom], second[top:bottom]], axis=0)
    return np.ascontiguousarray(scene[:scene.shape[0] // 2 * 2, :scene.shape[1] // 2 * 2])


def write_class_video(boxes_dir: str, path: str, seconds: float, fps: float = 30.0) -> dict[str, Any]:
    """Write `class_scene` of the first distinct frame and the one halfway through the set, held for `seconds`;
    returns how many labelled students it shows."""
    import cv2  # noqa: PLC0415

    from poseact.data.annotations import read_yolo  # noqa: PLC0415
    from poseact.demo.media import write_video  # noqa: PLC0415

    frames = read_yolo(boxes_dir)
    picked = [frames[0], frames[len(frames) // 2]]
    rgbs = [cv2.cvtColor(cv2.imread(f.path), cv2.COLOR_BGR2RGB) for f in picked]
    scene = class_scene(*rgbs)
    write_video(path, (scene for _ in range(max(1, round(seconds * fps)))), fps)
    heads = class_heads(picked, rgbs[0].shape[0])
    storage.write_atomic(path + HEADS_SUFFIX, json.dumps(heads).encode())
    return {"video": path, "heads": path + HEADS_SUFFIX, "frames": [f.key for f in picked],
            "size": [scene.shape[1], scene.shape[0]], "labelled_students": len(heads), "seconds": seconds}


HEADS_SUFFIX = ".heads.json"  # beside a `--make-class` video: its labelled heads, [x0, y0, x1, y1, label] in pixels


def class_heads(picked, height: int, rows: tuple[float, float] = (0.09, 0.49)) -> list[list]:
    """The labelled heads of `class_scene`: those of each frame's band of rows, moved to where the band lands."""
    top, bottom = int(round(rows[0] * height)), int(round(rows[1] * height))
    heads = []
    for index, frame in enumerate(picked):
        shift = index * (bottom - top) - top
        for box, label in zip(frame.boxes, frame.labels):
            if box[1] >= rows[0] * height and box[3] <= rows[1] * height:
                heads.append([float(box[0]), float(box[1] + shift), float(box[2]), float(box[3] + shift), label])
    return heads


def draw(rgb: np.ndarray, heads: np.ndarray, scored: dict[str, Any], persons: list[dict[str, Any]]) -> np.ndarray:
    """The frame with labelled heads (green found, red missed) and found persons' heads and actions."""
    import cv2  # noqa: PLC0415

    out = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    for box, head in zip(heads.astype(int), scored["heads"]):
        colour = (0, 200, 0) if head["found"] else (0, 0, 255)
        cv2.rectangle(out, tuple(box[:2]), tuple(box[2:]), colour, 2)
        cv2.putText(out, head["label"][:4], (box[0], box[1] - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)
    unmatched = set(scored["unmatched"])
    for index, person in enumerate(persons):
        x, y = (int(round(v)) for v in person["head"])
        colour = (0, 140, 255) if index in unmatched else (255, 255, 0)
        cv2.circle(out, (x, y), 4, colour, -1)
        cv2.putText(out, person["action"][:5], (x + 5, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)
    return out


def build_parser() -> argparse.ArgumentParser:
    """Flags of `poseact bench people`; any other flag is `poseact label`'s (e.g. --max-people 60)."""
    parser = arguments.Parser(prog="poseact bench people", description=__doc__.split("\n")[0])
    parser.add_argument("--boxes", required=True, help="YOLO folder of head boxes (data.yaml, images/, labels/)")
    parser.add_argument("--output", required=True, help="folder for people.json and the frames' pictures")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each frame's still video")
    parser.add_argument("--frames", type=int, default=0, help="score only the first N distinct frames (0: all)")
    parser.add_argument("--make-class", metavar="VIDEO",
                        help="instead, write a class of about 40 from two frames (their rows of seats one above the "
                             "other, held --seconds) for `poseact bench label --input VIDEO`")
    parser.add_argument("--pan", type=float, default=0.0,
                        help="also track a slow pan of this many seconds over each frame and count the track ids "
                             "each student carries (0: no pan)")
    return parser


def main(argv: list[str]) -> int:
    """Entry of `poseact bench people`."""
    args, rest = build_parser().parse_known_args(argv)
    if args.make_class:
        print(json.dumps(write_class_video(args.boxes, args.make_class, args.seconds)))
        return 0
    label_args = options.label_parser().parse_args(["--input", "-", "--model", "rules", "--output", "-", *rest])
    import cv2  # noqa: PLC0415 (heavy imports after the flags, so that --help is quick)

    from pipelines import label  # noqa: PLC0415 (the label command's own options, defaults included)
    from poseact.data.annotations import read_yolo  # noqa: PLC0415
    from poseact.label import rules  # noqa: PLC0415
    from poseact.pose import pose_model  # noqa: PLC0415

    label_options = label._options(label_args, rules.card())  # noqa: SLF001 (one source for the label defaults)
    model = pose_model.resolve(label._pose_model_spec(label_args))  # noqa: SLF001
    buffer = model.path.read_bytes()
    frames = read_yolo(args.boxes)
    if args.frames:
        frames = frames[:args.frames]
    os.makedirs(os.path.join(args.output, "frames"), exist_ok=True)
    scored, wall, video_s = [], 0.0, 0.0
    with tempfile.TemporaryDirectory(prefix="poseact-bench-people-") as work:
        for number, frame in enumerate(frames, 1):
            rgb = cv2.cvtColor(cv2.imread(frame.path), cv2.COLOR_BGR2RGB)
            persons, timing = label_frame(rgb, args.seconds, label_options, buffer, work)
            row = score_frame(frame.boxes, frame.labels, persons)
            row["refused"] = score_refusals(frame.boxes, {h for h, _ in row["pairs"]}, timing.pop("refusals"))
            row.update(key=frame.key, path=frame.path, timing=timing)
            if args.pan:
                row["pan"] = pan_frame(rgb, frame.boxes, args.pan, label_options, buffer, work)
            scored.append(row)
            wall += timing["wall_s"]
            video_s += timing["frames"] / label_options.windows.fps
            cv2.imwrite(os.path.join(args.output, "frames", f"{frame.key}.png"),
                        draw(rgb, frame.boxes, row, persons))
            found = sum(h["found"] for h in row["heads"])
            print(f"[{number}/{len(frames)}] {frame.key}: {found}/{len(row['heads'])} students found, "
                  f"{row['on_no_head']} persons on no labelled head, {timing['wall_s']:.1f} s", flush=True)
    figures = totals(scored)
    pans = [row["pan"] for row in scored if "pan" in row]
    if pans:
        students = sum(p["students_tracked"] for p in pans)
        figures["pan"] = {"seconds": args.pan, "students_tracked": students, "tracks": sum(p["tracks"] for p in pans),
                          "tracks_per_student": (round(sum(p["tracks"] for p in pans) / students, 3)
                                                 if students else None),
                          "realtime_factor": round(sum(p["video_s"] for p in pans) / sum(p["wall_s"] for p in pans), 3)}
    figures.update(label_flags=rest, seconds_per_frame=args.seconds, model=model.name,
                   realtime_factor=round(video_s / wall, 3) if wall else None)
    storage.write_atomic(os.path.join(args.output, "people.json"),
                         json.dumps({"totals": figures, "frames": scored}, indent=2, default=str).encode())
    print(json.dumps({k: v for k, v in figures.items() if k != "reads_by_label"}, indent=1))
    print("reads by label:", json.dumps(figures["reads_by_label"]))
    return 0
