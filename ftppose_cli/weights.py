"""Checkpoint files for every network ftppose ships: one registry of sizes, one JSON schema.

A checkpoint is two files side by side: ``<stem>.safetensors`` (the tensors,
float16 when shipped) and ``<stem>.json``, which says which network the
tensors are for and everything needed to rebuild and run it::

    {"format": "ftppose-weights", "version": 2,
     "network": "pose",             # or "detector": a key of NETWORKS
     "config": {...},               # the network's config, field by field
     "dtype": "float16",
     "inference": {...},            # how it runs: the detector's min_box_score and nms_iou,
                                    # the pruning ratios the pose model was trained at
     "training": {...}}             # how it was made (the run's settings, its validation)

Files written before this schema are read as they are, the shipped
``weights/pose.json`` and ``weights/detector.json`` included: the pose
model's (``"format": "ftppose-checkpoint"``, its config under ``"model"``,
``"trained_epsilons"``) and the detector's (``"format": "ftppose-detector"``,
``"format_version"``, ``"conf"``, ``"nms_iou"``). Anything that does not fit
raises one :class:`CheckpointError` that names the file and the problem.

The registry, as in timm, names each network's sizes as the config fields
that differ from the config's defaults. It is plain data and this module
imports torch only to read or write tensors, so ``--help`` lists the sizes
without paying for torch. Building a network from a file is the network's
own code (:func:`ftppose_cli.models.ftppose.load_model`,
:meth:`ftppose_cli.detection.detector.PersonDetector.from_checkpoint`),
through :func:`load_network`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ftppose_cli.atomic import atomic_write, atomic_write_text
from ftppose_cli.errors import CheckpointError

if TYPE_CHECKING:
    import torch

FORMAT = "ftppose-weights"
VERSION = 2


@dataclass(frozen=True)
class Network:
    """A network ftppose has weights for: its registered sizes and how messages name it."""

    name: str  # the file's "network" key
    title: str  # what --help and errors call it ("Model size", "unknown detector size")
    noun: str  # a checkpoint of it, as an error names it ("not a person-detector checkpoint config")
    sizes: Mapping[str, Mapping[str, Any]]  # size name -> the config fields it sets, smallest first
    default_size: str

    @property
    def size_choices(self) -> str:
        """The registered sizes as --help lists them: ``"tiny, small, base, large, huge"``."""
        return ", ".join(self.sizes)

    def size_fields(self, size: str) -> dict[str, Any]:
        """The config fields of a registered size; ``ValueError`` names the sizes there are."""
        if size not in self.sizes:
            raise ValueError(f"unknown {self.title} size {size!r}; choose one of {self.size_choices}")
        return dict(self.sizes[size])


POSE = Network(
    "pose", "model", "an ftppose checkpoint", default_size="tiny",
    # ViTPose widths and depths for S/B/L/H; "tiny" is our CPU default (DeiT-Ti width, a
    # lighter head and temporal branch so the whole model stays near the backbone's cost).
    sizes={
        "tiny": dict(embed_dim=192, depth=12, num_heads=3, head_channels=128, temporal_depth=2),
        "small": dict(embed_dim=384, depth=12, num_heads=6, head_channels=256),
        "base": dict(embed_dim=768, depth=12, num_heads=12, head_channels=256),
        "large": dict(embed_dim=1024, depth=24, num_heads=16, head_channels=256),
        "huge": dict(embed_dim=1280, depth=32, num_heads=16, head_channels=256),
    },
)

DETECTOR = Network(
    "detector", "detector", "a person-detector checkpoint", default_size="small",
    sizes={
        "tiny": dict(widths=(16, 24, 48, 96, 128), depths=(0, 1, 1, 2, 1), neck_channels=48, head_channels=48),
        "small": {},
        # one more block at strides 8 and 16 and a wider stride-32 stage: ~1.4x small's CPU time
        "medium": dict(widths=(16, 32, 64, 128, 256), depths=(0, 1, 3, 4, 2)),
        # 2.4x medium's parameters, wider strides 8-32 and neck: ~1.7x its training step, ~1.3x its inference
        "large": dict(widths=(16, 32, 96, 192, 320), depths=(0, 1, 4, 6, 3), neck_channels=96, head_channels=96),
    },
)

NETWORKS: dict[str, Network] = {network.name: network for network in (POSE, DETECTOR)}

# The schemas before this one: format -> (network, version key, version, config key, inference keys renamed).
_EARLIER = {
    "ftppose-checkpoint": (POSE, "version", 1, "model", {"trained_epsilons": "pruning_ratios"}),
    "ftppose-detector": (DETECTOR, "format_version", 1, "config", {"conf": "min_box_score", "nms_iou": "nms_iou"}),
}


@dataclass(frozen=True)
class WeightsFile:
    """A checkpoint's JSON, read into the current schema (whatever schema the file has)."""

    network: Network
    tensors: Path  # the .safetensors
    path: Path  # the .json
    config: dict[str, Any]
    dtype: str = "float32"
    inference: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)


def weights_paths(path: str | Path) -> tuple[Path, Path]:
    """``(tensors, json)`` paths for a checkpoint given by either file or their common stem."""
    p = Path(path)
    if p.suffix in (".json", ".safetensors"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def save_weights(model: torch.nn.Module, path: str | Path, network: Network, *, half: bool = True,
                 inference: dict[str, Any] | None = None, training: dict[str, Any] | None = None
                 ) -> tuple[Path, Path]:
    """Write ``model`` (which has a ``config`` with ``to_dict()``) as a checkpoint; returns both paths.

    Both files are written atomically and replace an earlier checkpoint of
    the same name (a training run rewrites its best one every epoch).
    """
    from safetensors.torch import save_file

    tensors_path, json_path = weights_paths(path)
    state = {name: (value.half() if half and value.is_floating_point() else value).detach().cpu().contiguous()
             for name, value in model.state_dict().items()}
    document = {"format": FORMAT, "version": VERSION, "network": network.name, "config": model.config.to_dict(),
                "dtype": "float16" if half else "float32", "inference": inference or {}, "training": training or {}}
    atomic_write(tensors_path, lambda tmp: save_file(state, tmp, metadata={"format": "pt"}), overwrite=True)
    atomic_write_text(json_path, json.dumps(document, indent=1) + "\n", overwrite=True)
    return tensors_path, json_path


def read_weights(path: str | Path, network: Network) -> WeightsFile:
    """The JSON of a checkpoint of ``network``, in this schema or an earlier one, checked."""
    tensors_path, json_path = weights_paths(path)
    if not json_path.is_file():
        raise CheckpointError(json_path, "checkpoint config not found (expected a .json beside the weights)")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(json_path, f"not valid JSON ({exc})") from None
    found = document.get("format") if isinstance(document, dict) else None
    if found == FORMAT:
        version_key, version, config_key, renamed = "version", VERSION, "config", None
        kind = NETWORKS.get(document.get("network"))
    elif found in _EARLIER:
        kind, version_key, version, config_key, renamed = _EARLIER[found]
    else:
        shown = "no format" if found is None else f"format {found!r}"
        raise CheckpointError(json_path, f"not {network.noun} config ({shown}; expected format {FORMAT!r})")
    if kind is not network:
        raise CheckpointError(json_path, f"not {network.noun} config: it holds weights of the network "
                                         f"{document.get('network') if kind is None else kind.name!r}")
    if document.get(version_key) != version:
        raise CheckpointError(json_path, f"checkpoint version {document.get(version_key)} is not supported "
                                         f"(this ftppose reads version {version} of {found!r})")
    if not isinstance(document.get(config_key), dict):
        raise CheckpointError(json_path, f"invalid {network.title} config (no {config_key!r} object)")
    if renamed is None:
        inference = document.get("inference") or {}
    else:
        inference = {new: document[old] for old, new in renamed.items() if old in document}
    return WeightsFile(network, tensors_path, json_path, document[config_key], document.get("dtype", "float32"),
                       inference, document.get("training") or {})


def read_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint (its ``.safetensors`` alone: the JSON is not needed)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    tensors_path, _ = weights_paths(path)
    if not tensors_path.is_file():
        raise CheckpointError(tensors_path, "weights file not found")
    try:
        return load_file(str(tensors_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:80]
        raise CheckpointError(tensors_path, f"unreadable weights ({reason})") from None


M = TypeVar("M", bound="torch.nn.Module")


def load_network(path: str | Path, network: Network, build: Callable[[dict[str, Any]], M]) -> tuple[M, WeightsFile]:
    """Build ``network`` from a checkpoint's config (``build(config)``) and load its tensors, checked."""
    file = read_weights(path, network)
    try:
        model = build(file.config)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(file.path, f"invalid {network.title} config ({exc})") from None
    load_state_checked(model, read_tensors(file.tensors), file.tensors)
    return model, file


def load_into(model: torch.nn.Module, path: str | Path, *, partial: bool = False) -> int:
    """Copy a checkpoint's tensors into ``model`` (``--init-from``); returns how many were copied.

    All of them, checked as :func:`load_state_checked` does; with ``partial``
    only those whose name and shape fit, the others keep their values (a
    temporal stage started from a single-frame model). Only the
    ``.safetensors`` is read, so a file without its JSON
    (``scripts/merge_temporal.py``'s) serves too.
    """
    state = read_tensors(path)
    own = model.state_dict()
    if not partial:
        load_state_checked(model, state, weights_paths(path)[0])
        return len(state)
    fitting = {name: value.to(own[name].dtype) for name, value in state.items()
               if name in own and own[name].shape == value.shape}
    model.load_state_dict(fitting, strict=False)
    return len(fitting)


def load_state_checked(model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str | Path) -> None:
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
    model.load_state_dict({name: value.to(expected[name].dtype) for name, value in state.items()})
