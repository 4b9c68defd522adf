"""Checkpoints: safetensors weights plus a JSON config beside them.

``pose.safetensors`` holds the tensors (half precision when shipped);
``pose.json`` holds everything needed to rebuild the network and to know what
it was trained for (size, joints, input size, window, the pruning ratio it was
trained at, version). One call, :func:`load_model`, turns a path into a ready
model; anything that does not fit raises one :class:`CheckpointError` that
names the mismatch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ftppose_cli.atomic import atomic_write, atomic_write_text
from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.ftppose import FTPPose, FTPPoseConfig

FORMAT_VERSION = 1


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """``(weights, config)`` paths for a checkpoint given by either file or their common stem."""
    p = Path(path)
    if p.suffix == ".json":
        return p.with_suffix(".safetensors"), p
    if p.suffix == ".safetensors":
        return p, p.with_suffix(".json")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def save_checkpoint(
    model: FTPPose, path: str | Path, half: bool = True, metadata: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write weights and config atomically; returns both paths."""
    weights_path, config_path = checkpoint_paths(path)
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    document = {
        "format": "ftppose-checkpoint",
        "version": FORMAT_VERSION,
        "model": model.config.to_dict(),
        "dtype": "float16" if half else "float32",
        **(metadata or {}),
    }
    atomic_write(weights_path, lambda tmp: save_file(state, tmp, metadata={"format": "pt"}), overwrite=True)
    atomic_write_text(config_path, json.dumps(document, indent=2) + "\n", overwrite=True)
    return weights_path, config_path


def read_checkpoint_config(path: str | Path) -> dict[str, Any]:
    """The JSON document of a checkpoint, validated."""
    _, config_path = checkpoint_paths(path)
    if not config_path.is_file():
        raise CheckpointError(config_path, "checkpoint config not found (expected a .json beside the weights)")
    try:
        document = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(config_path, f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != "ftppose-checkpoint":
        raise CheckpointError(config_path, "not an ftppose checkpoint config (missing format: ftppose-checkpoint)")
    if document.get("version") != FORMAT_VERSION:
        raise CheckpointError(config_path, f"checkpoint version {document.get('version')} is not supported "
                              f"(this ftppose reads version {FORMAT_VERSION})")
    return document


def load_model(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> FTPPose:
    """Build the model a checkpoint describes and load its weights, in eval mode."""
    weights_path, _ = checkpoint_paths(path)
    document = read_checkpoint_config(path)
    try:
        config = FTPPoseConfig.from_dict(document["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(weights_path.with_suffix(".json"), f"invalid model config ({exc})") from None
    if not weights_path.is_file():
        raise CheckpointError(weights_path, "weights file not found")
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(weights_path, f"unreadable weights ({exc})") from None
    model = FTPPose(config)
    load_state_checked(model, state, weights_path)
    return model.to(device=device, dtype=dtype).eval()


def load_state_checked(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """Load a state dict, naming the first mismatch instead of PyTorch's wall of text."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        raise CheckpointError(source, f"weights do not fit the model: {len(missing)} tensors missing, "
                                      f"e.g. {missing[0]}")
    if unexpected:
        raise CheckpointError(source, f"weights do not fit the model: {len(unexpected)} unexpected tensors, "
                              f"e.g. {unexpected[0]}")
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(source, f"weights do not fit the model: {name} has shape {tuple(tensor.shape)}, "
                                  f"the config expects {tuple(expected[name].shape)}")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
