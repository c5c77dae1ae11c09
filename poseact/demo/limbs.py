"""Pasting cut-out limbs and hands onto a canvas (float32 RGB, values 0-255).

A limb is a texture strip placed with a rigid transform along a bone, with round ends and a soft
shadow; a hand is skin cut into a hand outline and placed at the wrist. Coordinates are (x, y) pixels,
y pointing down; boxes are (x0, y0, x1, y1).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Point = tuple[float, float]


def blend(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Alpha-blend `rgb` (float32, box-sized) into `canvas` (float32) over `box` = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    region = canvas[y0:y1, x0:x1]
    # OpenCV's weighted blend is about 5x faster than the same sum in NumPy (it is most of a frame's cost).
    region[:] = cv2.blendLinear(np.ascontiguousarray(region), rgb, 1.0 - alpha, alpha)


def _clip_box(points: np.ndarray, pad: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = size
    lo = np.floor(points.min(axis=0) - pad).astype(int)
    hi = np.ceil(points.max(axis=0) + pad).astype(int)
    return max(0, lo[0]), max(0, lo[1]), min(width, hi[0]), min(height, hi[1])


def paste_limb(canvas: np.ndarray, texture: np.ndarray, start: np.ndarray, end: np.ndarray, width: float) -> None:
    """Paste a textured limb (a strip with round ends) from `start` to `end` (canvas pixels).

    The texture's length axis is stretched to the limb's length plus its width (the round caps), and its
    other axis to `width`: a rigid placement of the cut-out strip, scaled to the limb.
    """
    height, canvas_width = canvas.shape[:2]
    length = float(np.linalg.norm(end - start))
    along = (end - start) / max(length, 1e-6)
    across = np.array([-along[1], along[0]])
    a = start - along * width / 2 - across * width / 2
    box = _clip_box(np.stack([start, end]), width, (canvas_width, height))
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    origin = np.array([x0, y0], np.float64)
    tex_h, tex_w = texture.shape[:2]
    source = np.float32([[0, 0], [tex_w, 0], [0, tex_h]])
    target = np.float32([a - origin, a + along * (length + width) - origin, a + across * width - origin])
    matrix = cv2.getAffineTransform(source, target)
    rgb = cv2.warpAffine(texture, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    # OpenCV draws thick lines with round ends: the caps of a limb.
    shift = 4
    p, q = (np.round((start - origin) * (1 << shift)).astype(int), np.round((end - origin) * (1 << shift)).astype(int))
    cv2.line(mask, tuple(int(v) for v in p), tuple(int(v) for v in q), 255, max(1, round(width)), cv2.LINE_AA, shift)
    alpha = mask.astype(np.float32) / 255.0
    # A soft shadow round the limb: an arm in front of a same-coloured body stays visible, as in real light.
    shade = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.12 * width))
    canvas[y0:y1, x0:x1] *= 1.0 - 0.45 * shade[..., None]
    blend(canvas, rgb, alpha, box)


def hand_sprite(skin: np.ndarray, length: float, shape: str) -> tuple[np.ndarray, np.ndarray]:
    """A hand cut from skin, pointing along +x with the wrist at the sprite's (length/4, height/2).

    Args:
        skin: (h, w, 3) float32 skin texture.
        cuff: (h, w, 3) float32 cuff texture.
        length: Wrist to finger tips, in pixels.
        shape: `open` (palm, four fingers and a thumb towards -y) or `fist` (curled fingers round a pen).

    Returns:
        RGB float32 and alpha float32 images, (round(0.9 * length), round(1.5 * length)).
    """
    h, w = round(0.9 * length), round(1.5 * length)
    wrist = np.array([length / 4, h / 2])
    unit = length
    mask = np.zeros((h, w), np.uint8)
    lines = np.zeros((h, w), np.uint8)  # creases between fingers, drawn darker

    def at(x: float, y: float) -> tuple[int, int]:
        return (round(wrist[0] + x * unit), round(wrist[1] + y * unit))

    def capsule(target: np.ndarray, p: Point, q: Point, radius: float, value: int = 255) -> None:
        cv2.line(target, at(*p), at(*q), value, max(1, round(2 * radius * unit)), cv2.LINE_AA)

    if shape == "open":
        cv2.ellipse(mask, at(0.3, 0.0), (round(0.3 * unit), round(0.21 * unit)), 0, 0, 360, 255, -1, cv2.LINE_AA)
        for offset, tip in ((-0.135, 0.86), (-0.045, 1.0), (0.045, 0.97), (0.135, 0.84)):
            capsule(mask, (0.45, offset), (tip - 0.05, offset * 1.2), 0.048)
            capsule(lines, (0.62, offset + 0.045), (tip - 0.12, offset * 1.2 + 0.045), 0.006)
        capsule(mask, (0.12, -0.16), (0.42, -0.36), 0.06)
    elif shape == "fist":
        cv2.ellipse(mask, at(0.26, 0.0), (round(0.27 * unit), round(0.2 * unit)), 0, 0, 360, 255, -1, cv2.LINE_AA)
        for offset in (-0.09, 0.0, 0.09):
            capsule(lines, (0.4, offset), (0.5, offset), 0.006)
        capsule(mask, (0.15, -0.15), (0.42, -0.2), 0.06)
    else:
        raise ValueError(f"unknown hand shape {shape!r}; expected 'open' or 'fist'")
    rgb = cv2.resize(skin, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32) / 255.0
    # Shade the rim and the creases: a flat skin-coloured blob does not read as a hand.
    inner = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.05 * unit))
    rgb = rgb * (0.7 + 0.3 * inner[..., None]) * (1.0 - 0.35 * lines[..., None].astype(np.float32) / 255.0)
    if shape == "fist":
        # The pen: dark barrel from the fist to the page, ending in a point.
        cv2.line(rgb, at(0.3, 0.05), at(0.95, 0.42), (30.0, 40.0, 110.0), max(1, round(0.05 * unit)), cv2.LINE_AA)
        cv2.line(alpha, at(0.3, 0.05), at(0.95, 0.42), 1.0, max(1, round(0.05 * unit)), cv2.LINE_AA)
    return rgb.astype(np.float32), alpha


def paste_hand(canvas: np.ndarray, sprite: tuple[np.ndarray, np.ndarray], length: float, wrist: np.ndarray,
               direction: float, thumb: float) -> None:
    """Paste a hand sprite (see `hand_sprite`) with its wrist at `wrist`, pointing at `direction` radians.

    Args:
        canvas: float32 canvas.
        sprite: RGB and alpha from `hand_sprite` for this `length`.
        length: The sprite's hand length, in pixels.
        wrist: Where the wrist goes.
        direction: Angle of the fingers (image coordinates, y down).
        thumb: +1 keeps the sprite's thumb side (-y), -1 mirrors it.
    """
    rgb, alpha = sprite
    h = rgb.shape[0]
    anchor = np.array([length / 4, h / 2])
    c, s = math.cos(direction), math.sin(direction)
    linear = np.array([[c, -s], [s, c]]) @ np.diag([1.0, thumb])
    height, width = canvas.shape[:2]
    box = _clip_box(np.stack([wrist]), 1.2 * length, (width, height))
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    offset = wrist - np.array([x0, y0]) - linear @ anchor
    matrix = np.hstack([linear, offset[:, None]])
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(rgb, matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(alpha, matrix, size, flags=cv2.INTER_LINEAR)
    blend(canvas, warped, mask, box)
