"""Dense targets for the person detector, TTFNet-style, and the torch dataset that pairs them with samples.

Targets are maps at the network stride: an elliptical Gaussian centre heatmap, the box (x1, y1,
x2, y2, input pixels) at every pixel of the box's central region, and a regression weight
(Gaussian value, normalised per box, scaled by log area). Ignore areas are masked out of the
heatmap loss.
"""

from __future__ import annotations

import math

import numpy as np

from ftppose_cli.training.detector_augment import DetectorTrainSet


def make_targets(boxes: np.ndarray, ignore: np.ndarray, height: int, width: int, stride: int,
                 alpha: float = 0.54, beta: float = 0.54) -> dict[str, np.ndarray]:
    """Dense TTFNet-style targets for boxes (xyxy, input pixels) on a ``height x width`` input."""
    oh, ow = height // stride, width // stride
    heat = np.zeros((oh, ow), np.float32)
    mask = np.ones((oh, ow), np.float32)       # 0 = ignored for the heatmap loss
    box_t = np.zeros((4, oh, ow), np.float32)
    reg_w = np.zeros((oh, ow), np.float32)
    ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float32)
    for b in ignore:
        x0, y0 = int(b[0] // stride), int(b[1] // stride)
        x1, y1 = int(math.ceil(b[2] / stride)), int(math.ceil(b[3] / stride))
        mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 0
    if len(boxes):
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.argsort(-areas)  # large first so small boxes overwrite regression targets
        for k in order:
            x1, y1, x2, y2 = boxes[k]
            w, h = (x2 - x1) / stride, (y2 - y1) / stride
            cx, cy = (x1 + x2) / 2 / stride - 0.5, (y1 + y2) / 2 / stride - 0.5
            sx, sy = max(alpha * w / 6, 0.3), max(alpha * h / 6, 0.3)
            g = np.exp(-((xs - cx) ** 2 / (2 * sx * sx) + (ys - cy) ** 2 / (2 * sy * sy)))
            ci, cj = int(np.clip(round(cy), 0, oh - 1)), int(np.clip(round(cx), 0, ow - 1))
            g[ci, cj] = 1.0
            np.maximum(heat, g, out=heat)
            mask[ci, cj] = 1.0
            # regression region: the Gaussian with beta, restricted to the box centre area
            gb = np.exp(-((xs - cx) ** 2 / (2 * max(beta * w / 6, 0.3) ** 2)
                          + (ys - cy) ** 2 / (2 * max(beta * h / 6, 0.3) ** 2)))
            region = gb > 0.1
            region[ci, cj] = True
            wk = gb * region
            wk = wk / wk.sum() * math.log(max(areas[k], 4.0))
            box_t[:, region] = np.asarray([x1, y1, x2, y2], np.float32)[:, None]
            reg_w[region] = wk[region]
    return {"heatmap": heat[None], "heat_mask": mask[None], "box": box_t, "reg_weight": reg_w[None]}


class DetectorTorchDataset:
    """Adapter yielding torch tensors (image float CHW RGB in [0,1] normalised later by the model)."""

    def __init__(self, base: DetectorTrainSet, stride: int) -> None:
        self.base = base
        self.stride = stride

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        import torch

        img, boxes, ignore = self.base.sample(index)
        t = make_targets(boxes, ignore, img.shape[0], img.shape[1], self.stride)
        x = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)))
        return x, {k: torch.from_numpy(v) for k, v in t.items()}
