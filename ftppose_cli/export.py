"""ONNX export of the pose model's two halves and of the person detector.

Video inference runs FTP-Pose in two halves (:class:`~ftppose_cli.models.ftppose.FTPPose`):
the per-frame half once per person-frame, the window half once per window of
K frames. Each becomes its own ONNX model, so a deployment keeps the reuse of
per-frame work that makes video fast:

* ``pose_frames.onnx``: ``images (B, 3, H, W)`` (RGB crops normalised with
  ImageNet's mean and std) -> ``last``, ``intermediate`` and ``ranked``, each
  ``(B, N, C)``. ``ranked`` is ``last`` reordered by DPC-KNN score, highest
  first: the pruning ratio is not baked in.
* ``pose_window.onnx``: ``kept (B, K, T, C)``, ``key_last (B, N, C)``,
  ``key_intermediate (B, N, C)`` -> ``heatmaps (B, J, H/4, W/4)``. The ratio
  is an input, as the token count T: at ratio epsilon each frame gives the
  first ``ceil((1 - epsilon) * N)`` rows of its ``ranked`` (all of ``last``,
  in grid order, at 0). A single-frame model (K = 1) takes ``key_last`` alone.
* ``detector.onnx``: ``images (B, 3, H, W)`` RGB in [0, 255], sides multiples
  of 32 -> ``heatmap_logits (B, 1, H/8, W/8)`` and ``ltrb (B, 4, H/8, W/8)``,
  BatchNorms folded into their convolutions.

The batch (and the detector's image size) is dynamic. Each file carries what a
user needs to run it without this package in its metadata (joint names, input
size, normalisation, how to pick T for a ratio, the ratios the weights were
trained at, the source checkpoint's SHA-256), and :mod:`ftppose_cli.onnx_backend`
reads it back. The exporter is PyTorch's own (``torch.onnx.export`` with
``dynamo=True``, which needs the ``onnx`` and ``onnxscript`` packages).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ftppose_cli.atomic import atomic_write, check_writable
from ftppose_cli.crops import IMAGENET_MEAN, IMAGENET_STD
from ftppose_cli.errors import FtpposeError
from ftppose_cli.formats.joints import POSETRACK_JOINTS
from ftppose_cli.models.ftppose import FTPPose

if TYPE_CHECKING:
    from ftppose_cli.weights import WeightsFile

EXPORT_FORMAT = "ftppose-onnx"
EXPORT_VERSION = 2  # 2: the detector's inference settings (input sizes too) under "ftppose.inference"
DEFAULT_OPSET = 20
POSE_FRAMES = "pose_frames.onnx"
POSE_WINDOW = "pose_window.onnx"
DETECTOR = "detector.onnx"


@dataclass(frozen=True)
class ExportedModels:
    """The files of one export."""

    pose_frames: Path
    pose_window: Path
    detector: Path | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.pose_frames, self.pose_window, self.detector) if p is not None]


class _FramesHalf(nn.Module):
    """Per-frame half: backbone tokens and their DPC-KNN order."""

    def __init__(self, model: FTPPose) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        last, intermediate = self.model.embed_frames(images)
        return last, intermediate, self.model.rank_frame_tokens(last)


class _WindowHalf(nn.Module):
    """Window half: temporal branch, fusion and head from the kept tokens."""

    def __init__(self, model: FTPPose) -> None:
        super().__init__()
        self.model = model

    def forward(self, kept: torch.Tensor, key_last: torch.Tensor, key_intermediate: torch.Tensor) -> torch.Tensor:
        return self.model.estimate_kept(kept, key_last, key_intermediate)


class _SingleFrameHead(nn.Module):
    """Window half of a single-frame model (K = 1): the head on the frame's tokens."""

    def __init__(self, model: FTPPose) -> None:
        super().__init__()
        self.model = model

    def forward(self, key_last: torch.Tensor) -> torch.Tensor:
        return self.model.estimate_kept(key_last[:, None], key_last, key_last)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pose_metadata(model: FTPPose, source: dict[str, Any] | None = None) -> dict[str, str]:
    """What both pose files say about themselves (ONNX metadata values are strings)."""
    config = model.config
    num = config.grid_size[0] * config.grid_size[1]
    return {
        "ftppose.format": EXPORT_FORMAT,
        "ftppose.export_version": str(EXPORT_VERSION),
        "ftppose.model_config": json.dumps(config.to_dict()),
        "ftppose.joint_names": json.dumps(list(config.joint_names or POSETRACK_JOINTS)),
        "ftppose.input_size": json.dumps(list(config.img_size)),
        "ftppose.input": f"RGB person crops (B, 3, {config.img_size[0]}, {config.img_size[1]}) float32, "
                         f"(pixel / 255 - mean) / std with mean {list(IMAGENET_MEAN)} and std {list(IMAGENET_STD)}",
        "ftppose.heatmaps": f"{config.heatmap_kind}: " + (
            "logits; a spatial softmax per joint gives its distribution" if config.heatmap_kind == "softmax"
            else "heatmaps; the peak marks the joint"),
        "ftppose.window": str(config.window),
        "ftppose.tokens_per_frame": str(num),
        "ftppose.pruning": (
            f"ratio as an input: at ratio epsilon each of the K frames gives pose_window the first "
            f"ceil((1 - epsilon) * {num}) rows of its `ranked` tokens (pose_frames' DPC-KNN order); at 0 all "
            f"{num} rows of `last`, in grid order"),
        "ftppose.trained_ratios": json.dumps((source or {}).get("trained_ratios", [])),
        "ftppose.source": json.dumps({k: v for k, v in (source or {}).items() if k != "trained_ratios"}),
    }


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, *, input_names: list[str],
            output_names: list[str], dynamic_shapes: dict, metadata: dict[str, str], doc: str, opset: int,
            overwrite: bool) -> Path:
    """Trace ``module`` with torch's dynamo exporter and write it atomically, metadata included."""
    try:
        import onnx  # noqa: F401  (the exporter needs both; say so before it fails deep inside)
        import onnxscript  # noqa: F401
    except ImportError:
        raise FtpposeError(None, "ONNX export needs the onnx and onnxscript packages: "
                                 "pip install -e \".[onnx]\"") from None
    captured = io.StringIO()
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings(), \
            contextlib.redirect_stdout(captured):
        warnings.simplefilter("ignore")  # the exporter's deprecation and shape-naming chatter
        program = torch.onnx.export(module, args, dynamo=True, verbose=False, opset_version=opset,
                                    input_names=input_names, output_names=output_names,
                                    dynamic_shapes=dynamic_shapes)
    program.model.metadata_props.update(metadata)
    program.model.producer_name = "ftppose"
    program.model.doc_string = doc
    return atomic_write(path, lambda tmp: program.save(tmp), overwrite=overwrite)


def export_pose(model: FTPPose, folder: str | Path, *, source: dict[str, Any] | None = None,
                opset: int = DEFAULT_OPSET, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``pose_frames.onnx`` and ``pose_window.onnx`` for ``model`` into ``folder``.

    ``source`` (the checkpoint's name, SHA-256 and trained ratios) goes into the metadata.
    A model that merges pruned tokens (``merge_pruned``) is refused: merging
    depends on the ratio, so it cannot be done once per frame for every ratio.
    """
    config = model.config
    if config.merge_pruned:
        raise FtpposeError(None, "this checkpoint merges pruned tokens (merge_pruned), which depends on the ratio; "
                                 "only pruning by selection exports with the ratio as an input")
    folder = Path(folder)
    for name in (POSE_FRAMES, POSE_WINDOW):  # both before the first is written
        check_writable(folder / name, overwrite=overwrite)
    model = copy.deepcopy(model).float().cpu().eval()
    num = config.grid_size[0] * config.grid_size[1]
    metadata = pose_metadata(model, source)
    batch = torch.export.Dim("batch", min=1)
    images = torch.randn(2, 3, *config.img_size)
    frames_path = _export(
        _FramesHalf(model), (images,), folder / POSE_FRAMES, input_names=["images"],
        output_names=["last", "intermediate", "ranked"], dynamic_shapes={"images": {0: batch}},
        metadata={**metadata, "ftppose.part": "pose_frames"}, opset=opset, overwrite=overwrite,
        doc="FTP-Pose per-frame half: backbone tokens (last, intermediate) and `ranked`, the last tokens in "
            "DPC-KNN order (highest score first). Run once per person-frame; see ftppose.pruning.")
    with torch.no_grad():
        last, intermediate = model.embed_frames(images)
    if model.temporal:
        # T = N // 2 + 1 so the exporter cannot tie the token count to N (or to 1).
        tokens = torch.export.Dim("tokens", min=1, max=num)
        kept = last[:, None, : num // 2 + 1].expand(-1, config.window, -1, -1).contiguous()
        window_path = _export(
            _WindowHalf(model), (kept, last, intermediate), folder / POSE_WINDOW,
            input_names=["kept", "key_last", "key_intermediate"], output_names=["heatmaps"],
            dynamic_shapes={"kept": {0: batch, 2: tokens}, "key_last": {0: batch}, "key_intermediate": {0: batch}},
            metadata={**metadata, "ftppose.part": "pose_window"}, opset=opset, overwrite=overwrite,
            doc="FTP-Pose window half: heatmaps of the key frame from the kept tokens of each of the K frames of "
                "its window (kept), and the key frame's own last and intermediate tokens; see ftppose.pruning.")
    else:
        window_path = _export(
            _SingleFrameHead(model), (last,), folder / POSE_WINDOW, input_names=["key_last"],
            output_names=["heatmaps"], dynamic_shapes={"key_last": {0: batch}},
            metadata={**metadata, "ftppose.part": "pose_window"}, opset=opset, overwrite=overwrite,
            doc="Single-frame pose head: heatmaps from the frame's last tokens.")
    return frames_path, window_path


def export_detector(network: nn.Module, path: str | Path, *, inference: dict[str, Any],
                    source: dict[str, Any] | None = None, opset: int = DEFAULT_OPSET,
                    overwrite: bool = False) -> Path:
    """Write the person detector (``PersonDetectorNet``, BatchNorms folded) as ONNX with a dynamic batch and size.

    ``inference``: the checkpoint's ``min_box_score``, ``nms_iou`` and ``input_sizes``, kept in
    the metadata for what stays outside the graph (letterboxing, peaks, box NMS).
    """
    from ftppose_cli.detection.detector import PAD_VALUE, fuse_conv_bn

    check_writable(path, overwrite=overwrite)
    network = fuse_conv_bn(copy.deepcopy(network).float().cpu().eval())
    config = network.config
    sizes_list = [int(s) for s in inference.get("input_sizes", [config.input_size])]
    sizes = " and ".join(map(str, sizes_list))
    batch, height, width = (torch.export.Dim(name, min=1) for name in ("batch", "height", "width"))
    size = config.input_size // 32 * 32
    images = torch.rand(2, 3, size, size) * 255.0
    metadata = {
        "ftppose.format": EXPORT_FORMAT,
        "ftppose.export_version": str(EXPORT_VERSION),
        "ftppose.part": "detector",
        "ftppose.detector_config": json.dumps(config.to_dict()),
        "ftppose.input": f"RGB images (B, 3, H, W) float32 in [0, 255], H and W multiples of 32: the frame "
                         f"resized so its longer side is {sizes}, top-left on a canvas of {PAD_VALUE}"
                         + (" (once per size, the boxes of all merged by NMS)" if len(sizes_list) > 1 else ""),
        "ftppose.outputs": f"heatmap_logits: person centres (sigmoid) at stride {config.stride}; ltrb: distances "
                           "(left, top, right, bottom) in input pixels from each cell's centre to the box's sides",
        "ftppose.inference": json.dumps(inference),
        "ftppose.source": json.dumps(source or {}),
    }
    return _export(network, (images,), Path(path), input_names=["images"], output_names=["heatmap_logits", "ltrb"],
                   dynamic_shapes={"images": {0: batch, 2: 32 * height, 3: 32 * width}}, metadata=metadata,
                   opset=opset, overwrite=overwrite,
                   doc="ftppose person detector (CenterNet-style): centre heatmap logits and box distances.")


def checkpoint_source(weights: str | Path, info: WeightsFile | None = None) -> dict[str, Any]:
    """The metadata that ties an export to its checkpoint: file name, SHA-256, trained ratios."""
    weights = Path(weights)
    source: dict[str, Any] = {"checkpoint": weights.name, "sha256": file_sha256(weights)}
    if info is not None and "pruning_ratios" in info.inference:
        source["trained_ratios"] = list(info.inference["pruning_ratios"])
    return source


def export_pose_weights(weights: str | Path, folder: str | Path, *, opset: int = DEFAULT_OPSET,
                        overwrite: bool = False) -> tuple[Path, Path]:
    """Export a pose checkpoint (``.safetensors`` + ``.json``) into ``folder``: :func:`export_pose` with its source."""
    from ftppose_cli.models.ftppose import load_model
    from ftppose_cli.weights import POSE, read_weights

    return export_pose(load_model(weights), folder, source=checkpoint_source(weights, read_weights(weights, POSE)),
                       opset=opset, overwrite=overwrite)


def export_detector_weights(weights: str | Path, path: str | Path, *, opset: int = DEFAULT_OPSET,
                            overwrite: bool = False) -> Path:
    """Export a detector checkpoint as ``path``, its stored inference settings in the metadata."""
    from ftppose_cli.detection.detector import load_detector_network

    network, info = load_detector_network(weights)
    inference = {"min_box_score": float(info.inference.get("min_box_score", 0.3)),
                 "nms_iou": float(info.inference.get("nms_iou", 0.5)),
                 "input_sizes": [int(s) for s in info.inference.get("input_sizes", [network.config.input_size])]}
    return export_detector(network, path, inference=inference, source=checkpoint_source(weights),
                           opset=opset, overwrite=overwrite)
