"""Load a public ViTPose checkpoint (mmpose format) into FTP-Pose by key mapping.

ftppose never downloads weights; this is for users who already have a ViTPose
``.pth`` on disk and want to start from it (e.g. to fine-tune the temporal
path). mmpose names the backbone ``backbone.*`` with its own block layout and
the classic head ``keypoint_head.*`` (mmpose 0.x) or ``head.*`` (1.x); the
MGFE and fusion have no ViTPose counterpart and keep their initialisation (the
head's temporal entry is zero, so the result predicts as ViTPose does).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.ftppose import FTPPose
from ftppose_cli.weights import load_state_checked

_BACKBONE_RULES: tuple[tuple[str, str], ...] = (
    (r"^backbone\.patch_embed\.proj\.", "backbone.vit.patch_embed.proj."),
    (r"^backbone\.pos_embed$", "backbone.vit.pos_embed"),
    (r"^backbone\.blocks\.(\d+)\.", r"backbone.vit.blocks.\1."),
    (r"^backbone\.last_norm\.", "backbone.vit.norm."),
    (r"^backbone\.norm\.", "backbone.vit.norm."),
)
_HEAD_RULES: tuple[tuple[str, str], ...] = (
    (r"^(?:keypoint_head|head)\.deconv_layers\.0\.", "head.deconv1.0."),
    (r"^(?:keypoint_head|head)\.deconv_layers\.1\.", "head.deconv1.1."),
    (r"^(?:keypoint_head|head)\.deconv_layers\.3\.", "head.deconv2.0."),
    (r"^(?:keypoint_head|head)\.deconv_layers\.4\.", "head.deconv2.1."),
    (r"^(?:keypoint_head|head)\.final_layer\.", "head.final."),
)


def map_vitpose_key(key: str) -> str | None:
    """Our name for an mmpose ViTPose key, or None when it has no counterpart."""
    key = key.removeprefix("module.")
    for pattern, replacement in _BACKBONE_RULES + _HEAD_RULES:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


def convert_vitpose_state(state: dict[str, torch.Tensor], model: FTPPose) -> dict[str, torch.Tensor]:
    """Map an mmpose state dict onto ``model``; the result is a complete state dict for it."""
    target = model.state_dict()
    converted = dict(target)
    mapped = 0
    for key, tensor in state.items():
        ours = map_vitpose_key(key)
        if ours is None or ours not in target:
            continue
        if ours == "backbone.vit.pos_embed":
            tensor = _fit_pos_embed(tensor, target[ours].shape)
        if tensor.shape != target[ours].shape:
            raise CheckpointError(None, f"ViTPose tensor {key} has shape {tuple(tensor.shape)}, "
                                  f"the model's {ours} needs {tuple(target[ours].shape)}; pick the matching --size")
        converted[ours] = tensor
        mapped += 1
    needed = [k for k in target if k.startswith(("backbone.", "head.deconv", "head.final"))
              and not k.endswith("num_batches_tracked")]
    missing = [k for k in needed if k not in {map_vitpose_key(s) for s in state}]
    if missing:
        raise CheckpointError(None, f"not a ViTPose checkpoint for this size: {len(missing)} tensors have no "
                              f"source, e.g. {missing[0]}")
    return converted


def _fit_pos_embed(pos: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """ViTPose's pos_embed carries a class-token slot (1 + N entries); ours has N."""
    if pos.shape[1] == shape[1] + 1:
        return pos[:, 1:]
    return pos


def load_vitpose_checkpoint(path: str | Path, model: FTPPose) -> FTPPose:
    """Read an mmpose ``.pth`` from disk and load it into ``model`` (in place)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise CheckpointError(path, f"not a readable PyTorch checkpoint ({type(exc).__name__})") from None
    state = blob.get("state_dict", blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(path, "no state_dict inside")
    try:
        converted = convert_vitpose_state(state, model)
    except CheckpointError as exc:
        raise CheckpointError(path, exc.problem) from None
    load_state_checked(model, converted, path)
    return model
