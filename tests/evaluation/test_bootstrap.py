from __future__ import annotations

import math

import numpy as np

from ftppose_cli.evaluation.bootstrap import difference_interval, ratio_interval


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


def test_difference_of_paired_ratios() -> None:
    rng = np.random.default_rng(2)
    denominator = rng.integers(2, 12, size=30)
    a = rng.binomial(denominator, 0.7)
    low, high = difference_interval(a, denominator, a, denominator)
    assert low == high == 0.0  # the same detector against itself: no difference on any resample
    b = np.maximum(a - 1, 0)  # B finds one fewer on every image: A is ahead on every resample
    low, high = difference_interval(a, denominator, b, denominator)
    assert 0.0 < low <= (a.sum() - b.sum()) / denominator.sum() <= high
    # Paired is narrower than the two separate intervals put end to end.
    lo_a, hi_a = ratio_interval(a, denominator)
    lo_b, hi_b = ratio_interval(b, denominator)
    assert high - low < (hi_a - lo_b) - (lo_a - hi_b)
    assert all(math.isnan(v) for v in difference_interval([], [], [], []))
