"""ViT backbone: a timm VisionTransformer that returns frame tokens.

ViTPose showed a plain ViT with no class token and a simple deconvolution head
is a strong top-down pose model; FTP-Pose builds on it. We keep timm's block
implementation (so its fused attention kernels are used) and only change what
comes out: the last layer's tokens and one intermediate layer's tokens, the
latter feeding the high-resolution branch of the MGFE.

``stem="conv"`` replaces the single 16x16 patchify convolution with a stack of
stride-2 3x3 convolutions (timm's ``ConvStem`` inside a ``HybridEmbed``), as in
Xiao et al., *Early Convolutions Help Transformers See Better* (NeurIPS 2021):
the tokens, their grid and everything after the embedding are unchanged, but
a ViT trained from scratch on a small corpus (ours: a few thousand people)
gets the locality prior of a CNN for about 10 % more backbone FLOPs (20 % more
backbone time on a 2-core CPU, ``benchmarks/README.md``).
"""

from __future__ import annotations

import math

import torch
from timm.layers import HybridEmbed
from timm.models.vision_transformer import VisionTransformer
from timm.models.vision_transformer_hybrid import ConvStem
from torch import nn

STEMS = ("patch", "conv")


def conv_stem_embed(img_size: int | tuple[int, int], patch_size: int, in_chans: int, embed_dim: int,
                    **kwargs) -> HybridEmbed:
    """Patch embedding by ``log2(patch_size)`` stride-2 3x3 convolutions, widths doubling up to ``embed_dim``.

    The last convolution has no norm or activation and outputs ``embed_dim``
    channels, so it is the token projection (``HybridEmbed(proj=False)``).
    """
    depth = int(math.log2(patch_size))
    if 2 ** depth != patch_size:
        raise ValueError(f"a convolutional stem needs a power-of-two patch size, got {patch_size}")
    channels = tuple(embed_dim // 2 ** (depth - 1 - i) for i in range(depth))
    stem = ConvStem(in_chans=in_chans, depth=depth, channels=channels, stride=(2,) * depth)
    kwargs.pop("bias", None)
    return HybridEmbed(stem, img_size=img_size, patch_size=1, in_chans=in_chans, embed_dim=embed_dim, proj=False,
                       **kwargs)


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
        stem: str = "patch",
    ) -> None:
        super().__init__()
        if stem not in STEMS:
            raise ValueError(f"unknown stem {stem!r}; choose one of {', '.join(STEMS)}")
        extra = {"embed_layer": conv_stem_embed} if stem == "conv" else {}
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
            **extra,
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
