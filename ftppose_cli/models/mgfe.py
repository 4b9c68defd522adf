"""The Multi-Grained Feature Encoder (MGFE) of FTP-Pose.

Two branches see the window at two grains:

* the high-resolution spatial branch keeps the key frame's fine detail
  (the paper's "fine-grained perception compensation"): the key frame's last
  tokens, fused with an intermediate layer's tokens, upsampled 2x to 32x24;
* the low-resolution temporal branch models motion: the 16x12 tokens of all K
  frames, pruned per frame by DPC-KNN, then joint spatio-temporal
  self-attention. Pruning only touches this branch, so its cost falls about in
  proportion to ``1 - epsilon`` while the key frame's detail survives in the
  high-resolution branch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import trunc_normal_
from timm.models.vision_transformer import Block
from torch import nn

from ftppose_cli.models.pruning import keep_count, prune_tokens


class HighResolutionBranch(nn.Module):
    """Key-frame tokens at twice the backbone's resolution.

    Kept deliberately light (a depthwise 3x3 conv): it is not pruned, so its
    cost is a floor under every pruning ratio.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm_intermediate = nn.LayerNorm(dim)
        self.local = nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, last: torch.Tensor, intermediate: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """``(B, N, C)`` x2 -> ``(B, 4N, C)`` on the 2x grid."""
        batch, _, dim = last.shape
        x = last + self.norm_intermediate(intermediate)
        x = x.transpose(1, 2).reshape(batch, dim, *grid)
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = x + self.local(x)
        return self.norm(x.flatten(2).transpose(1, 2))


class TemporalBranch(nn.Module):
    """Joint spatio-temporal attention over the kept tokens of every frame."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: int, dpc_k: int = 5) -> None:
        super().__init__()
        self.window = window
        self.dpc_k = dpc_k
        self.frame_embed = nn.Parameter(torch.zeros(1, window, 1, dim))
        trunc_normal_(self.frame_embed, std=0.02)
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio=4.0, qkv_bias=True) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor, epsilon: float = 0.0, merge: bool = False) -> torch.Tensor:
        """``(B, K, N, C)`` -> ``(B, K * keep, C)``.

        At ``epsilon == 0`` the pruning code is not entered at all, so the
        unpruned model's output cannot depend on it.
        """
        batch, window, num, dim = tokens.shape
        if window != self.window:
            raise ValueError(f"expected a window of {self.window} frames, got {window}")
        # The frame embedding is constant within a frame, so adding it before
        # pruning does not change which tokens DPC-KNN keeps.
        x = tokens + self.frame_embed
        if epsilon > 0.0:
            keep = keep_count(num, epsilon)
            x = prune_tokens(x.reshape(batch * window, num, dim), keep, self.dpc_k, merge)
            x = x.reshape(batch, window, keep, dim)
        x = x.flatten(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)
