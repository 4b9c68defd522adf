"""Heatmap decoding: argmax with sub-pixel refinement, and the flip test.

Kept free of I/O and of image geometry: it returns coordinates on the heatmap
grid; the pipeline maps them back through the crop's inverse affine.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ftppose_cli.formats.joints import flip_permutation


def to_probabilities(heatmaps: torch.Tensor, kind: str) -> torch.Tensor:
    """Model output -> non-negative maps whose peak marks the joint.

    ``"softmax"`` models output logits: the spatial softmax turns them into a
    distribution per joint. ``"mse"`` models (ViTPose) output heatmaps already.
    """
    if kind == "mse":
        return heatmaps.float()
    if kind != "softmax":
        raise ValueError(f"unknown heatmap kind {kind!r}")
    b, j, h, w = heatmaps.shape
    return torch.softmax(heatmaps.float().reshape(b, j, -1), dim=-1).reshape(b, j, h, w)


def decode_output(output: torch.Tensor, kind: str, refine: str = "dark") -> tuple[torch.Tensor, torch.Tensor]:
    """Coordinates and scores from raw model output of either kind.

    A softmax model's score is the probability mass within 2 cells of the
    peak: near 1 for a confident, sharp joint, near 0 for a spread-out guess.
    """
    maps = to_probabilities(output, kind)
    coords, peak = decode_heatmaps(maps, refine)
    if kind == "mse":
        return coords, peak
    mass = F.avg_pool2d(maps, kernel_size=5, stride=1, padding=2, count_include_pad=False) * 25.0
    b, j, h, w = maps.shape
    index = coords.round().long()
    xi, yi = index[..., 0].clamp(0, w - 1), index[..., 1].clamp(0, h - 1)
    scores = mass[torch.arange(b)[:, None], torch.arange(j)[None, :], yi, xi].clamp(0.0, 1.0)
    return coords, scores


def decode_heatmaps(heatmaps: torch.Tensor, refine: str = "dark") -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, J, h, w)`` -> coordinates ``(B, J, 2)`` (x, y on the heatmap grid) and scores ``(B, J)``.

    ``refine``: ``"quarter"`` moves a quarter pixel towards the higher
    neighbour (SimpleBaseline); ``"dark"`` takes a second-order Taylor step on
    the log of the Gaussian-smoothed heatmap (DARK, Zhang et al. 2020), which
    is what removes most of the quantisation error at 64x48; ``"none"`` keeps
    the integer argmax.
    """
    batch, joints, height, width = heatmaps.shape
    flat = heatmaps.reshape(batch, joints, -1).float()
    scores, index = flat.max(dim=-1)
    x = (index % width).float()
    y = torch.div(index, width, rounding_mode="floor").float()
    coords = torch.stack([x, y], dim=-1)
    if refine == "none":
        return coords, scores
    if refine == "quarter":
        hm = heatmaps.float()
        xi, yi = x.long(), y.long()
        b = torch.arange(batch)[:, None]
        j = torch.arange(joints)[None, :]
        inner_x = (xi > 0) & (xi < width - 1)
        inner_y = (yi > 0) & (yi < height - 1)
        dx = hm[b, j, yi, (xi + 1).clamp(max=width - 1)] - hm[b, j, yi, (xi - 1).clamp(min=0)]
        dy = hm[b, j, (yi + 1).clamp(max=height - 1), xi] - hm[b, j, (yi - 1).clamp(min=0), xi]
        coords[..., 0] += torch.where(inner_x, torch.sign(dx) * 0.25, torch.zeros_like(dx))
        coords[..., 1] += torch.where(inner_y, torch.sign(dy) * 0.25, torch.zeros_like(dy))
        return coords, scores
    if refine != "dark":
        raise ValueError(f"unknown refinement {refine!r}")
    return _dark_refine(heatmaps.float(), coords), scores


def _gaussian_blur(heatmaps: torch.Tensor, kernel: int = 11, sigma: float = 2.0) -> torch.Tensor:
    radius = kernel // 2
    t = torch.arange(kernel, dtype=heatmaps.dtype, device=heatmaps.device) - radius
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    batch, joints, h, w = heatmaps.shape
    x = heatmaps.reshape(batch * joints, 1, h, w)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), g.view(1, 1, -1, 1))
    return x.reshape(batch, joints, h, w)


def _dark_refine(heatmaps: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    batch, joints, h, w = heatmaps.shape
    peak = heatmaps.amax(dim=(2, 3), keepdim=True)
    smoothed = _gaussian_blur(heatmaps)
    # Rescale so the peak is preserved, then work on the log.
    smoothed = smoothed * (peak / smoothed.amax(dim=(2, 3), keepdim=True).clamp(min=1e-10))
    logh = torch.log(smoothed.clamp(min=1e-10))
    padded = F.pad(logh, (1, 1, 1, 1), mode="replicate")
    xi = coords[..., 0].long() + 1
    yi = coords[..., 1].long() + 1
    b = torch.arange(batch)[:, None]
    j = torch.arange(joints)[None, :]

    def at(dy: int, dx: int) -> torch.Tensor:
        return padded[b, j, yi + dy, xi + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = at(0, 1) - 2 * at(0, 0) + at(0, -1)
    dyy = at(1, 0) - 2 * at(0, 0) + at(-1, 0)
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = dxx * dyy - dxy**2
    valid = det.abs() > 1e-8
    safe = torch.where(valid, det, torch.ones_like(det))
    off_x = -(dyy * dx - dxy * dy) / safe
    off_y = -(dxx * dy - dxy * dx) / safe
    offset = torch.stack([off_x, off_y], dim=-1)
    offset = torch.where(valid[..., None], offset, torch.zeros_like(offset)).clamp(-1.0, 1.0)
    return coords + offset


def flip_back(heatmaps: torch.Tensor) -> torch.Tensor:
    """Heatmaps predicted on a mirrored crop, mirrored back with left/right joints swapped."""
    perm = flip_permutation(heatmaps.shape[1])
    return heatmaps.flip(-1)[:, perm]


def heatmap_to_input(coords: torch.Tensor, heatmap_size: tuple[int, int], input_size: tuple[int, int]) -> torch.Tensor:
    """Heatmap-grid coordinates -> model-input pixel coordinates (pixel centres aligned)."""
    sx = input_size[1] / heatmap_size[1]
    sy = input_size[0] / heatmap_size[0]
    out = coords.clone()
    out[..., 0] = (coords[..., 0] + 0.5) * sx - 0.5
    out[..., 1] = (coords[..., 1] + 0.5) * sy - 0.5
    return out
