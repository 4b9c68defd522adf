"""What each kit scores: ignore regions contain points as Shapely's ``contains`` does."""

from __future__ import annotations

import numpy as np

from ftppose_cli.evaluation.rules import points_in_regions


def test_points_in_regions_strict_interior_even_odd() -> None:
    """Like Shapely's contains: the boundary is outside; a self-crossing (bow-tie) ring uses even-odd."""
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    points = np.array([[5, 5], [10, 5], [0, 0], [5, 10], [11, 5], [-1, 5], [9.999, 9.999]], float)
    assert points_in_regions(points, (square,)).tolist() == [True, False, False, False, False, False, True]
    u_shape = np.array([[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]], float)
    assert points_in_regions(np.array([[5, 20], [15, 20], [25, 20], [15, 5]]), (u_shape,)).tolist() == [
        True, False, True, True]
    bow_tie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], float)
    assert points_in_regions(np.array([[2, 5], [8, 5], [5, 1]]), (bow_tie,)).tolist() == [True, True, False]
    assert not points_in_regions(np.array([[1.0, 1.0]]), (np.array([[0.0, 0.0], [5.0, 5.0]]),)).any()
