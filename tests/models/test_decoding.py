"""Heatmap decoding: sub-pixel accuracy, scores, flip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftppose_cli.formats.joints import flip_permutation
from ftppose_cli.models.decoding import decode_heatmaps, decode_output, flip_back, heatmap_to_input
from ftppose_cli.training.targets import gaussian_heatmaps, heatmap_loss


def _gaussian(x: float, y: float, h: int = 64, w: int = 48, sigma: float = 2.0) -> torch.Tensor:
    xs = torch.arange(w, dtype=torch.float32)[None, :]
    ys = torch.arange(h, dtype=torch.float32)[:, None]
    return torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize("x,y", [(10.3, 20.7), (30.5, 40.25), (5.0, 5.0)])
def test_dark_recovers_sub_pixel_peaks(x: float, y: float) -> None:
    maps = _gaussian(x, y)[None, None].repeat(1, 2, 1, 1)
    coords, scores = decode_heatmaps(maps, "dark")
    assert torch.allclose(coords[0, 0], torch.tensor([x, y]), atol=0.05)
    coords_none, _ = decode_heatmaps(maps, "none")
    assert torch.equal(coords_none[0, 0], torch.tensor([round(x), round(y)], dtype=torch.float32))
    assert scores.shape == (1, 2)


def test_softmax_output_scores_sharp_maps_higher() -> None:
    sharp = torch.log(_gaussian(20.0, 30.0, sigma=1.0) + 1e-9)
    flat = torch.log(_gaussian(20.0, 30.0, sigma=8.0) + 1e-9)
    coords, scores = decode_output(torch.stack([sharp, flat])[None], "softmax")
    assert torch.allclose(coords[0, 0], torch.tensor([20.0, 30.0]), atol=0.1)
    assert scores[0, 0] > 0.9 and scores[0, 1] < 0.3


def test_flip_back_mirrors_and_swaps_sides() -> None:
    maps = torch.zeros(1, 17, 64, 48)
    maps[0, 9, 10, 5] = 1.0  # left wrist near the left edge
    back = flip_back(maps)
    assert back[0, 10, 10, 42] == 1.0  # right wrist, mirrored column
    assert flip_permutation()[9] == 10


def test_heatmap_and_input_coordinates_round_trip() -> None:
    joints = np.array([[96.0, 128.0], [60.7, 90.3], [130.2, 170.6]], np.float32)  # interior: DARK needs both flanks
    target, weights = gaussian_heatmaps(joints, np.ones(3, np.float32), (256, 192), (64, 48))
    coords, _ = decode_heatmaps(torch.from_numpy(target)[None])
    back = heatmap_to_input(coords, (64, 48), (256, 192))[0].numpy()
    np.testing.assert_allclose(back[weights > 0], joints[weights > 0], atol=0.3)


def test_softmax_loss_is_lowest_at_the_target() -> None:
    target, weights = gaussian_heatmaps(np.array([[96.0, 128.0]], np.float32), np.ones(1, np.float32), (256, 192),
                                        (64, 48))
    t = torch.from_numpy(target)[None]
    w = torch.from_numpy(weights)[None]
    good = heatmap_loss(torch.log(t + 1e-6), t, w)
    shifted = heatmap_loss(torch.log(torch.roll(t, 6, dims=-1) + 1e-6), t, w)
    assert good < shifted
    assert heatmap_loss(torch.zeros_like(t), t, torch.zeros_like(w)) == 0  # unlabelled joints cost nothing
