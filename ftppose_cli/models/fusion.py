"""Cross-attention fusion of the two MGFE branches.

Queries are the high-resolution key-frame features (where the joints are
localised); keys and values are the temporal branch's kept tokens (what the
neighbouring frames say). Poseidon uses the same query/context split.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import Mlp
from torch import nn


class CrossAttentionFusion(nn.Module):
    """Pre-norm cross-attention + MLP, both residual."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 1.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.norm_query = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden_features=max(1, int(dim * mlp_ratio)))

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``query (B, Q, C)``, ``context (B, M, C)`` -> ``(B, Q, C)``."""
        batch, num_q, dim = query.shape
        heads = self.num_heads
        q = self.q(self.norm_query(query)).reshape(batch, num_q, heads, dim // heads).transpose(1, 2)
        kv = self.kv(self.norm_context(context)).reshape(batch, -1, 2, heads, dim // heads)
        k, v = kv.permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, num_q, dim)
        x = query + self.proj(attended)
        return x + self.mlp(self.norm_mlp(x))
