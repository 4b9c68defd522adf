"""Augmentation ranges and invariants."""

from __future__ import annotations

import numpy as np

from ftppose_cli.training.augment import occlude, photometric, random_geometry


def test_geometry_stays_in_range_and_has_a_large_rotation_tail() -> None:
    rng = np.random.default_rng(0)
    draws = [random_geometry(rng) for _ in range(4000)]
    scales = np.array([d[0] for d in draws])
    rotations = np.abs([d[1] for d in draws])
    flips = np.array([d[3] for d in draws])
    assert scales.min() >= 0.65 and scales.max() <= 1.45
    assert rotations.max() <= 150
    assert 0.05 < (rotations > 60).mean() < 0.12  # lying / inverted people come only from this tail
    assert 0.45 < flips.mean() < 0.55


def test_strength_zero_is_the_identity() -> None:
    scale, rotation, shift, flip = random_geometry(np.random.default_rng(1), strength=0.0)
    assert scale == 1.0 and rotation == 0.0 and not shift.any()


def test_photometric_keeps_shape_and_dtype() -> None:
    frames = np.random.default_rng(2).integers(0, 256, size=(3, 32, 24, 3), dtype=np.uint8)
    out = photometric(frames, np.random.default_rng(3))
    assert out.shape == frames.shape and out.dtype == np.uint8


def test_occluder_covers_the_same_place_in_every_frame() -> None:
    frames = np.zeros((3, 40, 30, 3), np.uint8)
    out = occlude(frames, np.random.default_rng(4), donor=np.full((50, 50, 3), 200, np.uint8))
    assert (out != 0).any()
    assert (out == out[0]).all()
