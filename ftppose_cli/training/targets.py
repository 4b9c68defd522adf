"""Heatmap targets and the weighted heatmap loss."""

from __future__ import annotations

import numpy as np
import torch

# ViTPose's per-joint loss weights for COCO, carried to PoseTrack's joints:
# the extremities (wrists, ankles) are hardest and get the most weight.
JOINT_LOSS_WEIGHTS = np.array(
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5], np.float32
)


def gaussian_heatmaps(
    joints_input: np.ndarray, weights: np.ndarray, input_size: tuple[int, int], heatmap_size: tuple[int, int],
    sigma: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased Gaussian targets (centred on the sub-pixel position, as DARK encodes them).

    Args:
        joints_input: ``(J, 2)`` in model-input pixels.
        weights: ``(J,)`` 1 for labelled joints, 0 otherwise.
    Returns:
        ``(J, h, w)`` heatmaps and ``(J,)`` weights (0 for joints outside the heatmap).
    """
    h, w = heatmap_size
    stride_x = input_size[1] / w
    stride_y = input_size[0] / h
    mu_x = (joints_input[:, 0] + 0.5) / stride_x - 0.5
    mu_y = (joints_input[:, 1] + 0.5) / stride_y - 0.5
    inside = (mu_x >= -0.5) & (mu_x <= w - 0.5) & (mu_y >= -0.5) & (mu_y <= h - 0.5)
    weights = weights * inside
    xs = np.arange(w, dtype=np.float32)[None, None, :]
    ys = np.arange(h, dtype=np.float32)[None, :, None]
    heatmaps = np.exp(-((xs - mu_x[:, None, None]) ** 2 + (ys - mu_y[:, None, None]) ** 2) / (2 * sigma**2))
    return (heatmaps * weights[:, None, None]).astype(np.float32), weights.astype(np.float32)


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, kind: str = "softmax"
                 ) -> torch.Tensor:
    """Per-joint loss, scaled by target weight x per-joint weight.

    ``"mse"`` is ViTPose's loss on Gaussian heatmaps. ``"softmax"`` treats each
    joint's map as a distribution over the 64x48 cells and takes the cross
    entropy against the normalised Gaussian: from scratch on a CPU budget the
    MSE loss first settles on predicting all zeros (a loss of about pi*sigma^2
    per joint, what our first run sat at for epochs), while the cross entropy
    pushes mass to the right cell from the first step.
    """
    joint_w = torch.as_tensor(JOINT_LOSS_WEIGHTS, device=pred.device)[None, :]
    if kind == "mse":
        per_joint = ((pred.float() - target) ** 2).mean(dim=(2, 3))
    elif kind == "softmax":
        log_p = torch.log_softmax(pred.float().flatten(2), dim=-1)
        t = target.flatten(2)
        t = t / t.sum(dim=-1, keepdim=True).clamp(min=1e-6)
        per_joint = -(t * log_p).sum(dim=-1)
    else:
        raise ValueError(f"unknown heatmap loss {kind!r}")
    return (per_joint * weights * joint_w).sum() / (weights * joint_w).sum().clamp(min=1e-6)
