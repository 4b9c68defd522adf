"""FTP-Pose: assembly, typed config, and the model built from a registered size or a checkpoint.

A model is built by one factory from a small frozen config, as in timm; the
sizes are registered in :mod:`ftppose_cli.weights`, beside the checkpoint
format, so ``--help`` lists them without importing torch. The
forward pass takes a window of K person crops and returns the key frame's
heatmaps; ``epsilon`` (the pruning ratio) is an argument of the forward pass,
so one set of weights serves every ratio.

For video, :meth:`FTPPose.embed_and_keep` and :meth:`FTPPose.estimate_kept`
split the work so each frame's backbone features, and the tokens it keeps
after pruning, are computed once and reused by every window that contains it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.models.backbone import STEMS, ViTBackbone
from ftppose_cli.models.fusion import CrossAttentionFusion
from ftppose_cli.models.head import HeatmapHead
from ftppose_cli.models.mgfe import HighResolutionBranch, TemporalBranch
from ftppose_cli.weights import POSE, load_network


@dataclass(frozen=True)
class FTPPoseConfig:
    """Everything needed to rebuild the network; stored next to the weights."""

    size: str = "tiny"
    embed_dim: int = 192
    depth: int = 12
    num_heads: int = 3
    img_size: tuple[int, int] = (256, 192)
    patch_size: int = 16
    stem: str = "patch"  # "patch": ViT's 16x16 projection; "conv": stride-2 3x3 convolutions (see backbone)
    num_joints: int = NUM_JOINTS
    window: int = 3
    temporal_depth: int = 4
    fusion_mlp_ratio: float = 1.0
    head_channels: int = 256
    heatmap_kind: str = "softmax"  # "softmax": per-joint logits over the map; "mse": ViTPose Gaussian heatmaps
    dpc_k: int = 5
    merge_pruned: bool = False
    intermediate_layer: int | None = None
    joint_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and >= 1 (K = 2r + 1), got {self.window}")
        if self.stem not in STEMS:
            raise ValueError(f"unknown stem {self.stem!r}; choose one of {', '.join(STEMS)}")
        if any(s % self.patch_size for s in self.img_size):
            raise ValueError(f"input size {self.img_size} is not a multiple of patch {self.patch_size}")

    @property
    def grid_size(self) -> tuple[int, int]:
        return (self.img_size[0] // self.patch_size, self.img_size[1] // self.patch_size)

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return (self.img_size[0] // 4, self.img_size[1] // 4)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["img_size"] = list(self.img_size)
        data["joint_names"] = list(self.joint_names)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FTPPoseConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        data = dict(data)
        data.setdefault("heatmap_kind", "mse")  # configs written before the field existed were MSE-trained
        if "img_size" in data:
            data["img_size"] = tuple(data["img_size"])
        if "joint_names" in data:
            data["joint_names"] = tuple(data["joint_names"])
        return cls(**data)


def config_for(size: str, **overrides) -> FTPPoseConfig:
    """The default config of a registered size (:data:`ftppose_cli.weights.POSE`), with fields overridden."""
    return FTPPoseConfig(size=size, **{**POSE.size_fields(size), **overrides})


class FTPPose(nn.Module):
    """Backbone -> MGFE (high-res spatial + pruned temporal) -> fusion -> heatmap head.

    With ``window == 1`` there is no temporal path: the model is the
    single-frame (ViTPose-style) baseline that pruning is measured against.
    """

    def __init__(self, config: FTPPoseConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.embed_dim
        self.backbone = ViTBackbone(
            img_size=config.img_size,
            patch_size=config.patch_size,
            embed_dim=dim,
            depth=config.depth,
            num_heads=config.num_heads,
            intermediate_layer=config.intermediate_layer,
            stem=config.stem,
        )
        self.temporal: bool = config.window > 1
        if self.temporal:
            self.high_resolution = HighResolutionBranch(dim)
            self.temporal_branch = TemporalBranch(dim, config.temporal_depth, config.num_heads, config.window,
                                                  config.dpc_k)
            self.fusion = CrossAttentionFusion(dim, config.num_heads, config.fusion_mlp_ratio)
        self.head = HeatmapHead(dim, config.num_joints, config.head_channels, dim if self.temporal else None)

    @property
    def key_index(self) -> int:
        return self.config.window // 2

    def embed_frames(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Backbone tokens of independent frames: ``(M, 3, H, W)`` -> ``last, intermediate`` ``(M, N, C)``."""
        return self.backbone(images)

    def keep_frame_tokens(self, last: torch.Tensor, epsilon: float = 0.0, merge: bool | None = None) -> torch.Tensor:
        """The tokens each frame gives the temporal branch at ``epsilon``: ``(M, N, C)`` -> ``(M, keep, C)``.

        Pruning depends on the frame alone (see :meth:`TemporalBranch.attend`),
        so video inference calls this once per frame and every window that
        contains the frame reuses the result. At ``epsilon == 0`` (or without a
        temporal path) it returns ``last`` itself.
        """
        if not self.temporal:
            return last
        merge = self.config.merge_pruned if merge is None else merge
        return self.temporal_branch.prune_frames(last, epsilon, merge)

    def rank_frame_tokens(self, last: torch.Tensor) -> torch.Tensor:
        """Each frame's tokens in DPC-KNN order, highest score first (:meth:`TemporalBranch.rank_frames`).

        The ratio-free form of :meth:`keep_frame_tokens` (without merging): the
        first ``keep_count(N, epsilon)`` rows are what a frame keeps at ``epsilon``.
        The exported per-frame model outputs it, so one export serves every ratio.
        """
        if not self.temporal:
            return last
        return self.temporal_branch.rank_frames(last)

    def embed_and_keep(self, images: torch.Tensor, epsilon: float = 0.0
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """All per-frame work of video inference: ``last, intermediate`` and the kept tokens of each frame."""
        last, intermediate = self.embed_frames(images)
        return last, intermediate, self.keep_frame_tokens(last, epsilon)

    def estimate_window(
        self,
        last: torch.Tensor,
        key_intermediate: torch.Tensor,
        epsilon: float = 0.0,
        merge: bool | None = None,
    ) -> torch.Tensor:
        """Heatmaps of the key frame from cached tokens.

        Args:
            last: ``(B, K, N, C)`` last-layer tokens of the window's frames.
            key_intermediate: ``(B, N, C)`` intermediate tokens of the key frame.
            epsilon: pruning ratio of the temporal branch, in [0, 1).
            merge: average pruned tokens into their nearest kept token
                (default: the config's ``merge_pruned``).
        """
        batch, window, num, dim = last.shape
        kept = self.keep_frame_tokens(last.flatten(0, 1), epsilon, merge) if self.temporal else last
        return self.estimate_kept(kept.reshape(batch, window, -1, dim), last[:, self.key_index], key_intermediate)

    def estimate_kept(self, kept: torch.Tensor, key_last: torch.Tensor, key_intermediate: torch.Tensor) -> torch.Tensor:
        """Heatmaps of the key frame from the tokens each frame of its window kept.

        Args:
            kept: ``(B, K, T, C)`` the tokens of each frame the temporal branch
                sees (:meth:`keep_frame_tokens`; all N, in grid order, at ratio 0).
            key_last: ``(B, N, C)`` the key frame's last-layer tokens, all of them,
                in grid order: the head and the high-resolution branch work on them.
            key_intermediate: ``(B, N, C)`` the key frame's intermediate tokens.
        """
        batch, num, dim = key_last.shape
        grid = self.config.grid_size
        key_map = key_last.transpose(1, 2).reshape(batch, dim, *grid)
        if not self.temporal:
            return self.head(key_map)
        query = self.high_resolution(key_last, key_intermediate, grid)
        context = self.temporal_branch.attend(kept)
        fused = self.fusion(query, context)
        fused_map = fused.transpose(1, 2).reshape(batch, dim, grid[0] * 2, grid[1] * 2)
        return self.head(key_map, fused_map)

    def forward(self, clips: torch.Tensor, epsilon: float = 0.0, merge: bool | None = None) -> torch.Tensor:
        """``(B, K, 3, H, W)`` (or ``(B, 3, H, W)`` when K = 1) -> ``(B, J, H/4, W/4)``."""
        if clips.dim() == 4:
            clips = clips[:, None]
        batch, window = clips.shape[:2]
        if window != self.config.window:
            raise ValueError(f"model expects windows of {self.config.window} frames, got {window}")
        last, intermediate = self.embed_frames(clips.flatten(0, 1))
        last = last.reshape(batch, window, *last.shape[1:])
        key_intermediate = intermediate.reshape(batch, window, *intermediate.shape[1:])[:, self.key_index]
        return self.estimate_window(last, key_intermediate, epsilon, merge)

    def stage_modules(self) -> dict[str, list[nn.Module]]:
        """Modules per stage, for FLOP and parameter accounting."""
        stages: dict[str, list[nn.Module]] = {"backbone": [self.backbone], "head": [self.head]}
        if self.temporal:
            stages["mgfe"] = [self.high_resolution, self.temporal_branch]
            stages["fusion"] = [self.fusion]
        return stages


def create_model(size: str | FTPPoseConfig = "tiny", **overrides) -> FTPPose:
    """Build an FTP-Pose model from a registered size name or a config."""
    config = size if isinstance(size, FTPPoseConfig) else config_for(size, **overrides)
    if overrides and isinstance(size, FTPPoseConfig):
        config = dataclasses.replace(config, **overrides)
    return FTPPose(config)


def load_model(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> FTPPose:
    """The model a checkpoint describes (:mod:`ftppose_cli.weights`) with its weights, in eval mode."""
    model, _ = load_network(path, POSE, lambda config: FTPPose(FTPPoseConfig.from_dict(config)))
    return model.to(device=device, dtype=dtype).eval()
