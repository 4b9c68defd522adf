"""PCK: the fraction of labelled joints within a fraction of a reference size.

Used for teacher-labelled validation and held-out COCO/PoseTrack people,
where a full PoseTrack AP is not available. The reference is the person box's
longer side (``PCK@a``) or the head size (``PCKh@a``).
"""

from __future__ import annotations

import numpy as np


def pck(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, reference: np.ndarray, thresholds=(0.05, 0.1, 0.2)
        ) -> dict[float, float]:
    """``pred, gt (n, J, 2)``, ``visible (n, J)`` bool, ``reference (n,)`` -> {threshold: PCK}."""
    dist = np.linalg.norm(np.asarray(pred) - np.asarray(gt), axis=-1) / np.asarray(reference)[:, None]
    mask = np.asarray(visible, bool)
    count = max(int(mask.sum()), 1)
    return {t: float(((dist <= t) & mask).sum() / count) for t in thresholds}
