"""ViT backbone: a timm VisionTransformer that returns frame tokens.

ViTPose showed a plain ViT with no class token and a simple deconvolution head
is a strong top-down pose model; FTP-Pose builds on it. We keep timm's block
implementation (so its fused attention kernels are used) and only change what
comes out: the last layer's tokens and one intermediate layer's tokens, the
latter feeding the high-resolution branch of the MGFE.
"""

from __future__ import annotations

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn


class ViTBackbone(nn.Module):
    """Patch-16 ViT over a (H, W) person crop, no class token.

    Returns ``(last, intermediate)``, both ``(B, N, C)`` with ``N = H/16 * W/16``.
    """

    def __init__(
        self,
        img_size: tuple[int, int] = (256, 192),
        patch_size: int = 16,
        embed_dim: int = 384,
        depth: int = 12,
        num_heads: int = 6,
        mlp_ratio: float = 4.0,
        intermediate_layer: int | None = None,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.vit = VisionTransformer(
            img_size=img_size,
            patch_size=patch_size,
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            mlp_ratio=mlp_ratio,
            class_token=False,
            global_pool="",
            num_classes=0,
            drop_path_rate=drop_path_rate,
        )
        self.grid_size: tuple[int, int] = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.embed_dim = embed_dim
        # Default: the middle of the network, far enough from the last layer to
        # still carry local detail, deep enough to be semantic.
        self.intermediate_layer = depth // 2 - 1 if intermediate_layer is None else intermediate_layer
        if not 0 <= self.intermediate_layer < depth:
            raise ValueError(f"intermediate_layer {self.intermediate_layer} outside 0..{depth - 1}")

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        vit = self.vit
        x = vit.patch_embed(images)
        x = vit._pos_embed(x)
        x = vit.norm_pre(x)
        intermediate = x
        for i, block in enumerate(vit.blocks):
            x = block(x)
            if i == self.intermediate_layer:
                intermediate = x
        return vit.norm(x), intermediate
