"""Augmentation for person crops: geometry that moves labels, photometry that does not.

The teacher corpus is a few dozen scenes, so variety must come from here
(a first trial without it memorised its scenes): scale, rotation, flip with
the left/right joints swapped, colour, blur, noise and occlusion by pieces
of other crops. Windows of a still image get synthetic motion: each
neighbour frame is warped by a small random affine of its own.
"""

from __future__ import annotations

import cv2
import numpy as np


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
