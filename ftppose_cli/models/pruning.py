"""DPC-KNN token selection (density peaks clustering with k nearest neighbours).

FTP-Pose prunes the low-resolution temporal branch by keeping, in each frame,
the tokens that are both locally dense (representative) and far from any
denser token (distinct): ``score = rho * delta``. We follow TCFormer's
formulation of DPC-KNN. Everything is batched over (people x frames); there is
no Python loop over tokens.
"""

from __future__ import annotations

import math

import torch


def keep_count(num_tokens: int, epsilon: float) -> int:
    """Tokens kept per frame at pruning ratio ``epsilon``: ``ceil((1 - eps) * N)``, at least 1."""
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"pruning ratio must be in [0, 1), got {epsilon}")
    return max(1, math.ceil((1.0 - epsilon) * num_tokens - 1e-9))


def dpc_knn_scores(tokens: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Density, distance-to-denser and score of every token.

    Args:
        tokens: ``(B, N, C)``; each of the B rows is one frame of one person.
        k: neighbours used for the local density.

    Returns:
        ``rho, delta, score``, each ``(B, N)``.
    """
    batch, num, channels = tokens.shape
    x = tokens.float()
    # The matrix-product form, which cdist picks by itself above 25 tokens (the shipped model has 108): with it
    # always, small models export to ONNX too (cdist's direct kernel has no ONNX translation).
    dist = torch.cdist(x, x, compute_mode="use_mm_for_euclid_dist") / math.sqrt(channels)  # (B, N, N)
    k = min(k, num - 1) if num > 1 else 1
    # k nearest neighbours excluding the token itself (its distance is 0, the smallest).
    knn = torch.topk(dist, k + 1, dim=-1, largest=False).values[..., 1:] if num > 1 else dist
    rho = torch.exp(-(knn**2).mean(dim=-1))
    # Tiny deterministic tie-break so equal densities still have a strict order
    # (earlier tokens count as slightly denser), as TCFormer does with noise.
    rho = rho + torch.arange(num, 0, -1, device=x.device, dtype=rho.dtype) * 1e-6 / num
    denser = rho[:, None, :] > rho[:, :, None]  # denser[b, i, j]: rho_j > rho_i
    dist_max = dist.flatten(1).max(dim=-1).values[:, None, None]
    delta = torch.where(denser, dist, dist_max).min(dim=-1).values
    # The densest token has no denser token: it takes the largest distance to any token.
    densest = ~denser.any(dim=-1)
    delta = torch.where(densest, dist.max(dim=-1).values, delta)
    return rho, delta, rho * delta


def select_tokens(tokens: torch.Tensor, keep: int, k: int = 5) -> torch.Tensor:
    """Indices ``(B, keep)`` of the highest-scoring tokens, in their original order."""
    _, _, score = dpc_knn_scores(tokens, k)
    top = torch.topk(score, keep, dim=-1).indices
    return torch.sort(top, dim=-1).values


def rank_tokens(tokens: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Each row's tokens reordered by DPC-KNN score, highest first: ``(B, N, C)`` -> ``(B, N, C)``.

    The first ``keep`` tokens of a ranked row are the ones :func:`select_tokens` keeps, at every
    ratio, so a frame ranked once serves every ratio: the exported per-frame model ranks, and the
    caller hands the window model the first ``keep_count(N, epsilon)`` of each frame. They come
    in score order, not grid order; the temporal branch and the fusion's keys do not depend on
    the order of a frame's tokens (nothing after the frame embedding is positional), so only
    the rounding of sums differs from :func:`prune_tokens`.
    """
    _, _, score = dpc_knn_scores(tokens, k)
    order = torch.argsort(score, dim=-1, descending=True)
    return torch.gather(tokens, 1, order[..., None].expand(-1, -1, tokens.shape[-1]))


def prune_tokens(tokens: torch.Tensor, keep: int, k: int = 5, merge: bool = False) -> torch.Tensor:
    """Keep ``keep`` tokens per row; optionally average each dropped token into its nearest kept one.

    Merging keeps the information of the dropped tokens at the same cost as
    discarding them, at the price of a scatter; it is off by default, as in the paper.
    """
    batch, num, channels = tokens.shape
    if keep >= num:
        return tokens
    index = select_tokens(tokens, keep, k)
    kept = torch.gather(tokens, 1, index[..., None].expand(-1, -1, channels))
    if not merge:
        return kept
    # Assign every token to its nearest kept token (kept tokens map to themselves).
    dist = torch.cdist(tokens.float(), kept.float())  # (B, N, keep)
    owner = dist.argmin(dim=-1)  # (B, N)
    owner.scatter_(1, index, torch.arange(keep, device=tokens.device).expand(batch, -1))
    sums = torch.zeros_like(kept).scatter_add_(1, owner[..., None].expand(-1, -1, channels), tokens)
    counts = torch.zeros(batch, keep, 1, dtype=tokens.dtype, device=tokens.device)
    counts.scatter_add_(1, owner[..., None], torch.ones(batch, num, 1, dtype=tokens.dtype, device=tokens.device))
    return sums / counts
