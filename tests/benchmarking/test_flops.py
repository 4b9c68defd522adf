"""Per-stage FLOP accounting responds to pruning where it should, and only there."""

from __future__ import annotations

import torch

from ftppose_cli.benchmarking.flops import count_stage_flops, stage_params
from ftppose_cli.models.ftppose import create_model


def test_pruning_lowers_only_the_temporal_stages() -> None:
    torch.manual_seed(0)
    model = create_model("tiny", depth=2, temporal_depth=2).eval()
    full = count_stage_flops(model, 0.0)
    half = count_stage_flops(model, 0.5)
    assert set(full) == {"backbone", "mgfe", "fusion", "head"}
    assert half["backbone"].flops == full["backbone"].flops
    assert half["head"].flops == full["head"].flops
    assert half["mgfe"].flops < 0.6 * full["mgfe"].flops
    assert half["fusion"].flops < full["fusion"].flops


def test_backbone_counted_once_per_window_in_video_mode() -> None:
    model = create_model("tiny", depth=2, temporal_depth=1).eval()
    per_window = count_stage_flops(model, 0.0, backbone_per_window=True)["backbone"].flops
    reused = count_stage_flops(model, 0.0, backbone_per_window=False)["backbone"].flops
    assert per_window == 3 * reused


def test_stage_params_add_up_to_the_model() -> None:
    model = create_model("tiny", depth=2, temporal_depth=1)
    assert sum(stage_params(model).values()) == sum(p.numel() for p in model.parameters())


def test_single_frame_model_has_no_temporal_stages() -> None:
    model = create_model("tiny", depth=2, window=1)
    assert set(count_stage_flops(model)) == {"backbone", "head"}
