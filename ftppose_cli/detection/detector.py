"""Person detection: checkpoint I/O, letterbox pre-processing, heatmap decoding, batched API.

A checkpoint is two files side by side: ``detector.safetensors`` (tensors, fp16 when shipped) and
``detector.json`` (format version, architecture config, default thresholds, training info).
:meth:`PersonDetector.from_checkpoint` turns either path (or their common stem) into a ready
detector; anything that does not fit raises one :class:`CheckpointError` naming the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ftppose_cli.atomic import atomic_write, atomic_write_text
from ftppose_cli.detection.network import DetectorConfig, PersonDetectorNet
from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.checkpoint import checkpoint_paths, load_state_checked

FORMAT = "ftppose-detector"
FORMAT_VERSION = 1
PAD_VALUE = 114


# ---------------------------------------------------------------------------- letterbox

@dataclass(frozen=True)
class Letterbox:
    """How one image was placed on the network input: ``input = original * scale`` (top-left)."""

    scale: float
    width: int   # original image size
    height: int

    def to_original(self, xyxy: np.ndarray) -> np.ndarray:
        """Map boxes from input pixels back to original pixels (clipped to the image)."""
        out = np.asarray(xyxy, np.float32) / self.scale
        out[..., [0, 2]] = out[..., [0, 2]].clip(0, self.width)
        out[..., [1, 3]] = out[..., [1, 3]].clip(0, self.height)
        return out

    def to_input(self, xyxy: np.ndarray) -> np.ndarray:
        return np.asarray(xyxy, np.float32) * self.scale


def letterbox_batch(images: list[np.ndarray], input_size: int, multiple: int = 32
                    ) -> tuple[torch.Tensor, list[Letterbox]]:
    """Resize each BGR image so its longer side is ``input_size``, place it top-left on a grey
    canvas whose sides are multiples of ``multiple`` (shared by the batch), return float RGB
    ``(B, 3, H, W)`` in [0, 255] and the per-image :class:`Letterbox`."""
    import cv2

    resized, boxes = [], []
    for img in images:
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 BGR image, got shape {img.shape}")
        h, w = img.shape[:2]
        s = input_size / max(h, w)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        r = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        resized.append(r)
        boxes.append(Letterbox(s, w, h))
    H = max(-(-r.shape[0] // multiple) * multiple for r in resized)
    W = max(-(-r.shape[1] // multiple) * multiple for r in resized)
    batch = np.full((len(images), H, W, 3), PAD_VALUE, np.uint8)
    for i, r in enumerate(resized):
        batch[i, : r.shape[0], : r.shape[1]] = r
    x = torch.from_numpy(batch[..., ::-1].copy()).permute(0, 3, 1, 2).float()
    return x, boxes


# ---------------------------------------------------------------------------- decoding

def decode(heat_logits: torch.Tensor, ltrb: torch.Tensor, stride: int, conf: float = 0.3,
           nms_iou: float = 0.5, top_k: int = 100) -> list[tuple[np.ndarray, np.ndarray]]:
    """Heatmap peaks (3x3 max-pool NMS, score >= ``conf``, at most ``top_k``) -> boxes in input
    pixels, then a box NMS. Returns per image ``(xyxy (n, 4), scores (n,))``."""
    import torchvision

    heat = heat_logits.float().sigmoid()
    peaks = heat == F.max_pool2d(heat, 3, stride=1, padding=1)
    heat = heat * peaks
    B, _, H, W = heat.shape
    flat = heat.view(B, -1)
    k = min(top_k, flat.shape[1])
    scores, idx = flat.topk(k, dim=1)
    ys = (idx // W).float()
    xs = (idx % W).float()
    cx, cy = (xs + 0.5) * stride, (ys + 0.5) * stride
    d = ltrb.float().view(B, 4, -1)
    d = torch.gather(d, 2, idx[:, None, :].expand(B, 4, k))
    boxes = torch.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], dim=2)  # (B, k, 4)
    out = []
    for b in range(B):
        keep = scores[b] >= conf
        bx, sc = boxes[b][keep], scores[b][keep]
        if len(sc):
            k2 = torchvision.ops.nms(bx, sc, nms_iou)
            bx, sc = bx[k2], sc[k2]
        out.append((bx.numpy().astype(np.float32), sc.numpy().astype(np.float32)))
    return out


# ---------------------------------------------------------------------------- checkpoints

def save_checkpoint(model: PersonDetectorNet, path: str | Path, *, half: bool = True,
                    conf: float = 0.3, nms_iou: float = 0.5, info: dict[str, Any] | None = None) -> Path:
    """Write ``<stem>.safetensors`` + ``<stem>.json``; returns the weights path."""
    from safetensors.torch import save_file

    wpath, cpath = checkpoint_paths(path)
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        if half and v.is_floating_point():
            v = v.half()
        tensors[k] = v
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config.to_dict(),
            "conf": conf, "nms_iou": nms_iou, "dtype": "float16" if half else "float32",
            "training": info or {}}
    atomic_write(wpath, lambda t: save_file(tensors, t, metadata={"format": FORMAT}), overwrite=True)
    atomic_write_text(cpath, json.dumps(meta, indent=1), overwrite=True)
    return wpath


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[PersonDetectorNet, dict]:
    """Rebuild the network from ``<stem>.json`` and load ``<stem>.safetensors`` (float32, eval)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    wpath, cpath = checkpoint_paths(path)
    for p in (wpath, cpath):
        if not p.is_file():
            raise CheckpointError(p, "detector checkpoint file not found")
    try:
        meta = json.loads(cpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(cpath, f"not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(cpath, f"not a person-detector config (expected format {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(cpath, f"detector format version {meta.get('format_version')} "
                                     f"is not supported (this build reads {FORMAT_VERSION})")
    try:
        config = DetectorConfig.from_dict(meta["config"])
        model = PersonDetectorNet(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(cpath, f"bad detector config: {exc}") from None
    try:
        state = load_file(str(wpath))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(wpath, f"unreadable safetensors file ({str(exc).splitlines()[0][:80]})") from None
    load_state_checked(model, state, wpath)
    return model.eval().to(device), meta


def fuse_conv_bn(model: PersonDetectorNet) -> PersonDetectorNet:
    """Fold every BatchNorm into the conv before it (inference only; in place)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for mod in model.modules():
        if isinstance(mod, torch.nn.Sequential) and len(mod) >= 2 \
                and isinstance(mod[0], torch.nn.Conv2d) and isinstance(mod[1], torch.nn.BatchNorm2d):
            mod[0] = fuse_conv_bn_eval(mod[0], mod[1])
            mod[1] = torch.nn.Identity()
    return model


# ---------------------------------------------------------------------------- API

class PersonDetector:
    """Batched person detector: BGR frames in, :class:`supervision.Detections` out.

    >>> det = PersonDetector.from_checkpoint("weights/detector.safetensors")
    >>> [d.xyxy for d in det.detect([frame])]
    """

    def __init__(self, model: PersonDetectorNet, *, device: str | torch.device = "cpu",
                 conf: float = 0.3, nms_iou: float = 0.5, input_size: int | None = None,
                 fuse: bool = True) -> None:
        """``model``: the network, or anything called like it that has its ``config`` (the ONNX
        backend's :class:`~ftppose_cli.onnx_backend.OnnxDetectorNetwork`, which runs on the CPU)."""
        if isinstance(model, torch.nn.Module):
            model = model.eval().to(device)
            if fuse:
                import copy
                model = fuse_conv_bn(copy.deepcopy(model))
        self.model = model
        self.device = torch.device(device)
        self.conf = conf
        self.nms_iou = nms_iou
        self.input_size = input_size or model.config.input_size
        self.stride = model.config.stride
        self.meta: dict[str, Any] = {}

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", *,
                        conf: float | None = None, input_size: int | None = None) -> "PersonDetector":
        """Load ``detector.safetensors`` + ``detector.json``; ``conf`` defaults to the stored one."""
        model, meta = load_checkpoint(path, device)
        det = cls(model, device=device, conf=float(meta.get("conf", 0.3)) if conf is None else conf,
                  nms_iou=float(meta.get("nms_iou", 0.5)), input_size=input_size)
        det.meta = meta
        return det

    @torch.inference_mode()
    def predict_raw(self, images: list[np.ndarray], conf: float | None = None
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(xyxy, scores)`` per image in original pixels (no supervision objects)."""
        if not images:
            return []
        x, boxes = letterbox_batch(images, self.input_size)
        heat, ltrb = self.model(x.to(self.device))
        decoded = decode(heat.cpu(), ltrb.cpu(), self.stride, self.conf if conf is None else conf, self.nms_iou)
        out = []
        for (xyxy, sc), lb in zip(decoded, boxes):
            xyxy = lb.to_original(xyxy)
            ok = (xyxy[:, 2] - xyxy[:, 0] >= 1) & (xyxy[:, 3] - xyxy[:, 1] >= 1)
            out.append((xyxy[ok], sc[ok]))
        return out

    def detect(self, images: list[np.ndarray], conf: float | None = None) -> list:
        """One :class:`supervision.Detections` per BGR image: ``xyxy`` in original pixels,
        ``confidence``, ``class_id`` 0 (person)."""
        import supervision as sv

        return [sv.Detections(xyxy=xyxy.reshape(-1, 4), confidence=sc,
                              class_id=np.zeros(len(sc), dtype=int))
                for xyxy, sc in self.predict_raw(images, conf)]
