"""Augmentation for person crops: geometry that moves labels, photometry that does not.

The teacher corpus is a few dozen scenes, so variety must come from here
(a first trial without it memorised its scenes): scale, rotation, flip with
the left/right joints swapped, colour, blur, noise, occlusion by pieces
of other crops, and the person pasted onto another scene's background.
Windows of a still image get synthetic motion: each neighbour frame is
warped by a small random affine of its own.
"""

from __future__ import annotations

import cv2
import numpy as np

from ftppose_cli.formats.joints import JOINT_INDEX, SKELETON

_TORSO = [JOINT_INDEX[n] for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")]
_HEAD = [JOINT_INDEX[n] for n in ("nose", "head_bottom", "head_top")]


def random_geometry(rng: np.random.Generator, strength: float = 1.0) -> tuple[float, float, np.ndarray, bool]:
    """Scale factor, rotation (degrees), centre shift (fraction of the box) and flip."""
    scale = float(np.clip(rng.normal(1.0, 0.25 * strength), 0.65, 1.45))
    rotation = float(np.clip(rng.normal(0.0, 30.0 * strength), -60, 60)) if rng.random() < 0.6 else 0.0
    if rng.random() < 0.1 * strength:
        # The corpus has almost no lying, falling or inverted people; a tail of
        # large rotations is the only source of them.
        rotation = float(rng.uniform(-150.0, 150.0))
    shift = rng.uniform(-0.12, 0.12, size=2) * strength
    return scale, rotation, shift.astype(np.float32), bool(rng.random() < 0.5)


def aspect_stretch(rng: np.random.Generator, size: tuple[int, int], std: float) -> np.ndarray:
    """A vertical stretch or squash about the crop centre (log-normal factor, clipped to 0.6-1.6).

    People seen from above, seated or bending forward look shorter for their
    width than the upright people that fill the corpus; squashing crops
    vertically is a cheap stand-in for that foreshortening.
    """
    h, _ = size
    factor = float(np.clip(np.exp(rng.normal(0.0, std)), 0.6, 1.6))
    return np.array([[1.0, 0.0, 0.0], [0.0, factor, (1.0 - factor) * h / 2.0]])


def jitter_affine(rng: np.random.Generator, size: tuple[int, int], amount: float = 0.04) -> np.ndarray:
    """A small affine about the crop centre: synthetic motion between frames of a still."""
    h, w = size
    angle = rng.normal(0.0, 4.0)
    scale = 1.0 + rng.normal(0.0, amount)
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale)
    matrix[:, 2] += rng.normal(0.0, amount, size=2) * np.array([w, h])
    return matrix


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour jitter, grey, blur and noise on a uint8 BGR image (or a stack of them)."""
    x = image.astype(np.float32)
    x = x * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)  # contrast, brightness
    if rng.random() < 0.8:
        x = x * rng.uniform(0.8, 1.2, size=3).astype(np.float32)  # per-channel colour cast
    if rng.random() < 0.15:
        grey = x.mean(axis=-1, keepdims=True)
        x = np.broadcast_to(grey, x.shape).copy()
    x = np.clip(x, 0, 255)
    if rng.random() < 0.2:
        k = int(rng.choice([3, 5]))
        x = np.stack([cv2.GaussianBlur(f, (k, k), 0) for f in x.reshape(-1, *x.shape[-3:])]).reshape(x.shape)
    if rng.random() < 0.2:
        x = x + rng.normal(0, rng.uniform(2, 10), size=x.shape).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


def occlude(frames: np.ndarray, rng: np.random.Generator, donor: np.ndarray | None = None) -> np.ndarray:
    """Paste 1-2 rectangles over every frame of a window: a piece of another crop or flat noise.

    The same rectangle covers all frames, as a real occluder would.
    """
    frames = frames.copy()
    _, h, w, _ = frames.shape
    for _ in range(int(rng.integers(1, 3))):
        ph = int(rng.uniform(0.15, 0.45) * h)
        pw = int(rng.uniform(0.15, 0.5) * w)
        y0 = int(rng.integers(0, h - ph))
        x0 = int(rng.integers(0, w - pw))
        if donor is not None and rng.random() < 0.7:
            dy = int(rng.integers(0, donor.shape[0] - ph))
            dx = int(rng.integers(0, donor.shape[1] - pw))
            patch = donor[dy:dy + ph, dx:dx + pw]
        else:
            patch = rng.integers(0, 256, size=(1, 1, 3), dtype=np.uint8) + rng.integers(
                -20, 20, size=(ph, pw, 3)).astype(np.uint8)
        frames[:, y0:y0 + ph, x0:x0 + pw] = patch
    return frames


def degrade_key_frame(frames: np.ndarray, key: int, rng: np.random.Generator,
                      donor: np.ndarray | None = None) -> np.ndarray:
    """Spoil one frame of a window, the one whose pose is the target: a motion blur or an occluder.

    A window's frames are nearly alike, so a temporal model can learn to read the key
    frame alone and leave its neighbours unused (K = 3 then costs more than K = 1 and is no
    steadier). With the key frame blurred as by a fast movement, or briefly covered, the
    pose is only in the neighbours: the fusion has to learn to take it from them, which is
    the temporal path's job on real video.
    """
    frames = frames.copy()
    image = frames[key]
    h, w = image.shape[:2]
    if rng.random() < 0.5:
        length = int(rng.integers(9, 26))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, turn, (length, length))
        frames[key] = cv2.filter2D(image, -1, kernel / max(float(kernel.sum()), 1e-6))
    else:
        ph, pw = int(rng.uniform(0.3, 0.6) * h), int(rng.uniform(0.3, 0.7) * w)
        y0, x0 = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        if donor is not None and donor.shape[0] > ph and donor.shape[1] > pw:
            dy, dx = int(rng.integers(0, donor.shape[0] - ph)), int(rng.integers(0, donor.shape[1] - pw))
            frames[key, y0:y0 + ph, x0:x0 + pw] = donor[dy:dy + ph, dx:dx + pw]
        else:
            frames[key, y0:y0 + ph, x0:x0 + pw] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return frames


def body_mask(joints: np.ndarray, visible: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A rough silhouette ``(H, W)`` in [0, 1] drawn from the skeleton, with a feathered edge.

    There are no segmentation masks in the corpus; thick bones, a filled torso
    and a disc on the head cover the person well enough to swap what lies
    around them, and the soft edge keeps the seam from becoming a cue.
    """
    h, w = size
    points = joints[visible > 0]
    mask = np.zeros((h, w), np.float32)
    if len(points) < 2:
        return mask
    extent = float(np.max(points.max(0) - points.min(0)))
    thickness = max(2, int(round(0.12 * extent)))
    for a, b in SKELETON:
        if visible[a] > 0 and visible[b] > 0:
            cv2.line(mask, tuple(np.round(joints[a]).astype(int)), tuple(np.round(joints[b]).astype(int)), 1.0,
                     thickness)
    if all(visible[j] > 0 for j in _TORSO):
        cv2.fillConvexPoly(mask, np.round(joints[_TORSO]).astype(np.int32), 1.0)
    head = [j for j in _HEAD if visible[j] > 0]
    if head:
        centre = joints[head].mean(0)
        cv2.circle(mask, tuple(np.round(centre).astype(int)), max(2, int(round(0.1 * extent))), 1.0, -1)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=max(1, thickness // 4))
    return np.clip(cv2.GaussianBlur(mask, (0, 0), thickness / 3.0), 0.0, 1.0)


def paste_on_background(frames: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Keep the person (``mask``) of every frame and replace the rest with ``background`` (H, W, 3)."""
    alpha = mask[None, :, :, None]
    return np.rint(frames * alpha + background[None].astype(np.float32) * (1.0 - alpha)).astype(np.uint8)


def background_patch(donor: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A corner of another crop, scaled to ``size``: the context around its person, mostly not a person."""
    side = donor.shape[0]
    part = int(side * rng.uniform(0.3, 0.45))
    y0 = 0 if rng.random() < 0.5 else side - part
    x0 = 0 if rng.random() < 0.5 else side - part
    patch = donor[y0:y0 + part, x0:x0 + part]
    return cv2.resize(patch, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def neighbour_offset(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Where a pasted neighbour stands: a 2x3 affine (scale 0.8-1.2, shifted beside or behind).

    The shift is 0.3-0.6 of the crop's width to either side and up to 0.25 of
    its height up or down, so the neighbour overlaps the person's edge as in a
    crowd or a couple, but rarely covers their middle.
    """
    h, w = size
    scale = rng.uniform(0.8, 1.2)
    dx = rng.uniform(0.3, 0.6) * w * (1 if rng.random() < 0.5 else -1)
    dy = rng.uniform(-0.25, 0.25) * h
    return np.array([[scale, 0.0, (1 - scale) * w / 2 + dx], [0.0, scale, (1 - scale) * h / 2 + dy]])


def paste_neighbour(frames: np.ndarray, person_mask: np.ndarray, neighbour: np.ndarray, neighbour_mask: np.ndarray,
                    in_front: bool) -> np.ndarray:
    """Composite another person (``neighbour`` (H, W, 3) and its silhouette) into every frame.

    Behind the person, the neighbour shows only outside ``person_mask``; in front,
    it covers them. The person's labels stay as they are: the model must learn to
    keep to the person at the centre of the box, and not to move onto the one
    beside them, which is the commonest mistake in crowds.
    """
    alpha = neighbour_mask if in_front else neighbour_mask * (1.0 - person_mask)
    alpha = alpha[None, :, :, None]
    return np.rint(frames * (1.0 - alpha) + neighbour[None].astype(np.float32) * alpha).astype(np.uint8)


def _head_ellipse(joints: np.ndarray, visible: np.ndarray, shape: tuple[int, int], along: float, across: float,
                  centre_at: float, rng: np.random.Generator) -> tuple[np.ndarray, float] | None:
    """A soft ``(h, w)`` ellipse on the head axis (crown to chin) and the axis length; None without a head.

    ``along`` and ``across`` are the semi-axes as fractions of the axis length, ``centre_at``
    places the centre from the crown (0) to the chin (1). The across axis varies by +-10 %.
    """
    top, bottom = joints[JOINT_INDEX["head_top"]], joints[JOINT_INDEX["head_bottom"]]
    if not all(visible[JOINT_INDEX[n]] > 0 for n in ("head_top", "head_bottom", "nose")):
        return None
    length = float(np.linalg.norm(bottom - top))
    if length < 4:
        return None
    centre = top + centre_at * (bottom - top)
    angle = float(np.degrees(np.arctan2(bottom[1] - top[1], bottom[0] - top[0])))
    axes = (max(2, int(round(along * length))), max(2, int(round(across * length * rng.uniform(0.9, 1.1)))))
    mask = np.zeros(shape, np.float32)
    cv2.ellipse(mask, tuple(np.round(centre).astype(int)), axes, angle, 0, 360, 1.0, -1)
    if mask.max() == 0:
        return None
    return np.clip(cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.06 * length)), 0.0, 1.0), length


def cover_face(frames: np.ndarray, joints: np.ndarray, visible: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Paint the head of every frame over with a hair colour, as a head seen from behind looks.

    Used with the left and right labels swapped, this turns a person facing the camera into the
    2-D geometry of one seen from behind (their left side on the image's left) with no face to see:
    the corpus's people seen from behind are few scenes, so without it a model learns the scene,
    not the cue, and calls every held-out back view facing the camera. The painted ellipse follows
    the head axis (crown to chin); its colour is a dark hair colour, or (30 %) the median of the
    pixels just below the crown. Frames are BGR.
    """
    _, h, w, _ = frames.shape
    head = _head_ellipse(joints, visible, (h, w), 0.48, 0.4, 0.5, rng)
    if head is None:
        return frames
    mask, length = head[0][None, :, :, None], head[1]
    if rng.random() < 0.3:
        top, bottom = joints[JOINT_INDEX["head_top"]], joints[JOINT_INDEX["head_bottom"]]
        crown = top + 0.15 * (bottom - top)
        x, y = np.clip(np.round(crown).astype(int), 0, [w - 1, h - 1])
        r = max(1, int(0.06 * length))
        sample = frames[:, max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].reshape(-1, 3)
        colour = np.median(sample, axis=0).astype(np.float32) * rng.uniform(0.7, 1.0)
    else:  # most hair is dark: black to brown (BGR, red strongest)
        colour = rng.uniform(15.0, 90.0) * np.array([0.75, 0.88, 1.0], np.float32)
    texture = cv2.GaussianBlur(rng.normal(0.0, 14.0, size=(h, w)).astype(np.float32), (0, 0), 1.0)
    paint = np.clip(colour[None, None, :] + texture[:, :, None], 0, 255)
    return np.rint(frames * (1.0 - mask) + paint[None] * mask).astype(np.uint8)


def blur_face(frames: np.ndarray, joints: np.ndarray, visible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur the face of every frame, as privacy-blurred footage shows it; the labels stay as they are.

    The counterweight to :func:`cover_face`: without it a model that learnt "no facial features
    means a back view" calls people with blurred faces (whole public video sets blur them) seen
    from behind, with every left and right joint swapped. The blurred ellipse covers the face, the
    lower part of the head axis; the blur is strong enough to remove eyes, nose and mouth.
    """
    _, h, w, _ = frames.shape
    face = _head_ellipse(joints, visible, (h, w), 0.32, 0.3, 0.6, rng)
    if face is None:
        return frames
    mask, length = face[0][None, :, :, None], face[1]
    sigma = 0.12 * length * rng.uniform(0.8, 1.5)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames]).astype(np.float32)
    return np.rint(frames * (1.0 - mask) + blurred * mask).astype(np.uint8)
