"""Augmentation ranges and invariants."""

from __future__ import annotations

import numpy as np

from ftppose_cli.formats.joints import JOINT_INDEX
from ftppose_cli.training.augment import (
    aspect_stretch,
    background_patch,
    blur_face,
    body_mask,
    cover_face,
    degrade_key_frame,
    neighbour_offset,
    occlude,
    paste_neighbour,
    paste_on_background,
    photometric,
    random_geometry,
)


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


def test_aspect_stretch_is_vertical_about_the_centre_and_clipped() -> None:
    rng = np.random.default_rng(3)
    factors = []
    for _ in range(2000):
        m = aspect_stretch(rng, (128, 96), std=0.3)
        assert m[0].tolist() == [1.0, 0.0, 0.0] and m[1, 0] == 0.0  # widths are untouched
        assert np.isclose(m[1, 1] * 64 + m[1, 2], 64)  # the crop centre stays put
        factors.append(m[1, 1])
    assert min(factors) >= 0.6 and max(factors) <= 1.6
    assert (np.array(factors) < 0.8).mean() > 0.1 and (np.array(factors) > 1.25).mean() > 0.1


def test_photometric_keeps_shape_and_dtype() -> None:
    frames = np.random.default_rng(2).integers(0, 256, size=(3, 32, 24, 3), dtype=np.uint8)
    out = photometric(frames, np.random.default_rng(3))
    assert out.shape == frames.shape and out.dtype == np.uint8


def test_occluder_covers_the_same_place_in_every_frame() -> None:
    frames = np.zeros((3, 40, 30, 3), np.uint8)
    out = occlude(frames, np.random.default_rng(4), donor=np.full((50, 50, 3), 200, np.uint8))
    assert (out != 0).any()
    assert (out == out[0]).all()


def test_degrading_the_key_frame_leaves_its_neighbours_alone() -> None:
    """Blur or occluder, only the key frame changes; over a few draws both kinds occur."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(3, 64, 48, 3), dtype=np.uint8)
    blurred = occluded = 0
    for seed in range(12):
        out = degrade_key_frame(frames, 1, np.random.default_rng(seed), donor=np.full((80, 80, 3), 7, np.uint8))
        assert out.shape == frames.shape and out.dtype == frames.dtype
        assert np.array_equal(out[[0, 2]], frames[[0, 2]])
        changed = out[1] != frames[1]
        assert changed.any()
        occluded += int((out[1] == 7).all(axis=-1).sum() >= 0.3 * 0.3 * 64 * 48)
        blurred += int(changed.mean() > 0.9)  # a blur moves nearly every pixel of noise
    assert blurred > 0 and occluded > 0 and blurred + occluded == 12


def _standing_person() -> tuple[np.ndarray, np.ndarray]:
    joints = np.array([
        [48, 20], [48, 30], [48, 8], [44, 18], [52, 18], [38, 34], [58, 34], [34, 50], [62, 50], [32, 64],
        [64, 64], [42, 66], [54, 66], [42, 88], [54, 88], [42, 110], [54, 110]], np.float32)
    return joints, np.ones(17, np.float32)


def test_body_mask_covers_the_skeleton_and_not_the_corners() -> None:
    joints, visible = _standing_person()
    mask = body_mask(joints, visible, (128, 96))
    for x, y in joints.astype(int):
        assert mask[y, x] > 0.5
    assert mask[:10, :10].max() == 0 and mask[-10:, -10:].max() == 0
    assert not body_mask(joints, np.zeros(17, np.float32), (128, 96)).any()


def test_paste_keeps_the_person_and_swaps_the_background() -> None:
    joints, visible = _standing_person()
    frames = np.full((3, 128, 96, 3), 200, np.uint8)
    background = np.full((128, 96, 3), 10, np.uint8)
    out = paste_on_background(frames, body_mask(joints, visible, (128, 96)), background)
    torso = (40, 48)  # y, x inside the shoulders-hips polygon
    assert (np.abs(out[:, torso[0], torso[1]].astype(int) - 200) <= 1).all()
    assert (out[:, 0, 0] == 10).all()
    patch = background_patch(np.zeros((320, 320, 3), np.uint8), (128, 96), np.random.default_rng(0))
    assert patch.shape == (128, 96, 3)


def test_neighbour_stands_behind_or_in_front_of_the_person() -> None:
    joints, visible = _standing_person()
    size = (128, 96)
    person = body_mask(joints, visible, size)
    frames = np.full((3, *size, 3), 200, np.uint8)
    neighbour = np.full((*size, 3), 10, np.uint8)
    everywhere = np.ones(size, np.float32)  # a neighbour covering the whole crop
    torso = (40, 48)
    behind = paste_neighbour(frames, person, neighbour, everywhere, in_front=False)
    assert (np.abs(behind[:, torso[0], torso[1]].astype(int) - 200) <= 1).all()  # the person stays visible
    assert (behind[:, 0, 0] == 10).all()  # the neighbour fills what is around them
    front = paste_neighbour(frames, person, neighbour, everywhere, in_front=True)
    assert (front == 10).all()
    offset = neighbour_offset(np.random.default_rng(0), size)
    shift = offset @ np.array([size[1] / 2, size[0] / 2, 1.0]) - np.array([size[1] / 2, size[0] / 2])
    assert 0.3 * size[1] <= abs(shift[0]) <= 0.6 * size[1] and abs(shift[1]) <= 0.25 * size[0]


def test_cover_face_paints_the_head_and_nothing_else() -> None:
    joints, visible = _standing_person()
    frames = np.full((3, 128, 96, 3), 200, np.uint8)
    out = cover_face(frames, joints, visible, np.random.default_rng(1))
    head = (14, 48)  # y, x between the crown (y 8) and the chin (y 30)
    assert (np.abs(out[:, head[0], head[1]].astype(int) - 200) > 20).all()
    assert (out == out[0]).all()  # the same head on every frame of the window
    assert (out[:, 60:, :] == 200).all()  # below the head, untouched
    no_head = visible.copy()
    no_head[2] = 0  # head_top unlabelled: nothing to paint over
    assert (cover_face(frames, joints, no_head, np.random.default_rng(1)) == frames).all()


def test_blur_face_smooths_the_face_and_nothing_else() -> None:
    joints, visible = _standing_person()
    rng = np.random.default_rng(2)
    frames = np.repeat(rng.integers(0, 256, size=(1, 128, 96, 3), dtype=np.uint8), 2, axis=0)  # texture everywhere
    out = blur_face(frames, joints, visible, np.random.default_rng(1))
    face = (slice(18, 26), slice(44, 53))  # around the nose (48, 20), above the chin (48, 30)
    assert out[:, face[0], face[1]].std() < 0.5 * frames[:, face[0], face[1]].std()
    assert (out[0] == out[1]).all()  # the same face on every frame of the window
    assert (out[:, 60:] == frames[:, 60:]).all() and (out[:, :, :30] == frames[:, :, :30]).all()
    no_nose = visible.copy()
    no_nose[JOINT_INDEX["nose"]] = 0
    assert (blur_face(frames, joints, no_nose, np.random.default_rng(1)) == frames).all()
