"""The demo lecture: a classroom of students who raise hands, write and read at scripted times.

Students are the demo's cut-out puppets (`poseact.demo.animate`) in two rows, each behind a desk with an
open book, over a drawn classroom. Each student follows its own script of consecutive segments: reading
or writing for 4-8 s, and now and then a hand raise of 3.5-5 s, always between two segments of reading
or writing (a student looks up from the book, raises a hand, and goes back to work). Between two segments
the pose blends over half a second. The script is the ground truth, with each student's box (the region
its puppet can occupy, raised hand included) so that labels can be matched to students by position.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from poseact.demo import animate as anim
from poseact.demo import media, scene

LECTURE_SIZE: tuple[int, int] = (1280, 720)
"""Default demo lecture size, (width, height): 720p, like a classroom camera."""
RAISE_S = (3.5, 5.0)  # hand raise segment lengths
# Per row: shoulder width (fraction of the frame width) and the span its students are spread over. The
# back row sits between the front row's students, so heads in front never hide the hands behind.
_ROWS = ((0.1, (0.3, 0.7)), (0.115, (0.06, 0.94)))
_RAISE_ROOM = 2.15  # shoulder widths above the shoulder line that a raised hand needs
# Shoulder widths below the desk's back edge that a front-row student's hands need in the frame: resting or
# writing wrists lie up to 0.24 below it and a hand reaches 0.46 beyond the wrist (`puppet.HAND`). With 0.45,
# the hands of the front row were cut by the frame's bottom edge and MediaPipe gave their wrists a visibility
# under 0.5 (no vote): their writing read as reading.
_HANDS_ROOM = 0.8


def make_script(rng: np.random.Generator, seconds: float, segment_s: tuple[float, float] = (4.0, 8.0)) -> list[tuple[float, float, str]]:
    """One student's segments `(start_s, end_s, action)`, covering `[0, seconds)`.

    A lecture is mostly listening: the student sits up (`animate.LISTENING`) first, last and between
    actions, and each action (reading, writing, or a hand raise) starts from listening. That is also what
    a person's upright posture is learned from (`poseact.label.rules` compares a bowed head with it). Every
    action appears at least once when `seconds` leaves room (drawn again until it does).

    Args:
        rng: Source of the choices.
        seconds: Length of the lecture.
        segment_s: Range of reading, writing and listening segment lengths.

    Returns:
        Consecutive segments.
    """
    actions = ("reading", "writing", "hand_raise")
    segments: list[tuple[float, float, str]] = []
    for _attempt in range(100):
        segments, t, previous, done = [], 0.0, None, set()
        while seconds - t > 1e-9:
            if previous in (None, *actions):
                action = anim.LISTENING
                length = float(rng.uniform(segment_s[0] * 0.6, segment_s[1] * 0.6))
            else:
                left = [a for a in actions if a not in done] or list(actions)
                action = left[int(rng.integers(len(left)))]
                length = float(rng.uniform(*(RAISE_S if action == "hand_raise" else segment_s)))
                shortest = RAISE_S[0] if action == "hand_raise" else segment_s[0]
                if seconds - t < shortest + segment_s[0] * 0.6:
                    # No room for the action and the listening after it: the listening goes on to the end.
                    start, _, _ = segments.pop()
                    segments.append((start, round(seconds, 3), anim.LISTENING))
                    break
            if seconds - t - length < segment_s[0] * 0.6:
                length = seconds - t  # a short tail joins the last segment
            segments.append((round(t, 3), round(t + length, 3), action))
            t, previous = t + length, action
            done.add(action)
        if set(actions) <= done or seconds < 3 * segment_s[1]:
            return segments
    return segments


@dataclasses.dataclass
class _Student:
    actor: anim.Actor
    segments: list[tuple[float, float, str]]
    desk: tuple[float, float, float, float, float]  # left, right, top, depth, bottom
    wood: np.ndarray


def _student(index: int, students: int, size: tuple[int, int], rng: np.random.Generator,
             seconds: float, segment_s: tuple[float, float]) -> _Student:
    from poseact.demo import puppet  # noqa: PLC0415

    width, height = size
    # Up to two students share the front row; more fill a back row too (the smaller half).
    per_row = (students // 2, students - students // 2) if students > 2 else (0, students)
    row = 0 if index < per_row[0] else 1
    col = index - row * per_row[0]
    shoulder, (left, right) = _ROWS[row]
    sw = shoulder * width * rng.uniform(0.95, 1.05)
    x = left + (right - left) * (col + 0.5) / per_row[row]
    style = anim.draw_style(rng)
    if row == 0:
        line = _RAISE_ROOM * sw + 4
    else:
        # The front row's hands must be in view: what a student writes or holds is the ground truth.
        line = height - (style.desk_y + _HANDS_ROOM) * sw
    origin = np.array([(x + rng.uniform(-0.02, 0.02)) * width, line])
    # Alternate people along and across rows, and mirror the front row: four students, four looks.
    person = media.PEOPLE[(col + row) % len(media.PEOPLE)]
    mirrored = row == 1
    # The hold fills the raise segment; the book lies open on the desk for the whole lecture.
    _, up, _, down = style.raise_times
    style = dataclasses.replace(style, raise_times=(0.1, up, 99.0, down), book=(style.book[0], style.book[1], 0.0))
    segments = make_script(rng, seconds, segment_s)
    top = origin[1] + style.desk_y * sw
    bottom = height if row == 1 else top + 1.1 * sw
    desk = (origin[0] - 1.4 * sw, origin[0] + 1.4 * sw, top, 0.4 * sw, bottom)
    box = (max(0, int(origin[0] - 1.6 * sw)), max(0, int(origin[1] - 2.2 * sw)),
           min(width, math.ceil(origin[0] + 1.6 * sw)), min(height, math.ceil(bottom)))
    cut = puppet.cutout(person, mirrored)
    cover = scene.pick(rng, scene.COVERS)
    wood = scene.pick(rng, scene.DESKS)
    return _Student(anim.Actor(cut, sw / cut.shoulder_width, origin, box, style, cover), segments, desk, wood)


def _pose(student: _Student, t: float) -> anim.Pose:
    segments, style = student.segments, student.actor.style
    k = next((i for i, (s, e, _) in enumerate(segments) if s <= t < e), len(segments) - 1)
    start, end, action = segments[k]
    pose = anim.pose_at(style, action, t - start, end - start)
    if k > 0 and t - start < anim.BLEND_S:
        p_start, p_end, p_action = segments[k - 1]
        before = anim.pose_at(style, p_action, p_end - p_start, p_end - p_start)
        pose = anim.lerp_pose(before, pose, anim.smoothstep((t - start) / anim.BLEND_S))
    return dataclasses.replace(pose, book=None)  # the book is drawn with the desk


def make_demo_lecture(
    path: str,
    *,
    seconds: float = 40.0,
    fps: float = media.FPS,
    size: tuple[int, int] = LECTURE_SIZE,
    students: int = 4,
    seed: int = 0,
    segment_s: tuple[float, float] = (4.0, 8.0),
) -> list[dict[str, object]]:
    """Write a multi-person demo lecture and return its script.

    Students sit in two rows (back row first, numbered left to right), about a tenth of the frame wide
    at the shoulders: small enough that MediaPipe's whole-frame detector misses some of them.

    Args:
        path: Local `.mp4` path (its folder must exist).
        seconds: Duration.
        fps: Frame rate.
        size: Frame size (width, height).
        students: How many people (at least 1).
        seed: Script and placement seed.
        segment_s: Range of reading and writing segment lengths (hand raises take `RAISE_S`).

    Returns:
        One row per segment: `student`, `start_s`, `end_s`, `action`, and the student's box `x0`, `y0`,
        `x1`, `y1` in pixels.

    Raises:
        ValueError: `students` below 1.
    """
    if students < 1:
        raise ValueError(f"students must be at least 1, got {students}")
    rng = np.random.default_rng(seed)
    backdrop = scene.background(size, "classroom", rng)
    cast = [_student(i, students, size, rng, seconds, segment_s) for i in range(students)]

    def frames():
        for index in range(max(1, round(fps * seconds))):
            t = index / fps
            canvas = backdrop.copy()
            for student in cast:  # back row first: the front row hides it
                left, right, top, depth, bottom = student.desk
                style = student.actor.style

                def front(c: np.ndarray, student=student, left=left, right=right, top=top, depth=depth,
                          bottom=bottom, style=style) -> None:
                    scene.desk(c, left, right, top, depth, student.wood, bottom)
                    bottom_edge = np.array([style.book[0], style.desk_y + 0.3])
                    scene.book(c, student.actor.to_canvas(bottom_edge, np.zeros(2)), style.book[1] * student.actor.sw,
                               0.22 * student.actor.sw, student.actor.cover, 0.0)

                student.actor.render(canvas, _pose(student, t), front)
            yield np.clip(canvas, 0, 255).astype(np.uint8)

    media.write_video(path, frames(), fps)
    script: list[dict[str, object]] = []
    for number, student in enumerate(cast):
        x0, y0, x1, y1 = student.actor.box
        for start, end, action in student.segments:
            script.append({"student": number, "start_s": start, "end_s": end, "action": action,
                           "x0": x0, "y0": y0, "x1": x1, "y1": y1})
    return script
