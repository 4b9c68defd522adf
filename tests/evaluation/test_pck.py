"""PCK, its per-joint split, the side-agnostic variant and facing calls, on hand-counted cases."""

from __future__ import annotations

import numpy as np
import pytest

from ftppose_cli.evaluation.pck import facing_calls, pck, pck_interval, per_joint_pck, side_agnostic_pck

# Three joints: 0 has no side, 1 and 2 are a left/right pair.
FLIP = [0, 2, 1]


def _case():
    gt = np.array([[[0.0, 0.0], [-15.0, 0.0], [15.0, 0.0]]] * 2)
    pred = gt.copy()
    pred[0, 1], pred[0, 2] = gt[0, 2], gt[0, 1]  # person 0: left and right swapped
    pred[1, 0] += (0.0, 15.0)  # person 1: joint 0 off by 15 (0.15 of the reference)
    visible = np.array([[True, True, True], [True, True, False]])
    return pred, gt, visible, np.array([100.0, 100.0])


def test_pck_counts_only_labelled_joints() -> None:
    pred, gt, visible, ref = _case()
    # labelled: 5 joints; within 0.1: person 0 joint 0, person 1 joint 1 -> 2/5; within 0.2: + person 1 joint 0
    assert pck(pred, gt, visible, ref, (0.1, 0.2)) == pytest.approx({0.1: 2 / 5, 0.2: 3 / 5})


def test_per_joint_pck() -> None:
    pred, gt, visible, ref = _case()
    assert per_joint_pck(pred, gt, visible, ref, 0.1) == pytest.approx([1 / 2, 1 / 2, 0.0])
    assert np.isnan(per_joint_pck(pred, gt, np.zeros_like(visible), ref)).all()


def test_side_agnostic_pck_accepts_swapped_sides_only() -> None:
    pred, gt, visible, ref = _case()
    assert side_agnostic_pck(pred, gt, visible, ref, FLIP, 0.1) == pytest.approx(4 / 5)
    assert side_agnostic_pck(pred, gt, visible, ref, FLIP, 0.2) == pytest.approx(1.0)


def test_facing_calls_count_people_with_both_shoulders() -> None:
    # Joint 1 is the left shoulder, 2 the right. Person 0 faces the camera (left shoulder on the image's
    # right) and is called facing away (swapped); person 1 faces away and is called so; person 2 lacks a
    # shoulder and is not counted.
    gt = np.array([[[0, 0], [15, 0], [-15, 0]], [[0, 0], [-15, 0], [15, 0]], [[0, 0], [-15, 0], [15, 0]]], float)
    pred = gt.copy()
    pred[0, [1, 2]] = gt[0, [2, 1]]
    visible = np.array([[True, True, True], [True, True, True], [True, True, False]])
    assert facing_calls(pred, gt, visible, left=1, right=2) == {"towards": 1, "towards_right": 0, "away": 1,
                                                                "away_right": 1}


def test_pck_interval_brackets_the_estimate_and_narrows_with_more_people() -> None:
    rng = np.random.default_rng(0)

    def people(n: int) -> tuple[np.ndarray, ...]:
        gt = rng.uniform(0, 100, size=(n, 17, 2))
        pred = gt + rng.normal(0, 12, size=gt.shape)  # about half the joints within 0.1 of a 100-pixel box
        return pred, gt, np.ones((n, 17), bool), np.full(n, 100.0)

    few, many = people(20), people(500)
    low, high = pck_interval(*few, threshold=0.1)
    assert low < pck(*few, thresholds=(0.1,))[0.1] < high
    low_many, high_many = pck_interval(*many, threshold=0.1)
    assert high_many - low_many < 0.5 * (high - low)
    pred, gt, visible, reference = few
    assert pck_interval(gt, gt, visible, reference, 0.1) == (1.0, 1.0)  # every joint right: no spread
