"""The detector network: shapes, config round trip, factory."""

from __future__ import annotations

import pytest
import torch

from ftppose_cli.detection.network import DetectorConfig, PersonDetectorNet, create_detector
from ftppose_cli.weights import DETECTOR


@pytest.mark.parametrize("size", sorted(DETECTOR.sizes))
def test_output_shapes(size: str) -> None:
    torch.manual_seed(0)
    model = create_detector(size).eval()
    x = torch.rand(2, 3, 64, 96) * 255
    with torch.no_grad():
        heat, ltrb = model(x)
    assert heat.shape == (2, 1, 8, 12)
    assert ltrb.shape == (2, 4, 8, 12)
    assert (ltrb >= 0).all()
    # the heatmap starts near its prior (few false peaks before training)
    assert heat.sigmoid().mean() < 0.05


def test_config_round_trip_and_overrides() -> None:
    cfg = create_detector("small").config
    again = DetectorConfig.from_dict(cfg.to_dict())
    assert again == cfg
    model = create_detector("tiny", input_size=320)
    assert isinstance(model, PersonDetectorNet) and model.config.input_size == 320
    with pytest.raises(ValueError):
        DetectorConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(ValueError):
        create_detector("enormous")


def test_backward_runs() -> None:
    model = create_detector("tiny")
    heat, ltrb = model(torch.rand(1, 3, 64, 64) * 255)
    (heat.mean() + ltrb.mean()).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
