"""Keyframed skeletons for the demo's three actions, and a puppet (`poseact.demo.puppet`) that follows them.

Person units: lengths are in shoulder widths; x runs to the image right and y down from the shoulder
midpoint. Each arm has an outward sign `o`: -1 for the image-left arm, +1 for the image-right arm.

- `hand_raise`: both hands rest on the desk, then one arm swings up through the side (the upper arm
  outward, the forearm turning inward-up) until the wrist is above the head, holds there with a small
  sway, and comes back down (eased timings, drawn per clip).
- `writing`: head pitched down; one hand, a fist holding a pen, low in front on a sheet of paper, makes
  small quick strokes (a few % of shoulder width at 2-4 Hz) drifting along a line; the other hand rests.
- `reading`: head pitched down; both hands hold the sides of an open book, lying on the desk or lifted
  towards the reader, and stay still.
- `listening` (lecture only, not a class): sitting up, both hands resting on the desk.

`Style` draws every random choice of a clip (for every action alike, in the same order) so that
nothing but the action tells the classes apart.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import cv2
import numpy as np

from poseact.demo import limbs, puppet, scene

CLASSES: tuple[str, ...] = ("hand_raise", "writing", "reading")
LISTENING = "listening"
"""Sitting up with the hands resting on the desk: not a class of the demo clips, but most of a lecture
(students listen); the demo lecture's script uses it between actions."""
BLEND_S = 0.5  # seconds over which one scripted action blends into the next (lecture)
DESK_Y = (0.55, 0.75)  # the desk's back edge below the shoulder line, shoulder widths
# How far a fully nodded face moves down against the ears, shoulder widths (`Actor._nodded_head`). The eyes lie
# about 9 cm in front of the axis through the ears, so a 30-45 degree nod lowers them by 4.5-6.4 cm against the
# ears, 0.12-0.17 of a 37 cm shoulder width. MediaPipe moves its ear points part of the way with the face (on
# demo clips its eye-over-ear height fell by 0.02-0.06 sw at 0.12), and at 0.18 it lost the person in some frames.
NOD = 0.12


def smoothstep(x: float) -> float:
    """0 below 0, 1 above 1, and an S-curve between (no jerk at either end)."""
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm in person units.

    Attributes:
        elbow: (2,) elbow position.
        wrist: (2,) wrist position.
        hand: `open` or `fist` (holding a pen).
        angle: Direction of the fingers, radians (image coordinates).
    """

    elbow: np.ndarray
    wrist: np.ndarray
    hand: str
    angle: float


@dataclasses.dataclass(frozen=True)
class Pose:
    """The puppet at one instant.

    Attributes:
        pitch: Head pitch, 0 upright to 1 fully down.
        arms: Image-left arm, image-right arm.
        sway: (2,) whole-body offset in person units.
        book: Held book as (bottom centre (2,), width, lift), or None.
    """

    pitch: float
    arms: tuple[Arm, Arm]
    sway: np.ndarray
    book: tuple[np.ndarray, float, float] | None = None


def lerp_pose(a: Pose, b: Pose, w: float) -> Pose:
    """Blend two poses (w=0 gives `a`); hand shapes and the book switch half way."""
    arms = tuple(
        Arm(x.elbow + (y.elbow - x.elbow) * w, x.wrist + (y.wrist - x.wrist) * w, y.hand if w >= 0.5 else x.hand,
            x.angle + math.remainder(y.angle - x.angle, 2 * math.pi) * w)
        for x, y in zip(a.arms, b.arms, strict=True)
    )
    return Pose(a.pitch + (b.pitch - a.pitch) * w, arms, a.sway + (b.sway - a.sway) * w, b.book if w >= 0.5 else a.book)


@dataclasses.dataclass(frozen=True)
class Style:
    """Everything random about one clip's person and motion (see `draw_style`)."""

    side: int  # the active arm: 0 image-left, 1 image-right
    desk_y: float  # the desk's back edge below the shoulder line
    elbow_out: tuple[float, float]
    rest: tuple[np.ndarray, np.ndarray]  # resting wrists
    raise_times: tuple[float, float, float, float]  # start, up, hold, down (seconds)
    raise_angles: tuple[float, float]  # upper arm from vertical (outward), forearm from vertical (inward)
    write_at: np.ndarray  # x: towards the writing arm's side of the midline (no crossing the other hand)
    stroke: tuple[float, float, float, float]  # amplitude, Hz, drift per s, phase
    book: tuple[float, float, float]  # centre x, width, lift
    pitch: float  # how far down the head is while writing or reading
    drop: float  # eye drop at full pitch, shoulder widths
    squash: float  # vertical face scale at full pitch
    sway: tuple[float, float, float]  # amplitude, Hz, phase


def draw_style(rng: np.random.Generator) -> Style:
    """Draw a clip's style; every field is drawn every time, in a fixed order."""
    desk_y = rng.uniform(*DESK_Y)
    rest_x = rng.uniform(0.18, 0.32, size=2)
    rest_y = desk_y + rng.uniform(0.12, 0.24, size=2)
    start, up, hold, down = rng.uniform(0.15, 0.5), rng.uniform(0.4, 0.75), rng.uniform(1.0, 2.2), rng.uniform(0.4, 0.75)
    return Style(
        side=int(rng.integers(2)),
        desk_y=desk_y,
        elbow_out=tuple(rng.uniform(0.0, 0.15, size=2)),
        rest=(np.array([-rest_x[0], rest_y[0]]), np.array([rest_x[1], rest_y[1]])),
        raise_times=(start, up, hold, down),
        raise_angles=(math.radians(rng.uniform(25, 42)), math.radians(rng.uniform(3, 20))),
        write_at=np.array([rng.uniform(0.0, 0.15), desk_y + rng.uniform(0.14, 0.24)]),
        stroke=(rng.uniform(0.03, 0.06), rng.uniform(2.0, 4.0), rng.uniform(0.04, 0.1), rng.uniform(0, 2 * math.pi)),
        book=(rng.uniform(-0.08, 0.08), rng.uniform(0.55, 0.8), rng.uniform(0.0, 1.0)),
        pitch=rng.uniform(0.8, 1.0),
        # A reading posture bends the neck 30-45 degrees: the eyes sink 0.2-0.3 shoulder widths towards the
        # shoulders and the face foreshortens (poseact.label.rules: eyes 0.7 sw above the shoulders, 0.3 in front).
        drop=rng.uniform(0.22, 0.3),
        squash=rng.uniform(0.7, 0.8),
        sway=(rng.uniform(0.005, 0.02), rng.uniform(0.2, 0.6), rng.uniform(0, 2 * math.pi)),
    )


def _shoulder(side: int) -> np.ndarray:
    return np.array([-0.5 if side == 0 else 0.5, 0.0])


def _desk_arm(style: Style, side: int, wrist: np.ndarray, hand: str = "open", angle: float | None = None) -> Arm:
    o = -1.0 if side == 0 else 1.0
    elbow = _shoulder(side) + np.array([o * style.elbow_out[side], style.desk_y + 0.03])
    if angle is None:
        d = wrist - elbow
        angle = math.atan2(d[1], d[0])
    return Arm(elbow, wrist, hand, angle)


def _raised_arm(style: Style, side: int, u: float, t: float) -> Arm:
    """The active arm `u` of the way (0-1) from resting to raised."""
    o = -1.0 if side == 0 else 1.0
    shoulder = _shoulder(side)
    rest = _desk_arm(style, side, style.rest[side])
    alpha, beta = style.raise_angles
    up_elbow = shoulder + puppet.UPPER_ARM * np.array([o * math.sin(alpha), -math.cos(alpha)])
    wobble = 0.02 * math.sin(2 * math.pi * 1.3 * t) * smoothstep((u - 0.9) * 10)  # a keen student's sway
    up_wrist = up_elbow + puppet.FOREARM * np.array([-o * math.sin(beta + wobble), -math.cos(beta + wobble)])
    # Swing the upper arm through the side (outward) and the forearm through the inside, in polar form,
    # so the bones keep their lengths instead of sliding through the body. (Straightening the elbow on
    # the way instead, hand out and up, made MediaPipe lose the raised wrist more often.)
    upper = _swing(rest.elbow - shoulder, up_elbow - shoulder, u, -o)
    fore = _swing(rest.wrist - rest.elbow, up_wrist - up_elbow, u, o)
    elbow = shoulder + upper
    wrist = elbow + fore
    return Arm(elbow, wrist, "open", math.atan2(fore[1], fore[0]))


def _swing(a: np.ndarray, b: np.ndarray, u: float, turn: float) -> np.ndarray:
    """Interpolate vector `a` to `b`, turning clockwise (turn=+1, image coordinates) or anticlockwise."""
    start, end = math.atan2(a[1], a[0]), math.atan2(b[1], b[0])
    delta = (end - start) % (2 * math.pi) if turn > 0 else -((start - end) % (2 * math.pi))
    angle = start + delta * u
    length = np.linalg.norm(a) + (np.linalg.norm(b) - np.linalg.norm(a)) * u
    return length * np.array([math.cos(angle), math.sin(angle)])


def pose_at(style: Style, action: str, t: float, duration: float) -> Pose:
    """The keyframed pose of `action` at `t` seconds into a stretch of `duration` seconds.

    Raises:
        ValueError: Unknown action.
    """
    amp, hz, phase = style.sway
    sway = amp * np.array([math.sin(2 * math.pi * hz * t + phase), 0.5 * math.sin(2 * math.pi * hz * 0.7 * t)])
    active, other = style.side, 1 - style.side
    arms: list[Arm | None] = [None, None]
    book = None
    if action == "hand_raise":
        start, up, hold, down = style.raise_times
        spare = duration - start - up - down - 0.15
        hold = min(hold, max(spare, 0.3))  # short stretches shorten the hold, never the swing
        u = smoothstep((t - start) / up) - smoothstep((t - start - up - hold) / down)
        arms[active] = _raised_arm(style, active, u, t)
        arms[other] = _desk_arm(style, other, style.rest[other])
        pitch = 0.0
    elif action == "writing":
        a, f, drift, ph = style.stroke
        line = (drift * t) % 0.16  # the pen moves along a line, then back to the start of the next
        stroke = np.array([a * math.sin(2 * math.pi * f * t + ph) + line, 0.5 * a * math.sin(4 * math.pi * f * t)])
        o = -1.0 if active == 0 else 1.0
        at = np.array([o * style.write_at[0], style.write_at[1]])
        arms[active] = _desk_arm(style, active, at + stroke, "fist")
        arms[other] = _desk_arm(style, other, style.rest[other])
        pitch = style.pitch
    elif action == "reading":
        cx, width, lift = style.book
        bottom = np.array([cx, style.desk_y + 0.3 - 0.15 * lift])
        grip_y = bottom[1] - 0.12 - 0.25 * lift
        for side in (0, 1):
            o = -1.0 if side == 0 else 1.0
            wrist = np.array([cx + o * (width / 2 + 0.02), grip_y])
            arms[side] = _desk_arm(style, side, wrist, "open", -math.pi / 2 - o * math.radians(35))
        book = (bottom, width, lift)
        pitch = style.pitch
    elif action == LISTENING:
        for side in (0, 1):
            arms[side] = _desk_arm(style, side, style.rest[side])
        pitch = 0.0
    else:
        raise ValueError(f"unknown action {action!r}; expected one of {(*CLASSES, LISTENING)}")
    # A slow nod keeps a lowered head alive without lifting it.
    pitch = pitch * (1.0 - 0.08 * (0.5 + 0.5 * math.sin(2 * math.pi * 0.3 * t)))
    return Pose(pitch, (arms[0], arms[1]), sway, book)


@dataclasses.dataclass
class Actor:
    """A puppet placed on a canvas: its layers scaled once to canvas pixels.

    Attributes:
        cut: The photo's layers.
        scale: Canvas pixels per photo pixel.
        origin: Canvas position of the shoulder midpoint at rest.
        box: (x0, y0, x1, y1) canvas region the actor may draw in.
        style: Its motion style.
        cover: Colour of the book's cover.
    """

    cut: puppet.Cutout
    scale: float
    origin: np.ndarray
    box: tuple[int, int, int, int]
    style: Style
    cover: np.ndarray

    def __post_init__(self) -> None:
        s = self.scale
        self.rgb = cv2.resize(self.cut.rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        self.body = cv2.resize(self.cut.body, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        self.head = cv2.resize(self.cut.head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        self.body_bbox, self.head_bbox = _bbox(self.body), _bbox(self.head)
        self.sw = self.cut.shoulder_width * s
        self.mid = self.cut.shoulders.mean(axis=0) * s  # in the scaled photo
        arm_w = self.cut.arm_width * self.sw
        tex = self.cut.sleeve
        factor = arm_w / tex.shape[0]
        self.upper_tex = cv2.resize(tex, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        self.cuff_tex = cv2.resize(self.cut.cuff, (max(2, round(0.12 * self.sw)), max(2, round(arm_w))),
                                   interpolation=cv2.INTER_AREA)
        self.arm_w = arm_w
        self.hand_len = puppet.HAND * self.sw
        self.hands = {shape: limbs.hand_sprite(self.cut.skin, self.hand_len, shape) for shape in ("open", "fist")}

    def to_canvas(self, p: np.ndarray, sway: np.ndarray) -> np.ndarray:
        """Person units to canvas pixels."""
        return self.origin + (p + sway) * self.sw

    def _nodded_head(self, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The scaled photo and head alpha with the face turned down by `pitch` (0-1), and the alpha's bbox.

        A head nods about the axis through the ears: the face, in front of that axis, moves down, the ears
        and the sides of the head stay, and more of the crown shows. Seen from the front this is a vertical
        shift that is largest at the face's front and fades to 0 at the head's outline: `NOD * pitch` shoulder
        widths times the depth of an ellipsoid over the head (1 at its centre, 0 at its rim).
        """
        shift = pitch * NOD * self.sw
        if shift < 0.5:
            return self.rgb, self.head, self.head_bbox
        x0, y0, x1, y1 = (int(v) for v in self.head_bbox)
        y1 = min(self.head.shape[0], y1 + math.ceil(shift) + 1)  # the chin moves down past the old outline
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        map_y = (ys - shift * self._head_depth(xs, ys)).astype(np.float32)
        rgb, alpha = self.rgb.copy(), self.head.copy()
        rgb[y0:y1, x0:x1] = cv2.remap(self.rgb, xs, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha[y0:y1, x0:x1] = cv2.remap(self.head, xs, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return rgb, alpha, np.array([x0, y0, x1, y1], np.float64)

    def _head_depth(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """How far in front of the ears' axis points of the scaled photo lie: 1 at the face's centre (between
        the eyes, half way down the head), 0 on the head's bounding box (an ellipsoid, its left and right halves
        stretched to each side of the face)."""
        x0, y0, x1, y1 = self.head_bbox
        centre_x = self.cut.eyes.mean(axis=0)[0] * self.scale
        dx = np.asarray(xs) - centre_x
        u = dx / np.where(dx < 0, centre_x - x0, x1 - centre_x)
        v = (np.asarray(ys) - 0.5 * (y0 + y1)) / (0.5 * (y1 - y0))
        return np.sqrt(np.clip(1.0 - u ** 2 - v ** 2, 0.0, 1.0))

    def _layer(self, canvas: np.ndarray, alpha: np.ndarray, bbox: np.ndarray, linear: np.ndarray,
               offset: np.ndarray, photo: np.ndarray | None = None) -> None:
        """Warp the scaled photo (or `photo`) under `alpha` (non-zero in `bbox`) onto the canvas and blend it."""
        corners = np.array([[bbox[0], bbox[1]], [bbox[2], bbox[1]], [bbox[0], bbox[3]], [bbox[2], bbox[3]]])
        placed = corners @ linear.T + offset
        x0, y0, x1, y1 = self.box
        box = (max(x0, int(placed[:, 0].min())), max(y0, int(placed[:, 1].min())),
               min(x1, math.ceil(placed[:, 0].max()) + 1), min(y1, math.ceil(placed[:, 1].max()) + 1))
        if box[2] <= box[0] or box[3] <= box[1]:
            return
        # Only the layer's own bounding box is warped and blended: most of an actor's box is empty.
        matrix = np.hstack([linear, (offset - np.array(box[:2]))[:, None]]).astype(np.float32)
        size = (box[2] - box[0], box[3] - box[1])
        rgb = cv2.warpAffine(self.rgb if photo is None else photo, matrix, size, flags=cv2.INTER_LINEAR)
        limbs.blend(canvas, rgb, cv2.warpAffine(alpha, matrix, size, flags=cv2.INTER_LINEAR), box)

    def render(self, canvas: np.ndarray, pose: Pose, front: Callable[[np.ndarray], None] | None) -> dict[str, np.ndarray]:
        """Draw the actor in `pose` on `canvas` (float32); `front` draws what is in front of its body (a desk).

        Returns:
            The drawn skeleton in canvas pixels: `shoulders`, `elbows`, `wrists`, `eyes`, each (2, 2),
            image-left first.
        """
        shift = self.origin + pose.sway * self.sw - self.mid  # scaled photo to canvas, a translation
        self._layer(canvas, self.body, self.body_bbox, np.eye(2), shift)
        # The head pitches down: it scales towards the neck and drops towards the shoulders.
        fy = 1.0 - pose.pitch * (1.0 - self.style.squash)
        neck = self.cut.neck_y * self.scale
        drop = pose.pitch * self.style.drop * self.sw
        head_offset = shift + np.array([0.0, (1 - fy) * neck + drop])
        rgb, alpha, bbox = self._nodded_head(pose.pitch)
        self._layer(canvas, alpha, bbox, np.diag([1.0, fy]), head_offset, rgb)
        if front is not None:
            front(canvas)
        if pose.book is not None:
            bottom, width, lift = pose.book
            scene.book(canvas, self.to_canvas(bottom, pose.sway), width * self.sw, (0.22 + 0.3 * lift) * self.sw,
                       self.cover, lift)
        shoulders = self.cut.shoulders * self.scale + shift
        elbows, wrists = np.zeros((2, 2)), np.zeros((2, 2))
        for side in np.argsort([arm.wrist[1] for arm in pose.arms])[::-1]:  # raised arm last, over the other
            arm = pose.arms[side]
            elbow, wrist = self.to_canvas(arm.elbow, pose.sway), self.to_canvas(arm.wrist, pose.sway)
            limbs.paste_limb(canvas, self.upper_tex, shoulders[side], elbow, self.arm_w)
            limbs.paste_limb(canvas, self.upper_tex, elbow, wrist, self.arm_w * 0.8)
            # A cuff closes the sleeve: a clear edge where the hand starts, which is where MediaPipe puts
            # the wrist (with the orange suit sleeve against skin, it was often lost).
            along = (wrist - elbow) / max(float(np.linalg.norm(wrist - elbow)), 1e-6)
            limbs.paste_limb(canvas, self.cuff_tex, wrist - along * 0.06 * self.sw, wrist, self.arm_w * 0.85)
            thumb = _thumb(arm.angle, side)
            limbs.paste_hand(canvas, self.hands[arm.hand], self.hand_len, wrist, arm.angle, thumb)
            elbows[side], wrists[side] = elbow, wrist
        eyes = self.cut.eyes * self.scale
        eyes = (eyes + np.array([0.0, 1.0]) * pose.pitch * NOD * self.sw * self._head_depth(*eyes.T)[:, None])
        eyes = eyes * np.array([1.0, fy]) + head_offset
        return {"shoulders": shoulders, "elbows": elbows, "wrists": wrists, "eyes": eyes}


def _bbox(alpha: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) of the pixels of `alpha` above 1/255."""
    ys, xs = np.nonzero(alpha > 1.0 / 255.0)
    if xs.size == 0:
        return np.zeros(4)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)


def _thumb(angle: float, side: int) -> float:
    """+1 or -1 so that the thumb points inward and upward, as it does for a palm facing the camera."""
    o = -1.0 if side == 0 else 1.0
    normal = np.array([math.sin(angle), -math.cos(angle)])  # the sprite's thumb side (-y) after rotation
    want = np.array([-o, -1.0])
    return 1.0 if float(normal @ want) >= 0 else -1.0
