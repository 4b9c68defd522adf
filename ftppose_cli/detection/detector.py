"""Person detection: letterbox pre-processing, heatmap decoding, the batched API.

:meth:`PersonDetector.from_checkpoint` turns a checkpoint (:mod:`ftppose_cli.weights`: either
file or their common stem) into a ready detector that runs at the threshold stored with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ftppose_cli.detection.network import DetectorConfig, PersonDetectorNet
from ftppose_cli.weights import DETECTOR, WeightsFile, load_network

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

def decode(heat_logits: torch.Tensor, ltrb: torch.Tensor, stride: int, min_box_score: float = 0.3,
           nms_iou: float = 0.5, top_k: int = 100) -> list[tuple[np.ndarray, np.ndarray]]:
    """Heatmap peaks (3x3 max-pool NMS, score >= ``min_box_score``, at most ``top_k``) -> boxes in input
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
        keep = scores[b] >= min_box_score
        bx, sc = boxes[b][keep], scores[b][keep]
        if len(sc):
            k2 = torchvision.ops.nms(bx, sc, nms_iou)
            bx, sc = bx[k2], sc[k2]
        out.append((bx.numpy().astype(np.float32), sc.numpy().astype(np.float32)))
    return out


def load_detector_network(path: str | Path, device: str | torch.device = "cpu"
                          ) -> tuple[PersonDetectorNet, WeightsFile]:
    """The network a detector checkpoint describes, with its weights (eval mode), and the checkpoint's JSON."""
    model, weights = load_network(path, DETECTOR, lambda config: PersonDetectorNet(DetectorConfig.from_dict(config)))
    return model.eval().to(device), weights


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
                 min_box_score: float = 0.3, nms_iou: float = 0.5, input_sizes: Sequence[int] | None = None,
                 fuse: bool = True) -> None:
        """``model``: the network, or anything called like it that has its ``config`` (the ONNX
        backend's :class:`~ftppose_cli.onnx_backend.OnnxDetectorNetwork`, which runs on the CPU).

        ``input_sizes``: the longer image sides the frame is run at (default: the network's
        training size alone). Each cell of the network sees a limited part of the input: a
        large input finds small people far away, while a person close to the camera, taller than
        what a cell sees, is found whole only at a small input (a large one splits them into part
        boxes). With several sizes the boxes of all are merged by one NMS.
        """
        if isinstance(model, torch.nn.Module):
            model = model.eval().to(device)
            if fuse:
                import copy
                model = fuse_conv_bn(copy.deepcopy(model))
        self.model = model
        self.device = torch.device(device)
        self.min_box_score = min_box_score
        self.nms_iou = nms_iou
        self.input_sizes = tuple(int(s) for s in input_sizes) if input_sizes else (model.config.input_size,)
        if any(s < 32 for s in self.input_sizes):
            raise ValueError(f"detector input sizes must be at least 32 pixels, got {list(self.input_sizes)}")
        self.stride = model.config.stride
        self.weights: WeightsFile | None = None  # the checkpoint it came from, if any

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", *,
                        min_box_score: float | None = None, input_sizes: Sequence[int] | None = None
                        ) -> PersonDetector:
        """Load ``detector.safetensors`` + ``detector.json``; ``min_box_score`` and ``input_sizes``
        default to the stored ones."""
        model, weights = load_detector_network(path, device)
        stored = weights.inference
        if min_box_score is None:
            min_box_score = float(stored.get("min_box_score", 0.3))
        det = cls(model, device=device, min_box_score=min_box_score, nms_iou=float(stored.get("nms_iou", 0.5)),
                  input_sizes=input_sizes or stored.get("input_sizes"))
        det.weights = weights
        return det

    @torch.inference_mode()
    def predict_raw(self, images: list[np.ndarray], min_box_score: float | None = None
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(xyxy, scores)`` per image in original pixels (no supervision objects)."""
        if not images:
            return []
        threshold = self.min_box_score if min_box_score is None else min_box_score
        per_size = []
        for size in self.input_sizes:
            x, boxes = letterbox_batch(images, size)
            heat, ltrb = self.model(x.to(self.device))
            decoded = decode(heat.cpu(), ltrb.cpu(), self.stride, threshold, self.nms_iou)
            per_size.append([(lb.to_original(xyxy), sc) for (xyxy, sc), lb in zip(decoded, boxes)])
        out = []
        for found in zip(*per_size):
            xyxy = np.concatenate([xy for xy, _ in found]).reshape(-1, 4)
            sc = np.concatenate([s for _, s in found])
            ok = (xyxy[:, 2] - xyxy[:, 0] >= 1) & (xyxy[:, 3] - xyxy[:, 1] >= 1)
            xyxy, sc = xyxy[ok], sc[ok]
            if len(found) > 1 and len(sc):
                import torchvision

                keep = torchvision.ops.nms(torch.from_numpy(xyxy), torch.from_numpy(sc), self.nms_iou).numpy()
                xyxy, sc = xyxy[keep], sc[keep]
            out.append((xyxy, sc))
        return out

    def detect(self, images: list[np.ndarray], min_box_score: float | None = None) -> list:
        """One :class:`supervision.Detections` per BGR image: ``xyxy`` in original pixels,
        ``confidence``, ``class_id`` 0 (person)."""
        import supervision as sv

        return [sv.Detections(xyxy=xyxy.reshape(-1, 4), confidence=sc,
                              class_id=np.zeros(len(sc), dtype=int))
                for xyxy, sc in self.predict_raw(images, min_box_score)]
