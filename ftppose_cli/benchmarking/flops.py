"""FLOP and parameter accounting per stage, with torch's own FLOP counter.

``torch.utils.flop_counter.FlopCounterMode`` counts matmuls, convolutions and
attention as they run, so pruning's effect (fewer tokens) is measured, not
assumed. Counts are FLOPs (2 per multiply-add), as torch reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from ftppose_cli.models.ftppose import FTPPose


@dataclass(frozen=True)
class StageCost:
    flops: int
    params: int


def stage_params(model: FTPPose) -> dict[str, int]:
    return {name: sum(p.numel() for m in mods for p in m.parameters()) for name, mods in model.stage_modules().items()}


@torch.no_grad()
def count_stage_flops(model: FTPPose, pruning_ratio: float = 0.0, batch: int = 1,
                      backbone_per_window: bool = True) -> dict[str, StageCost]:
    """FLOPs of one forward pass per stage, for ``batch`` windows of K frames.

    ``backbone_per_window=False`` counts the backbone once per window (the video
    pipeline's cost, where each frame's features are reused by K windows)
    instead of K times.
    """
    cfg = model.config
    device = next(model.parameters()).device
    frames = cfg.window if backbone_per_window else 1
    images = torch.zeros(batch * frames, 3, *cfg.img_size, device=device)
    params = stage_params(model)
    with FlopCounterMode(display=False) as counter:
        last, inter = model.backbone(images)
    backbone = counter.get_total_flops()
    last = torch.zeros(batch, cfg.window, *last.shape[1:], device=device)
    key_inter = torch.zeros(batch, *inter.shape[1:], device=device)
    costs = {"backbone": StageCost(backbone, params["backbone"])}
    grid = cfg.grid_size
    key = last[:, model.key_index]
    if model.temporal:
        with FlopCounterMode(display=False) as counter:
            query = model.high_resolution(key, key_inter, grid)
            context = model.temporal_branch(last, pruning_ratio)
        costs["mgfe"] = StageCost(counter.get_total_flops(), params["mgfe"])
        with FlopCounterMode(display=False) as counter:
            fused = model.fusion(query, context)
        costs["fusion"] = StageCost(counter.get_total_flops(), params["fusion"])
        fused_map = fused.transpose(1, 2).reshape(batch, -1, grid[0] * 2, grid[1] * 2)
    else:
        fused_map = None
    key_map = key.transpose(1, 2).reshape(batch, -1, *grid)
    with FlopCounterMode(display=False) as counter:
        model.head(key_map, fused_map)
    costs["head"] = StageCost(counter.get_total_flops(), params["head"])
    return costs
