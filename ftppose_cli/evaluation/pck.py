"""PCK: the fraction of labelled joints within a fraction of a reference size.

Used for teacher-labelled validation and held-out COCO/PoseTrack people,
where a full PoseTrack AP is not available. The reference is the person box's
longer side (``PCK@a``) or the head size (``PCKh@a``).
"""

from __future__ import annotations

import numpy as np

from ftppose_cli.evaluation.bootstrap import ratio_interval


def _distance(pred: np.ndarray, gt: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(n, J)`` joint errors as fractions of each person's reference size."""
    return np.linalg.norm(np.asarray(pred) - np.asarray(gt), axis=-1) / np.asarray(reference)[:, None]


def pck(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, reference: np.ndarray, thresholds=(0.05, 0.1, 0.2)
        ) -> dict[float, float]:
    """``pred, gt (n, J, 2)``, ``visible (n, J)`` bool, ``reference (n,)`` -> {threshold: PCK}."""
    dist = _distance(pred, gt, reference)
    mask = np.asarray(visible, bool)
    count = max(int(mask.sum()), 1)
    return {t: float(((dist <= t) & mask).sum() / count) for t in thresholds}


def pck_interval(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, reference: np.ndarray, threshold: float,
                 resamples: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of PCK resampling people, not joints (one person's joints err together)."""
    dist = _distance(pred, gt, reference)
    mask = np.asarray(visible, bool)
    return ratio_interval(((dist <= threshold) & mask).sum(1), mask.sum(1), resamples, level, seed)


def per_joint_pck(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, reference: np.ndarray,
                  threshold: float = 0.2) -> np.ndarray:
    """``(J,)`` PCK of each joint at ``threshold``; NaN for a joint nobody has labelled."""
    dist = _distance(pred, gt, reference)
    mask = np.asarray(visible, bool)
    hits = ((dist <= threshold) & mask).sum(0).astype(np.float64)
    counts = mask.sum(0)
    return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def side_agnostic_pck(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, reference: np.ndarray,
                      flip_perm: list[int], threshold: float = 0.2) -> float:
    """PCK that also accepts the mirrored joint (a left wrist found where the right one is).

    Its gap to plain PCK is the share of joints the model localised but gave
    the wrong side: the typical error on people seen from behind.
    """
    dist = np.minimum(_distance(pred, gt, reference), _distance(np.asarray(pred)[:, flip_perm], gt, reference))
    mask = np.asarray(visible, bool)
    return float(((dist <= threshold) & mask).sum() / max(int(mask.sum()), 1))


def facing_calls(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, left: int, right: int) -> dict[str, int]:
    """How often the predicted facing (towards the camera or away) matches the labelled one.

    An upright person faces the camera when their left shoulder (``left``) is
    on the image's right of the right shoulder. Only people with both
    shoulders labelled count. A model that learnt the scene instead of the body
    calls every person of a new scene the same way, which side-agnostic PCK
    shows as joints found on the wrong side.
    """
    pred, gt, visible = np.asarray(pred), np.asarray(gt), np.asarray(visible, bool)
    both = visible[:, left] & visible[:, right]
    towards = gt[both, left, 0] > gt[both, right, 0]
    called_towards = pred[both, left, 0] > pred[both, right, 0]
    return {"towards": int(towards.sum()), "towards_right": int((towards & called_towards).sum()),
            "away": int((~towards).sum()), "away_right": int((~towards & ~called_towards).sum())}
