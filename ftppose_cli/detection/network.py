"""A small anchor-free single-class person detector (CenterNet / TTFNet style).

Backbone: a small residual CNN of depthwise-separable blocks (depthwise k x k + pointwise 1x1,
BatchNorm, ReLU; MobileNet-v1-like with skips) with five stride-2 stages, defined here and trained
from scratch by this project. Neck: an FPN-lite that merges strides 8, 16 and 32
into one stride-8 map. Head: a centre heatmap (1 channel, sigmoid) and per-pixel box distances
``(left, top, right, bottom)`` in input pixels. Decoding (see :mod:`ftppose_cli.detection.detector`)
takes heatmap peaks (3x3 max-pool NMS), turns the distances at each peak into a box, then runs a
box NMS.

The model takes ``float`` RGB images in ``[0, 255]`` of shape ``(B, 3, H, W)`` with ``H`` and
``W`` multiples of 32, and normalises them itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from ftppose_cli.weights import DETECTOR


@dataclass
class DetectorConfig:
    """Architecture and input settings; stored verbatim in ``detector.json``."""

    widths: tuple[int, ...] = (16, 32, 64, 128, 192)  # stage channels at strides 2, 4, 8, 16, 32
    depths: tuple[int, ...] = (0, 1, 2, 3, 2)         # residual blocks per stage (after the downsample)
    kernel: int = 5                                   # depthwise kernel at strides 8..32 (3 before)
    neck_channels: int = 64
    head_channels: int = 64
    stride: int = 8                                  # output stride (fixed by the neck)
    input_size: int = 416                            # longer image side after letterboxing
    box_scale: float = 32.0                          # box distance = relu(raw) * box_scale
    mean: tuple[float, float, float] = (123.7, 116.3, 103.5)
    std: tuple[float, float, float] = (58.4, 57.1, 57.4)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> DetectorConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown detector config keys: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _conv_bn(cin: int, cout: int, k: int = 3, s: int = 1, act: bool = True, groups: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _sep(cin: int, cout: int, k: int = 3, s: int = 1, act: bool = True) -> nn.Sequential:
    """Depthwise k x k (stride s) then pointwise 1x1."""
    return nn.Sequential(_conv_bn(cin, cin, k, s, groups=cin), _conv_bn(cin, cout, 1, act=act))


class _SepBlock(nn.Module):
    def __init__(self, c: int, k: int) -> None:
        super().__init__()
        self.body = _sep(c, c, k, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x), inplace=True)


class _Backbone(nn.Module):
    def __init__(self, widths: tuple[int, ...], depths: tuple[int, ...], kernel: int) -> None:
        super().__init__()
        stages = []
        cin = 3
        for i, (w, d) in enumerate(zip(widths, depths)):
            k = 3 if i < 2 else kernel
            down = _conv_bn(cin, w, 3, 2) if i == 0 else _sep(cin, w, 3, 2)
            stages.append(nn.Sequential(down, *[_SepBlock(w, k) for _ in range(d)]))
            cin = w
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats  # strides 2, 4, 8, 16, 32


class PersonDetectorNet(nn.Module):
    """Backbone + FPN-lite + centre/box head. ``forward`` returns ``(heatmap_logits, ltrb)``."""

    def __init__(self, config: DetectorConfig) -> None:
        super().__init__()
        if len(config.widths) != 5 or len(config.depths) != 5:
            raise ValueError("widths and depths need 5 entries (strides 2..32)")
        if config.stride != 8:
            raise ValueError("only output stride 8 is implemented")
        self.config = config
        w, n, h = config.widths, config.neck_channels, config.head_channels
        self.backbone = _Backbone(config.widths, config.depths, config.kernel)
        self.lat8 = _conv_bn(w[2], n, 1)
        self.lat16 = _conv_bn(w[3], n, 1)
        self.lat32 = _conv_bn(w[4], n, 1)
        self.smooth16 = _sep(n, n, config.kernel)
        self.smooth8 = _sep(n, n, config.kernel)
        self.heat_head = nn.Sequential(_sep(n, h, 3), nn.Conv2d(h, 1, 1))
        self.box_head = nn.Sequential(_sep(n, h, 3), nn.Conv2d(h, 4, 1))
        nn.init.constant_(self.heat_head[-1].bias, -4.6)  # prior 0.01
        nn.init.normal_(self.heat_head[-1].weight, std=0.01)
        nn.init.constant_(self.box_head[-1].bias, 1.0)
        nn.init.normal_(self.box_head[-1].weight, std=0.01)
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``images``: (B, 3, H, W) RGB in [0, 255]. Returns heatmap logits (B, 1, H/8, W/8) and
        box distances (B, 4, H/8, W/8) ``(l, t, r, b)`` in input pixels from each cell centre."""
        x = (images - self.mean) / self.std
        _, _, c8, c16, c32 = self.backbone(x)
        p32 = self.lat32(c32)
        p16 = self.smooth16(self.lat16(c16) + F.interpolate(p32, size=c16.shape[-2:], mode="nearest"))
        p8 = self.smooth8(self.lat8(c8) + F.interpolate(p16, size=c8.shape[-2:], mode="nearest"))
        heat = self.heat_head(p8)
        ltrb = F.relu(self.box_head(p8)) * self.config.box_scale
        return heat, ltrb


def create_detector(size: str | DetectorConfig = DETECTOR.default_size, **overrides) -> PersonDetectorNet:
    """Build a detector from a registered size name (:data:`ftppose_cli.weights.DETECTOR`) or a config
    (``overrides`` replace fields)."""
    chosen = size.to_dict() if isinstance(size, DetectorConfig) else DETECTOR.size_fields(size)
    return PersonDetectorNet(DetectorConfig.from_dict({**chosen, **overrides}))
