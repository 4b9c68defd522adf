"""poseval's ranking on any numpy: numpy's classic argsort, checked against numpy 1.23.5's own output.

``data/numpy_1_23_argsort.json`` holds tie-heavy arrays (small integers: a
sort only compares) and the permutation ``np.argsort`` of numpy 1.23.5 gave
for each, recorded once on that numpy; the numpy running these tests may
break ties differently (1.25+ with AVX-512, 2.x with AVX2), which is the point.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.evaluation.ranking import _heapsort, classic_argsort, ranked_labels

RECORDED = json.loads((Path(__file__).parent / "data" / "numpy_1_23_argsort.json").read_text())


@pytest.mark.parametrize("case", RECORDED["cases"], ids=lambda c: f"n{len(c['values'])}-{len(set(c['values']))}")
def test_classic_argsort_is_numpy_1_23s_permutation(case: dict) -> None:
    values = np.array(case["values"], dtype=np.float64)
    assert classic_argsort(values).tolist() == case["order"]


@pytest.mark.parametrize("case", RECORDED["depth_limit_cases"], ids=lambda c: f"n{len(c['values'])}")
def test_median_of_three_killers_reach_the_heapsort_fallback_as_numpy_1_23(case: dict) -> None:
    """Inputs built with McIlroy's antiqsort adversary against numpy's quicksort (values halved, so ties):
    partitions degenerate past the 2 log2 n depth limit and part of the array is heapsorted."""
    values = np.array(case["values"], dtype=np.float64)
    assert classic_argsort(values).tolist() == case["order"]


@pytest.mark.parametrize("case", RECORDED["heapsort_cases"], ids=lambda c: f"n{len(c['values'])}")
def test_heapsort_is_numpy_1_23s_heapsort(case: dict) -> None:
    """The depth-limit fallback is numpy's aheapsort (recorded with ``kind="heapsort"``)."""
    values = np.array(case["values"], dtype=np.float64)
    order = np.arange(values.size)
    _heapsort(values, order, 0, values.size - 1)
    assert order.tolist() == case["order"]


def test_ranked_labels_follow_the_classic_order_only_where_ties_mix_labels() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    labels = np.array([True, False, False, True, True])
    assert ranked_labels(scores, labels).tolist() == labels[classic_argsort(scores)[::-1]].tolist()
    unique = np.array([0.3, 0.9, 0.5])  # no ties: plain descending order
    assert ranked_labels(unique, np.array([1, 0, 1])).tolist() == [0, 1, 1]
