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

from ftppose_cli.models.pruning import keep_count, prune_tokens, rank_tokens


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
        """``(B, K, N, C)`` -> ``(B, K * keep, C)``: each frame pruned on its own, then :meth:`attend`."""
        batch, window, num, dim = tokens.shape
        if window != self.window:
            raise ValueError(f"expected a window of {self.window} frames, got {window}")
        kept = self.prune_frames(tokens.reshape(batch * window, num, dim), epsilon, merge)
        return self.attend(kept.reshape(batch, window, -1, dim))

    def prune_frames(self, frames: torch.Tensor, epsilon: float = 0.0, merge: bool = False) -> torch.Tensor:
        """The tokens each frame keeps at ``epsilon``: ``(M, N, C)`` -> ``(M, keep, C)``, in grid order.

        At ``epsilon == 0`` the pruning code is not entered at all (``frames``
        comes back as it is), so the unpruned model's output cannot depend on it.
        """
        if epsilon <= 0.0:
            return frames
        return prune_tokens(frames, keep_count(frames.shape[1], epsilon), self.dpc_k, merge)

    def rank_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Each frame's tokens in DPC-KNN order, highest score first: the ratio-free form of :meth:`prune_frames`.

        The first ``keep_count(N, epsilon)`` of a ranked frame are the tokens it
        keeps at ``epsilon`` (without merging), see :func:`rank_tokens`.
        """
        return rank_tokens(frames, self.dpc_k)

    def attend(self, kept: torch.Tensor) -> torch.Tensor:
        """``(B, K, T, C)``, the tokens each frame keeps (any T, in any order) -> ``(B, K * T, C)``.

        Frames are pruned before the frame embedding is added: the embedding is
        constant within a frame and DPC-KNN's distances do not change under a
        shift, so which tokens a frame keeps does not depend on its place in the
        window. That is what lets video inference prune each frame once, when
        its backbone features are computed, and reuse the result in the K
        windows that contain it.
        """
        window = kept.shape[1]
        if window != self.window:
            raise ValueError(f"expected a window of {self.window} frames, got {window}")
        x = (kept + self.frame_embed).flatten(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)
