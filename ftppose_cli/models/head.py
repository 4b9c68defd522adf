"""ViTPose-style heatmap head, with a zero-initialised entry for the temporal path.

Two stride-2 deconvolutions take the 16x12 key-frame tokens to 64x48, then a
1x1 convolution gives one heatmap per joint. The MGFE's fused 32x24 features
enter after the first deconvolution through a 1x1 convolution initialised to
zero: a fresh model carrying only single-frame (backbone + head) weights
therefore predicts exactly what that single-frame model predicts, and training
the temporal path starts from the single-frame solution.
"""

from __future__ import annotations

import torch
from torch import nn


def _deconv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class HeatmapHead(nn.Module):
    def __init__(self, in_channels: int, num_joints: int, channels: int = 256, temporal_channels: int | None = None):
        super().__init__()
        self.deconv1 = _deconv(in_channels, channels)
        self.deconv2 = _deconv(channels, channels)
        self.final = nn.Conv2d(channels, num_joints, kernel_size=1)
        self.temporal_entry: nn.Conv2d | None = None
        if temporal_channels is not None:
            self.temporal_entry = nn.Conv2d(temporal_channels, channels, kernel_size=1)
            nn.init.zeros_(self.temporal_entry.weight)
            nn.init.zeros_(self.temporal_entry.bias)

    def forward(self, features: torch.Tensor, temporal: torch.Tensor | None = None) -> torch.Tensor:
        """``features (B, C, h, w)``, optional ``temporal (B, C', 2h, 2w)`` -> ``(B, J, 4h, 4w)``."""
        x = self.deconv1(features)
        if temporal is not None:
            if self.temporal_entry is None:
                raise ValueError("this head was built without a temporal entry")
            x = x + self.temporal_entry(temporal)
        return self.final(self.deconv2(x))
