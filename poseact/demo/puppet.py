"""Cut-out puppets made from real photos: a body, a head and textured arms that a skeleton moves.

A photo of a person becomes four layers (see `Cutout`):
- the body: the person's silhouette with the arms and the head cut away;
- the head: the silhouette above the neck, which turns down by moving towards the shoulder line and
  foreshortening (the neck bends), and by nodding: the face moves down against the ears and the crown
  (`animate.Actor`), which is what a head pitched down looks like from the front;
- the arms: upper arm and forearm pasted back as strips of the photo's own sleeve, each with a rigid
  transform (rotation, translation and a length) from shoulder to elbow to wrist;
- the hands: skin cut from the photo's own cheek into a hand outline (an open hand, or a fist holding
  a pen), pasted at the wrist along the forearm, behind a cuff cut from the photo (a glove ring, a
  shirt) that marks where the hand starts.

The silhouettes, arm cuts and landmarks of each photo are constants below, in the photo's pixels. The
silhouettes were traced from MediaPipe's own segmentation mask of the photo and the landmarks from
MediaPipe's pose landmarker (full model), then the arm cuts were drawn by hand; traced once, they need no
model at generation time. Arms are cut out of the body layer and not inpainted: the body is composited
over a drawn background, so the hole an arm leaves shows that background, as it would in a real scene.
Only a seam is inpainted (`cv2.inpaint`): where an arm cut crosses the body, the cut's edge pixels
take the colours around them so that no sleeve fringe stays on the torso.

Pasting limbs and hands is `poseact.demo.limbs`. Coordinates: images are (H, W, C) arrays; points are
(x, y) in pixels, y pointing down.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

from poseact.demo.media import person_photos

Point = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class PhotoRig:
    """Where things are in one photo (pixels of that photo).

    Attributes:
        outline: The person's silhouette (head, body and arms).
        arm_cuts: Regions cut away as the image-left and the image-right arm.
        shoulders: Shoulder joints, image-left first (MediaPipe's landmarks 12 and 11 for a person facing
            the camera).
        neck_y: The head layer is the silhouette above this row.
        eyes: Eye centres, image-left first.
        skin: Box (x0, y0, x1, y1) of bare skin (a cheek) that hands are cut from.
        cuff: Box of what closes the sleeve at the wrist (a glove ring, a shirt cuff).
        sleeve: Start, end and width of a strip along a sleeve that arms are cut from.
        arm_width: Upper-arm thickness in shoulder widths (the forearm is 0.8 of it).
        extend: Rows added below the photo by mirroring its bottom rows, so the body reaches the desk.
        squeeze: Horizontal scale of the body below the neck, about `squeeze_x` (1: as photographed).
        squeeze_x: Column the body is squeezed towards.
    """

    outline: tuple[Point, ...]
    arm_cuts: tuple[tuple[Point, ...], tuple[Point, ...]]
    shoulders: tuple[Point, Point]
    neck_y: float
    eyes: tuple[Point, Point]
    skin: tuple[int, int, int, int]
    cuff: tuple[int, int, int, int]
    sleeve: tuple[Point, Point, float]
    arm_width: float
    extend: int = 0
    squeeze: float = 1.0
    squeeze_x: float = 0.0


# NASA's portrait of Eileen Collins (scikit-image `astronaut`, 512x512). Her arms are cut from the
# armpits down, and the helmet she holds is left out (with it, MediaPipe found her raised wrist less often). Her puffy suit fools MediaPipe: it puts her shoulders on the neck
# ring's rim ((112, 240) and (306, 256) on the photo), takes the suit's sides for arms hanging down and
# often ignores a raised arm. So the shoulder joints sit inside the suit, half a sleeve in from its edge,
# and the suit is squeezed to 0.7 of its width (docs/demo-data.md: the measured hit rates).
ASTRONAUT = PhotoRig(
    outline=((266, 23), (239, 16), (210, 19), (159, 54), (153, 70), (155, 98), (163, 114), (183, 136),
             (183, 147), (176, 152), (155, 153), (137, 164), (112, 206), (103, 214), (95, 215), (82, 231),
             (67, 241), (44, 279), (36, 315), (26, 334), (18, 391), (11, 401), (22, 444), (22, 478),
             (17, 485), (18, 496), (26, 511), (304, 511), (297, 488), (302, 454), (319, 431), (319, 417),
             (324, 405), (336, 395), (332, 389), (333, 380), (343, 370), (357, 373), (363, 369), (367, 323),
             (363, 300), (350, 286), (339, 259), (304, 230), (284, 200), (258, 177), (261, 153), (291, 118),
             (298, 105), (301, 88), (291, 46), (279, 30)),
    arm_cuts=(((0, 286), (50, 282), (92, 288), (118, 300), (120, 512), (0, 512)),
              ((512, 292), (352, 290), (340, 302), (340, 342), (512, 342))),
    shoulders=((85, 272), (322, 288)),
    neck_y=176,
    eyes=((205, 103), (249, 112)),
    skin=(188, 128, 210, 150),
    cuff=(128, 497, 166, 511),  # the dark purple ring of her glove, at the photo's bottom edge
    sleeve=((72, 285), (48, 440), 56),
    arm_width=0.3,
    squeeze=0.7,
    squeeze_x=215,
)

# The US Navy's portrait of Grace Hopper (matplotlib's grace_hopper.jpg, 512x600). Both arms are at her
# sides, the upper arms at the photo's left and right edges; the photo ends half a shoulder width below
# the shoulders, so the body is extended downwards (the desk hides the seam).
HOPPER = PhotoRig(
    outline=((233, 24), (203, 50), (146, 115), (145, 162), (149, 174), (146, 212), (158, 228), (168, 268),
             (184, 278), (193, 293), (193, 321), (183, 332), (145, 351), (69, 371), (38, 389), (23, 408),
             (23, 508), (14, 525), (10, 545), (10, 780), (511, 780), (511, 441), (501, 421), (499, 404),
             (490, 392), (464, 375), (443, 373), (411, 357), (397, 355), (350, 333), (340, 323), (339, 307),
             (346, 288), (361, 269), (366, 226), (372, 215), (373, 182), (367, 168), (368, 97), (339, 58),
             (319, 45), (278, 27)),
    arm_cuts=(((0, 330), (62, 370), (98, 400), (114, 440), (114, 780), (0, 780)),
              ((512, 330), (466, 376), (450, 402), (438, 440), (438, 780), (512, 780))),
    shoulders=((96, 423), (456, 428)),
    neck_y=332,
    eyes=((230, 195), (305, 190)),
    skin=(200, 234, 232, 262),
    cuff=(292, 400, 304, 416),  # her white shirt
    sleeve=((62, 455), (55, 598), 48),
    arm_width=0.30,
    extend=180,
)

RIGS: dict[str, PhotoRig] = {"astronaut": ASTRONAUT, "hopper": HOPPER}

# Limb lengths in shoulder widths (joint to joint), from adult proportions: shoulder joints about 0.37 m
# apart, upper arm 0.31 m, forearm 0.26 m, wrist to finger tips 0.17 m.
UPPER_ARM = 0.84
FOREARM = 0.70
HAND = 0.46
_FEATHER = 1.5  # silhouette edge softness, in photo pixels


@dataclasses.dataclass(frozen=True)
class Cutout:
    """A photo cut into layers, ready to be placed (all in the photo's own pixels).

    Attributes:
        rgb: (H, W, 3) float32 photo (extended below if the rig says so).
        body: (H, W) float32 alpha of the body layer (no arms, no head).
        head: (H, W) float32 alpha of the head layer.
        sleeve: (h, w, 3) float32 sleeve texture, its length along axis 1, shaded like a cylinder.
        skin: (h, w, 3) float32 skin texture.
        cuff: (h, w, 3) float32 cuff texture.
        shoulders: (2, 2) shoulder joints, image-left first.
        eyes: (2, 2) eye centres, image-left first.
        neck_y: Bottom row of the head layer.
        shoulder_width: Distance between the shoulder joints.
        arm_width: Upper-arm thickness in shoulder widths.
    """

    rgb: np.ndarray
    body: np.ndarray
    head: np.ndarray
    sleeve: np.ndarray
    skin: np.ndarray
    cuff: np.ndarray
    shoulders: np.ndarray
    eyes: np.ndarray
    neck_y: float
    shoulder_width: float
    arm_width: float


def _poly(points, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    if len(points):
        cv2.fillPoly(mask, [np.round(np.asarray(points, np.float64)).astype(np.int32)], 255, cv2.LINE_AA)
    return mask


def _mirror(points, width: int) -> np.ndarray:
    points = np.asarray(points, np.float64).reshape(-1, 2).copy()
    points[:, 0] = width - 1 - points[:, 0]
    return points


@functools.lru_cache(maxsize=8)
def cutout(name: str, mirrored: bool = False) -> Cutout:
    """Cut the named photo into layers (cached: photos and rigs never change).

    Args:
        name: A key of `RIGS` (and of `poseact.demo.media.person_photos()`).
        mirrored: Mirror the photo left to right first: another side of the same person.

    Returns:
        The layers; arrays are shared between calls, never write to them.

    Raises:
        KeyError: Unknown name.
    """

    original = RIGS[name]
    rig = _squeezed(original)
    photo = person_photos()[name]
    if rig.extend:
        # Mirroring the bottom rows continues the jacket without stretching it into streaks.
        photo = cv2.copyMakeBorder(photo, 0, rig.extend, 0, 0, cv2.BORDER_REFLECT)
    height, width = photo.shape[:2]
    if original.squeeze != 1.0:
        photo = _squeeze_photo(photo, original)
    shape = (height, width)
    outline = _poly(rig.outline, shape)
    cuts = np.maximum(_poly(rig.arm_cuts[0], shape), _poly(rig.arm_cuts[1], shape))
    rows = np.arange(height, dtype=np.float32)[:, None]
    above_neck = np.clip((rig.neck_y - rows) / 4.0 + 0.5, 0.0, 1.0)  # a 4-pixel blend across the neck
    silhouette = outline.astype(np.float32) / 255.0
    body = silhouette * (1.0 - cuts.astype(np.float32) / 255.0) * (1.0 - above_neck)
    head = silhouette * above_neck
    # The seam: pixels just inside the body along each arm cut still carry the sleeve's lit edge.
    cut = (cuts > 127).astype(np.uint8)
    seam = ((cv2.dilate(cut, np.ones((5, 5), np.uint8)) > cut) & (outline > 127)).astype(np.uint8) * 255
    photo = cv2.inpaint(photo, seam, 3, cv2.INPAINT_TELEA)
    sleeve = _strip(photo, *rig.sleeve)
    x0, y0, x1, y1 = rig.skin
    skin = photo[y0:y1, x0:x1].astype(np.float32)
    x0, y0, x1, y1 = rig.cuff
    cuff = photo[y0:y1, x0:x1].astype(np.float32)
    shoulders = np.asarray(rig.shoulders, np.float64)
    eyes = np.asarray(rig.eyes, np.float64)
    if mirrored:
        photo, body, head = photo[:, ::-1], body[:, ::-1], head[:, ::-1]
        sleeve, skin, cuff = sleeve[::-1], skin[:, ::-1], cuff[:, ::-1]
        shoulders, eyes = _mirror(shoulders, width)[::-1], _mirror(eyes, width)[::-1]
    blur = (0, 0)
    return Cutout(
        rgb=np.ascontiguousarray(photo, dtype=np.float32),
        body=cv2.GaussianBlur(np.ascontiguousarray(body), blur, _FEATHER),
        head=cv2.GaussianBlur(np.ascontiguousarray(head), blur, _FEATHER),
        sleeve=np.ascontiguousarray(sleeve),
        skin=np.ascontiguousarray(skin),
        cuff=np.ascontiguousarray(cuff),
        shoulders=shoulders,
        eyes=eyes,
        neck_y=float(rig.neck_y),
        shoulder_width=float(np.linalg.norm(shoulders[1] - shoulders[0])),
        arm_width=rig.arm_width,
    )


_SQUEEZE_ROWS = 14.0  # the squeeze sets in over this many rows below the neck, so the neck does not shear


def _squeeze_weight(y: float | np.ndarray, rig: PhotoRig):
    return np.clip((y - rig.neck_y) / _SQUEEZE_ROWS, 0.0, 1.0)


def _squeezed(rig: PhotoRig) -> PhotoRig:
    """The rig with every point moved as `_squeeze_photo` moves the pixels under it."""
    if rig.squeeze == 1.0:
        return rig

    def move(points):
        out = []
        for x, y in points:
            scale = 1.0 - (1.0 - rig.squeeze) * float(_squeeze_weight(y, rig))
            out.append((rig.squeeze_x + scale * (x - rig.squeeze_x), y))
        return tuple(out)

    start, end, width = rig.sleeve
    return dataclasses.replace(
        rig, outline=move(rig.outline), arm_cuts=(move(rig.arm_cuts[0]), move(rig.arm_cuts[1])),
        shoulders=move(rig.shoulders), sleeve=(*move((start, end)), width * rig.squeeze), squeeze=1.0)


def _squeeze_photo(photo: np.ndarray, rig: PhotoRig) -> np.ndarray:
    height, width = photo.shape[:2]
    cx, q = rig.squeeze_x, rig.squeeze
    squeezed = cv2.warpAffine(photo, np.float32([[q, 0, cx * (1 - q)], [0, 1, 0]]), (width, height),
                              flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    t = _squeeze_weight(np.arange(height, dtype=np.float32), rig)[:, None, None]
    return (photo * (1 - t) + squeezed * t).astype(np.uint8)


def _strip(photo: np.ndarray, start: Point, end: Point, width: float) -> np.ndarray:
    """The photo along the segment `start`-`end`, `width` wide, as a (width, length, 3) texture."""
    p0, p1 = np.asarray(start, np.float64), np.asarray(end, np.float64)
    length = float(np.linalg.norm(p1 - p0))
    along = (p1 - p0) / length
    across = np.array([-along[1], along[0]])
    source = np.float32([p0 - across * width / 2, p1 - across * width / 2, p0 + across * width / 2])
    target = np.float32([[0, 0], [length, 0], [0, width]])
    matrix = cv2.getAffineTransform(source, target)
    strip = cv2.warpAffine(photo, matrix, (round(length), round(width)), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    # A lit cylinder: darker towards both edges, so a pasted arm reads as round, not as a flat ribbon.
    across_profile = np.cos(np.linspace(-1.2, 1.2, strip.shape[0]))[:, None, None]
    return strip * (0.55 + 0.45 * across_profile.astype(np.float32))
