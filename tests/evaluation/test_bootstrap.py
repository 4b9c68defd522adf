from __future__ import annotations

import math

import numpy as np

from ftppose_cli.evaluation.bootstrap import ratio_interval


def test_interval_brackets_the_pooled_ratio_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    denominator = rng.integers(5, 15, size=40)
    numerator = rng.binomial(denominator, 0.6)
    low, high = ratio_interval(numerator, denominator)
    assert low < numerator.sum() / denominator.sum() < high
    assert (low, high) == ratio_interval(numerator, denominator)  # seeded: the same set gives the same interval
    assert ratio_interval(numerator, denominator, level=0.5)[1] - ratio_interval(numerator, denominator, level=0.5)[0] \
        < high - low


def test_constant_units_have_no_spread_and_no_units_no_interval() -> None:
    assert ratio_interval(np.full(7, 3), np.full(7, 4)) == (0.75, 0.75)
    assert all(math.isnan(v) for v in ratio_interval(np.array([]), np.array([])))
