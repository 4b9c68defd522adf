"""Crop geometry: the normalised pose frame that the image-blind baselines share with the model's crops."""

from __future__ import annotations

import numpy as np

from ftppose_cli.crops import box_to_center_scale, normalise_poses, place_poses


def test_normalised_poses_come_back_to_their_pixels() -> None:
    rng = np.random.default_rng(0)
    boxes = np.array([[10, 20, 70, 200], [300, 40, 500, 120]], np.float32)  # tall and wide boxes
    keypoints = rng.uniform(0, 500, (2, 17, 2)).astype(np.float32)
    np.testing.assert_allclose(place_poses(normalise_poses(keypoints, boxes), boxes), keypoints, rtol=1e-5, atol=1e-3)


def test_normalised_frame_is_the_models_crop() -> None:
    boxes = np.array([[0, 0, 60, 200], [100, 100, 400, 160]], np.float32)
    centers, sizes = box_to_center_scale(boxes)
    corners = np.stack([centers, centers + sizes / 2], axis=1)  # crop centre and its bottom-right corner
    np.testing.assert_allclose(normalise_poses(corners, boxes), [[[0, 0], [0.5, 0.5]]] * 2, atol=1e-6)


def test_one_pose_is_placed_in_every_box() -> None:
    boxes = np.array([[0, 0, 30, 40], [100, 50, 160, 130]], np.float32)
    pose = np.zeros((17, 2), np.float32)  # every joint at the crop centre
    placed = place_poses(pose, boxes)
    assert placed.shape == (2, 17, 2)
    np.testing.assert_allclose(placed[:, 0], [[15, 20], [130, 90]])
