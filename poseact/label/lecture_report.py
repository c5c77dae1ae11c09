"""`report.html` of labelled lectures: one page per lecture, and an index of the lectures in an output folder.

A lecture's page shows the video's facts, the model, every person's timeline and table (hand raises,
seconds writing and reading, time seen), a thumbnail of each person, a snapshot of each hand raise with
the person boxed, and a link to `overlay.mp4` when there is one. Pictures are inline (see
`poseact.common.html_page`); with `--no-images` there are none, with `--blur-faces` faces are blurred in them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from poseact.common.html_page import Raw, class_colours, esc, image, legend, page, seconds, strip, table
from poseact.label.segments import Segment

PRIVACY_NOTE = {
    "none": "No pictures of people (--no-images): tables and timelines only.",
    "blurred": "Pictures of people with every face the pose model found blurred (--blur-faces).",
    "plain": "Pictures of people as they appear in the video (--blur-faces blurs faces, --no-images leaves "
             "pictures out).",
}


@dataclasses.dataclass(frozen=True)
class Pictures:
    """A lecture's pictures of people (JPEG bytes).

    Attributes:
        thumbnails: person -> thumbnail.
        raises: (segment, time in s of the frame shown, snapshot) per hand raise shown.
        privacy: `plain`, `blurred` or `none` (no pictures were made).
    """

    thumbnails: dict[int, bytes]
    raises: list[tuple[Segment, float, bytes]]
    privacy: str


def _facts(summary: dict[str, Any], privacy: str) -> Raw:
    people = summary.get("people_per_frame", {})
    windows = summary.get("options", {}).get("windows", {})
    rows = [("video", summary["video"]), ("duration", seconds(summary["duration_s"])),
            ("frame size", f"{summary['width']} x {summary['height']} pixels"),
            ("frame rate", f"{summary['fps']:.2f} frames/s (labelled at {windows.get('fps', '?')} frames/s)"),
            ("model", summary["model"]), ("classes", ", ".join(summary["classes"])),
            ("persons", summary["persons"]), ("segments", summary["segments"]),
            ("people per frame", f"mean {people.get('mean', 0)}, most {people.get('max', 0)}"),
            ("tracker repairs", _repairs(summary)),
            ("pictures", PRIVACY_NOTE[privacy])]
    return table(None, rows, cls="facts")


def _repairs(summary: dict[str, Any]) -> str:
    """What the tracker mended or refused so that each person is listed once (`poseact.people.tracker`)."""
    return (f"{summary.get('tracks_merged_as_duplicates', 0)} tracks merged as duplicates (two tracks on one body), "
            f"{summary.get('jumps_refused', 0)} poses refused as jumps to another person, "
            f"{summary.get('poses_upside_down_refused', 0)} poses refused as upside down (on an object), "
            f"{summary.get('seats_left', 0)} poses refused as a student's face left their seat (their box in a class)")


def person_rows(summary: dict[str, Any], tracks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per person seen: hand raises, seconds writing and reading, time seen and first/last seen."""
    per_person = summary.get("per_person", {})
    # Frames are sampled at the model's rate, or every frame of a slower video.
    rates = [r for r in (float(summary.get("options", {}).get("windows", {}).get("fps") or 0),
                         float(summary.get("fps") or 0)) if r > 0]
    fps = min(rates) if rates else 1.0
    rows = []
    for track in sorted(tracks, key=lambda t: t["person"]):
        stats = per_person.get(str(track["person"]), {})
        frames = track.get("frames", track.get("frames_seen", 0))
        rows.append({"person": track["person"], "hand_raises": stats.get("hand_raises", 0),
                     "seconds_writing": stats.get("seconds_writing", 0.0),
                     "seconds_reading": stats.get("seconds_reading", 0.0), "seen_s": round(frames / fps, 1),
                     "first_s": track["first_s"], "last_s": track["last_s"]})
    return rows


def _person_card(row: dict[str, Any], segs: list[Segment], duration: float, colours: dict[str, str],
                 pictures: Pictures) -> str:
    person = row["person"]
    thumb = pictures.thumbnails.get(person)
    left = image(thumb, "image/jpeg", f"person {person}", "thumb") if thumb else ""
    stats = table(("hand raises", "writing", "reading", "time seen", "first seen", "last seen"),
                  [(row["hand_raises"], seconds(row["seconds_writing"]), seconds(row["seconds_reading"]),
                    seconds(row["seen_s"]), seconds(row["first_s"]), seconds(row["last_s"]))],
                  cls="stats", numeric=range(6))
    timeline = strip(((s.start_s, s.end_s, s.action, s.confidence) for s in segs), duration, colours)
    raises = [(s, t, jpeg) for s, t, jpeg in pictures.raises if s.person == person]
    shots = "".join(f'<figure>{image(jpeg, "image/jpeg", f"person {person} raising a hand at {t:.1f} s")}'
                    f"<figcaption>hand raise {seconds(s.start_s)} to {seconds(s.end_s)}</figcaption></figure>"
                    for s, t, jpeg in raises)
    more = row["hand_raises"] - len(raises)
    note = f'<p class="note">{more} more hand raise(s) without a snapshot.</p>' if more > 0 and pictures.privacy != "none" else ""
    return (f'<section class="card" id="person-{person}" data-person="{person}"><h2>Person {person}</h2>'
            f'<div class="person">{left}<div>{stats}{timeline}</div></div>'
            + (f'<div class="raises">{shots}</div>' if shots else "") + note + "</section>")


def lecture_page(summary: dict[str, Any], segs: Sequence[Segment], tracks: Sequence[dict[str, Any]],
                 pictures: Pictures, overlay: str | None = None) -> str:
    """The lecture's whole page.

    Args:
        summary: The lecture's `summary.json`.
        segs: Its segments.
        tracks: Its people (`poseact.label.lecture.merge_track_stats` rows).
        pictures: Thumbnails and snapshots (empty with `--no-images`).
        overlay: Relative link to the annotated video, if one was made.
    """
    colours = class_colours(summary["classes"])
    duration = max(summary["duration_s"], max((s.end_s for s in segs), default=0.0))
    others = sorted({s.action for s in segs} - set(colours))
    rows = person_rows(summary, tracks)
    body = [f"<h2>Video</h2>{_facts(summary, pictures.privacy)}"]
    if overlay:
        body.append(f'<p><a id="overlay" href="{esc(overlay)}">Annotated video ({esc(overlay)})</a>: skeletons, '
                    "ids and current actions drawn on every labelled frame.</p>")
    body.append(f"<h2>Timeline</h2>{legend(colours, others)}")
    overview = [(f'<a href="#person-{r["person"]}">person {r["person"]}</a>',
                 strip(((s.start_s, s.end_s, s.action, s.confidence) for s in segs if s.person == r["person"]),
                       duration, colours)) for r in rows]
    body.append(table(("", f"0 to {seconds(duration)}"), [(Raw(a), b) for a, b in overview], cls="overview")
                if rows else '<p class="note">Nobody was tracked in this video.</p>')
    body.append("<h2>People</h2>")
    body += [_person_card(r, [s for s in segs if s.person == r["person"]], duration, colours, pictures) for r in rows]
    name = os.path.basename(summary["video"].rstrip("/")) or summary["video"]
    return page(f"{name}: lecture report", f"Lecture report: {name}",
                f"{summary['persons']} persons, {seconds(summary['duration_s'])}, model {summary['model']}", body)


def index_page(lectures: Sequence[dict[str, Any]], failed: Sequence[dict[str, Any]], link: str = "lectures/{key}/report.html") -> str:
    """The output folder's index: one row per labelled lecture (linked to its page), then failed videos.

    Args:
        lectures: Every labelled lecture's `summary.json`.
        failed: Rows of `errors.jsonl`.
        link: Where a lecture's page is, relative to the index (`{key}` is the lecture's folder).
    """
    rows = []
    for s in sorted(lectures, key=lambda s: (s["video"], s["key"])):
        people = s.get("per_person", {}).values()
        name = os.path.basename(s["video"].rstrip("/")) or s["video"]
        href = esc(link.format(key=s["key"]))
        rows.append((Raw(f'<a class="lecture" href="{href}">{esc(name)}</a>'), seconds(s["duration_s"]), s["persons"],
                     sum(p.get("hand_raises", 0) for p in people),
                     seconds(sum(p.get("seconds_writing", 0.0) for p in people)),
                     seconds(sum(p.get("seconds_reading", 0.0) for p in people)), s["model"]))
    body = ["<h2>Lectures</h2>", table(("lecture", "duration", "persons", "hand raises", "writing", "reading", "model"),
                                       rows, cls="lectures", numeric=(1, 2, 3, 4, 5))
            if rows else '<p class="note">No lecture is labelled here yet.</p>']
    if failed:
        body += ["<h2>Failed videos</h2>", table(("video", "stage", "reason"),
                                                 [(r.get("uri", ""), r.get("stage", ""), r.get("reason", "")) for r in failed],
                                                 cls="failed")]
    return page("Labelled lectures", "Labelled lectures",
                f"{len(rows)} lecture(s) labelled, {len(failed)} failed", body)
