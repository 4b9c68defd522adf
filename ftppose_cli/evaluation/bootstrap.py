"""Bootstrap intervals for ratio metrics (PCK, recall, precision) on small evaluation sets.

The held-out sets this project can use hold a few dozen people. Their units (a person's joints,
an image's boxes) are not independent, so the interval resamples whole units: what another set
of the same size, drawn the same way, could have scored.
"""

from __future__ import annotations

import numpy as np


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray, resamples: int = 2000, level: float = 0.95,
                   seed: int = 0) -> tuple[float, float]:
    """Percentile interval of ``sum(numerator) / sum(denominator)`` over units resampled with replacement.

    ``numerator`` and ``denominator`` hold one value per unit (hits and labelled joints per person,
    true positives and ground-truth boxes per image).
    """
    numerator, denominator = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if len(numerator) == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(numerator), size=(resamples, len(numerator)))
    values = numerator[draws].sum(1) / np.maximum(denominator[draws].sum(1), 1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def difference_interval(numerator_a: np.ndarray, denominator_a: np.ndarray, numerator_b: np.ndarray,
                        denominator_b: np.ndarray, resamples: int = 2000, level: float = 0.95,
                        seed: int = 0) -> tuple[float, float]:
    """Percentile interval of ratio A minus ratio B, both measured on the same units, resampled together.

    Two detectors scored on the same images err on the same hard images; resampling the images
    once for both (a paired bootstrap) gives the interval of their difference, much narrower than
    two separate intervals suggest.
    """
    arrays = [np.asarray(a, np.float64) for a in (numerator_a, denominator_a, numerator_b, denominator_b)]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("both ratios need one value per unit, on the same units")
    if len(arrays[0]) == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(arrays[0]), size=(resamples, len(arrays[0])))
    na, da, nb, db = (a[draws].sum(1) for a in arrays)
    values = na / np.maximum(da, 1) - nb / np.maximum(db, 1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)
