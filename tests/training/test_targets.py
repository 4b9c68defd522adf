"""Heatmap targets and the losses the trainer uses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftppose_cli.training.targets import gaussian_heatmaps, heatmap_loss


def test_targets_peak_at_the_joint_and_drop_outside_joints() -> None:
    joints = np.array([[50.0, 70.0], [500.0, 10.0]], np.float32)  # second one is outside a 128x96 input
    maps, weights = gaussian_heatmaps(joints, np.ones(2, np.float32), (128, 96), (32, 24))
    y, x = np.unravel_index(np.argmax(maps[0]), maps[0].shape)
    assert (x, y) == (round((50 + 0.5) / 4 - 0.5), round((70 + 0.5) / 4 - 0.5))
    assert weights.tolist() == [1.0, 0.0] and not maps[1].any()


@pytest.mark.parametrize("kind", ["softmax", "mse"])
def test_loss_prefers_the_right_place_and_ignores_unlabelled_joints(kind: str) -> None:
    joints = np.tile(np.array([[40.0, 60.0]], np.float32), (17, 1))
    target, weight = gaussian_heatmaps(joints, np.ones(17, np.float32), (128, 96), (32, 24))
    target, weight = torch.from_numpy(target)[None], torch.from_numpy(weight)[None]
    scale = 20.0 if kind == "softmax" else 1.0
    right = target * scale
    wrong = torch.roll(target, shifts=6, dims=-1) * scale
    assert heatmap_loss(right, target, weight, kind) < heatmap_loss(wrong, target, weight, kind)
    none = torch.zeros_like(weight)
    assert heatmap_loss(wrong, target, none, kind) == pytest.approx(0.0)
