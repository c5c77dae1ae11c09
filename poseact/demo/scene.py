"""Drawn surroundings for the demo's puppets: backgrounds, desks, a sheet of paper and a book.

Everything is drawn with OpenCV on float32 RGB canvases (values 0-255), from a seeded generator, so a
scene is the same for the same seed. Nothing here shows a person: people come from real photos
(`poseact.demo.puppet`); these props only vary what is around them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

BACKGROUNDS: tuple[str, ...] = ("plain", "gradient", "classroom")

DESKS = ((166, 120, 76), (190, 150, 100), (120, 84, 56), (200, 180, 150), (150, 150, 150))
"""Desk-top colours (RGB)."""
COVERS = ((160, 40, 40), (40, 70, 140), (40, 110, 60), (200, 150, 40), (90, 60, 110))
"""Book cover colours (RGB)."""
_WALLS = ((214, 206, 186), (190, 200, 210), (226, 221, 210), (176, 190, 168), (205, 185, 165), (150, 160, 175))
_WOODS = ((166, 120, 76), (190, 150, 100), (120, 84, 56), (200, 180, 150), (140, 140, 140))


def pick(rng: np.random.Generator, palette) -> np.ndarray:
    """One colour of `palette`, as float32 RGB."""
    return np.asarray(palette[int(rng.integers(len(palette)))], np.float32)


def _colour(rng: np.random.Generator, palette) -> np.ndarray:
    base = np.asarray(palette[int(rng.integers(len(palette)))], np.float32)
    return np.clip(base + rng.uniform(-18, 18, size=3), 0, 255).astype(np.float32)


def _pt(p) -> tuple[int, int]:
    return (round(float(p[0])), round(float(p[1])))


def background(size: tuple[int, int], kind: str, rng: np.random.Generator) -> np.ndarray:
    """A background canvas.

    Args:
        size: (width, height).
        kind: One of `BACKGROUNDS`: a plain wall, a vertical gradient, or a classroom (wall, board, window,
            empty desks and chairs further back, floor).
        rng: Source of colours and layout.

    Returns:
        (height, width, 3) float32 RGB.

    Raises:
        ValueError: Unknown kind.
    """
    width, height = size
    wall = _colour(rng, _WALLS)
    if kind == "plain":
        return np.broadcast_to(wall, (height, width, 3)).copy()
    if kind == "gradient":
        other = _colour(rng, _WALLS) * rng.uniform(0.6, 1.0)
        ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        return np.broadcast_to(wall * (1 - ramp) + other * ramp, (height, width, 3)).copy()
    if kind != "classroom":
        raise ValueError(f"unknown background {kind!r}; expected one of {BACKGROUNDS}")
    canvas = np.broadcast_to(wall, (height, width, 3)).copy()
    floor_y = round(height * rng.uniform(0.55, 0.7))
    canvas[floor_y:] = _colour(rng, _WOODS) * 0.8
    # A board: green or black chalkboard, or a whiteboard, in an aluminium frame.
    bw, bh = width * rng.uniform(0.35, 0.6), height * rng.uniform(0.18, 0.28)
    bx, by = rng.uniform(0.0, width - bw), height * rng.uniform(0.05, 0.15)
    board = ((40, 70, 50), (35, 38, 40), (235, 238, 240))[int(rng.integers(3))]
    cv2.rectangle(canvas, _pt((bx - 4, by - 4)), _pt((bx + bw + 4, by + bh + 4)), (170, 170, 175), -1)
    cv2.rectangle(canvas, _pt((bx, by)), _pt((bx + bw, by + bh)), board, -1)
    ink = (200, 200, 200) if board[0] < 100 else (60, 60, 160)
    for row in range(int(rng.integers(2, 5))):  # scribbles: lines of "writing" on the board
        y = by + bh * (0.2 + 0.18 * row)
        x = bx + bw * 0.08
        while x < bx + bw * rng.uniform(0.5, 0.9):
            step = bw * rng.uniform(0.03, 0.09)
            cv2.line(canvas, _pt((x, y)), _pt((x + step, y + rng.uniform(-2, 2))), ink, 2, cv2.LINE_AA)
            x += step * 1.3
    if rng.random() < 0.6:  # a window
        wx = rng.uniform(0, width * 0.85)
        cv2.rectangle(canvas, _pt((wx, by)), _pt((wx + width * 0.14, by + height * 0.3)), (225, 235, 245), -1)
        cv2.rectangle(canvas, _pt((wx, by)), _pt((wx + width * 0.14, by + height * 0.3)), (240, 240, 240), 3)
    # Empty desks further back, smaller and partly hidden by the student and their own desk.
    wood = _colour(rng, _WOODS)
    for _ in range(int(rng.integers(2, 5))):
        dw = width * rng.uniform(0.15, 0.25)
        dx, dy = rng.uniform(-0.1, 0.95) * width, floor_y - height * rng.uniform(0.0, 0.06)
        cv2.rectangle(canvas, _pt((dx + dw * 0.1, dy - dw * 0.55)), _pt((dx + dw * 0.3, dy - dw * 0.2)),
                      tuple(float(v) for v in wood * 0.6), -1)  # a chair back
        cv2.rectangle(canvas, _pt((dx, dy - dw * 0.2)), _pt((dx + dw, dy - dw * 0.14)), tuple(float(v) for v in wood), -1)
        cv2.rectangle(canvas, _pt((dx + 3, dy - dw * 0.14)), _pt((dx + dw - 3, dy + dw * 0.18)),
                      tuple(float(v) for v in wood * 0.7), -1)
    return cv2.GaussianBlur(canvas, (0, 0), 1.0)  # soften the drawn edges a little, like an out-of-focus wall


def desk(canvas: np.ndarray, left: float, right: float, top: float, depth: float, colour: np.ndarray,
         bottom: float | None = None) -> None:
    """Draw a desk seen from the front and a little above: its top as a band, its front panel below.

    Args:
        canvas: float32 RGB canvas, drawn on in place.
        left: Left end of the desk's back edge (pixels).
        right: Right end of the back edge.
        top: Row of the back edge.
        depth: Height of the top band in the image; the front panel runs from there to the canvas bottom.
        colour: RGB of the top.
        bottom: Lower edge of the front panel; default the canvas bottom.
    """
    height = canvas.shape[0] if bottom is None else bottom
    spread = 0.08 * (right - left)  # the near edge looks wider: perspective
    top_band = np.array([(left, top), (right, top), (right + spread, top + depth), (left - spread, top + depth)])
    cv2.fillPoly(canvas, [np.round(top_band).astype(np.int32)], tuple(float(v) for v in colour), cv2.LINE_AA)
    for k in range(1, 5):  # grain
        y = top + depth * k / 5
        cv2.line(canvas, _pt((left, y)), _pt((right, y)), tuple(float(v) * 0.93 for v in colour), 1, cv2.LINE_AA)
    front = np.array([(left - spread, top + depth), (right + spread, top + depth), (right + spread, height),
                      (left - spread, height)])
    cv2.fillPoly(canvas, [np.round(front).astype(np.int32)], tuple(float(v) * 0.72 for v in colour), cv2.LINE_AA)
    cv2.line(canvas, _pt((left - spread, top + depth)), _pt((right + spread, top + depth)),
             tuple(float(v) * 1.1 for v in colour), 2, cv2.LINE_AA)


def paper(canvas: np.ndarray, centre: np.ndarray, width: float, height: float, angle: float) -> None:
    """Draw a sheet of lined paper lying on the desk (a parallelogram), `angle` radians from horizontal."""
    c, s = math.cos(angle), math.sin(angle)
    along, down = np.array([c, s]) * width / 2, np.array([-s, c]) * height / 2
    corners = np.array([centre - along - down, centre + along - down, centre + along + down, centre - along + down])
    cv2.fillPoly(canvas, [np.round(corners).astype(np.int32)], (246, 246, 240), cv2.LINE_AA)
    for k in range(1, 6):
        f = -1 + 2 * k / 6
        p, q = centre - along * 0.85 + down * f, centre + along * 0.85 + down * f
        cv2.line(canvas, _pt(p), _pt(q), (170, 180, 215), 1, cv2.LINE_AA)


def book(canvas: np.ndarray, centre: np.ndarray, width: float, height: float, cover: np.ndarray, lift: float) -> None:
    """Draw an open book: two pages with lines of text in a coloured cover.

    Args:
        canvas: float32 RGB canvas.
        centre: Centre of the book's bottom edge.
        width: Width of the open book.
        height: Height of the pages in the image (a book lying flat looks short, a held-up one tall).
        cover: RGB of the cover.
        lift: 0 lying flat to 1 held up: the top edge narrows less as the book faces the camera.
    """
    narrow = 0.12 * (1 - lift) * width  # the far edge of a flat book looks narrower
    bl, br = centre + (-width / 2, 0), centre + (width / 2, 0)
    tl, tr = centre + (-width / 2 + narrow, -height), centre + (width / 2 - narrow, -height)
    margin = 0.04 * width
    outer = np.array([bl + (-margin, margin), br + (margin, margin), tr + (margin, -margin), tl + (-margin, -margin)])
    cv2.fillPoly(canvas, [np.round(outer).astype(np.int32)], tuple(float(v) for v in cover), cv2.LINE_AA)
    spine_b, spine_t = (bl + br) / 2, (tl + tr) / 2
    for a, b, c, d in ((bl, spine_b, spine_t, tl), (spine_b, br, tr, spine_t)):
        page = np.array([a, b, c, d])
        cv2.fillPoly(canvas, [np.round(page).astype(np.int32)], (240, 236, 226), cv2.LINE_AA)
        for k in range(1, 8):  # lines of print
            f = k / 8
            p, q = a + (d - a) * f, b + (c - b) * f
            cv2.line(canvas, _pt(p + (q - p) * 0.1), _pt(p + (q - p) * 0.88), (120, 120, 120), 1, cv2.LINE_AA)
    cv2.line(canvas, _pt(spine_b), _pt(spine_t), (150, 140, 130), 1, cv2.LINE_AA)
