"""AP building blocks: distances, poseval's greedy person matching, all-point AP, group means.

Expected values are worked out by hand in the docstrings (poseval is not
installable offline, so its rules were read from its source:
``eval_helpers.assignGTmulti``, ``computeRPC``, ``VOCap``, ``getCum``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ftppose_cli.evaluation.ap import (
    SCORED_JOINTS,
    assign_people,
    average_precision,
    group_means,
    head_sizes,
    normalized_distances,
    vector_norms,
)
from ftppose_cli.evaluation.ranking import classic_argsort


def test_vector_norms_are_bit_identical_to_numpy_norm_of_each_vector() -> None:
    """poseval calls np.linalg.norm on one 2-vector at a time (a BLAS dot, maybe fused multiply-add)."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5000, 2)) * rng.choice([1, 10, 100, 1000], size=(5000, 1))
    expected = np.array([np.linalg.norm(v) for v in vectors])
    assert np.array_equal(vector_norms(vectors), expected)


def test_head_size_is_six_tenths_of_the_head_box_diagonal() -> None:
    assert head_sizes(np.array([[10.0, 20.0, 40.0, 60.0]]))[0] == pytest.approx(0.6 * 50)  # 30 x 40 box


def _frame(gt: list[list[tuple[float, float] | None]], pred: list[list[tuple[float, float] | None]],
           head: float = 30.0) -> tuple[np.ndarray, ...]:
    """One frame; each person is a list of joints, None where the joint is missing."""
    def arrays(people: list) -> tuple[np.ndarray, np.ndarray]:
        joints = len(people[0])
        xy = np.zeros((1, len(people), joints, 2))
        present = np.zeros((1, len(people), joints), bool)
        for p, person in enumerate(people):
            for j, point in enumerate(person):
                if point is not None:
                    xy[0, p, j], present[0, p, j] = point, True
        return xy, present

    gt_xy, gt_present = arrays(gt)
    pred_xy, pred_present = arrays(pred)
    heads = np.full((1, len(gt)), head)
    return gt_xy, gt_present, heads, pred_xy, pred_present


def test_hit_is_within_half_a_head_size_inclusive() -> None:
    """Head size 30: 15 px away hits (distance 0.5 <= 0.5), 15.01 px does not; a missing joint never hits."""
    gt_xy, gt_present, heads, pred_xy, pred_present = _frame(
        [[(100, 100), (200, 100), (300, 100)]], [[(115, 100), (200, 115.01), None]])
    distances = normalized_distances(gt_xy, gt_present, heads, pred_xy, pred_present)
    assert distances[0, 0, 0, 0] == 0.5 and distances[0, 0, 0, 2] == np.inf
    assert assign_people(distances, gt_present).hits[0, 0, 0].tolist() == [True, False, False]


def test_prediction_keeps_its_best_person_and_is_not_reassigned() -> None:
    """GT person 0 and 1, three joints each. Prediction a hits all 3 joints of person 0 (pck 1);
    prediction b hits 2 of person 0 and 1 of person 1 (pck 2/3 vs 1/3), so b keeps only person 0.
    Person 0 takes a (1 > 2/3); person 1 has no candidate left (b's pck for it was zeroed), so b is
    unmatched -- poseval does not fall back to b's second choice. All of b's joints are false positives."""
    far = (900.0, 900.0)
    gt = [[(100, 100), (110, 100), (120, 100)], [(400, 100), (410, 100), (420, 100)]]
    pred = [[(100, 100), (110, 100), (120, 100)], [(100, 101), (110, 101), (420, 101)], [far, far, far]]
    gt_xy, gt_present, heads, pred_xy, pred_present = _frame(gt, pred)
    assignment = assign_people(normalized_distances(gt_xy, gt_present, heads, pred_xy, pred_present), gt_present)
    assert assignment.gt_of_pred[0].tolist() == [0, -1, -1]
    labels = assignment.detection_labels()[0]
    assert labels.tolist() == [[True, True, True], [False, False, False], [False, False, False]]


def test_ties_go_to_the_first_person() -> None:
    """The prediction hits one joint of each of two people (pck 1/2 each): argmax picks person 0."""
    gt = [[(100, 100), (500, 500)], [(500, 500), (110, 100)]]
    pred = [[(100, 100), (110, 100)]]
    gt_xy, gt_present, heads, pred_xy, pred_present = _frame(gt, pred)
    assignment = assign_people(normalized_distances(gt_xy, gt_present, heads, pred_xy, pred_present), gt_present)
    assert assignment.gt_of_pred[0].tolist() == [0]
    assert assignment.detection_labels()[0].tolist() == [[True, False]]


def test_empty_sides_assign_nothing() -> None:
    hits = np.zeros((1, 0, 2, 15), bool)
    assert assign_people(np.full(hits.shape, np.inf), np.ones((1, 2, 15), bool)).gt_of_pred.shape == (1, 0)


def test_ap_by_hand() -> None:
    """Ranked: TP (.9), FP (.8), TP (.7); 2 ground-truth joints.
    precision 1, 1/2, 2/3; recall 1/2, 1/2, 1; the precision envelope at the recall steps is 1 (at 1/2)
    and 2/3 (at 1): AP = 1/2 * 1 + 1/2 * 2/3 = 5/6."""
    result = average_precision(np.array([0.7, 0.9, 0.8]), np.array([True, True, False]), 2)
    assert result.ap == pytest.approx(100 * 5 / 6)
    assert result.precision == pytest.approx(100 * 2 / 3) and result.recall == pytest.approx(100.0)


def test_one_false_positive_ranked_first_gives_n_over_n_plus_one() -> None:
    """n true positives after one false positive: precision k/(k+1) rises, its envelope is n/(n+1)."""
    n = 7
    scores = np.concatenate([[0.99], np.linspace(0.1, 0.5, n)])
    labels = np.concatenate([[False], np.ones(n, bool)])
    assert average_precision(scores, labels, n).ap == pytest.approx(100 * n / (n + 1))


def test_no_ground_truth_is_nan_in_poseval_and_zero_in_posetrack21() -> None:
    """poseval divides recall by 0 (NaN AP, left out of the Total); PoseTrack21 by max(n, 1)."""
    assert math.isnan(average_precision(np.array([0.5]), np.array([False]), 0).ap)
    assert average_precision(np.array([0.5]), np.array([False]), 0, recall_floor_one=True).ap == 0.0
    assert average_precision(np.zeros(0), np.zeros(0, bool), 3).ap == 0.0  # no detections: 0


def _reference_ap(scores: np.ndarray, labels: np.ndarray, positives: int) -> float:
    """The same all-point definition written as plainly as possible: loops, no numpy tricks (ranked as poseval)."""
    order = classic_argsort(scores)[::-1]
    found, precision, recall = 0, [], []
    for rank, index in enumerate(order, start=1):
        found += int(labels[index])
        precision.append(found / rank)
        recall.append(found / positives)
    precision = [0.0] + precision + [0.0]
    recall = [0.0] + recall + [1.0]
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return 100 * sum((recall[i] - recall[i - 1]) * precision[i] for i in range(1, len(recall))
                     if recall[i] != recall[i - 1])


@pytest.mark.parametrize("seed", range(5))
def test_ap_matches_a_plain_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(300), 2)  # ties included
    labels = rng.random(300) < 0.6
    positives = int(labels.sum()) + 20
    assert average_precision(scores, labels, positives).ap == pytest.approx(_reference_ap(scores, labels, positives),
                                                                            abs=1e-9)


def test_group_means_as_poseval_prints_them() -> None:
    """Head = mean(head_top, neck, nose); a NaN joint makes its group NaN but is left out of the Total."""
    values = np.arange(15, dtype=float)
    position = {name: i for i, name in enumerate(SCORED_JOINTS)}
    groups = group_means(values)
    head = [position["head_top"], position["head_bottom"], position["nose"]]
    assert groups["Head"] == pytest.approx(np.mean(values[head])) and groups["Total"] == pytest.approx(7.0)
    values[position["left_wrist"]] = np.nan
    groups = group_means(values)
    assert math.isnan(groups["Wrist"])
    assert groups["Total"] == pytest.approx(np.mean(np.delete(np.arange(15.0), position["left_wrist"])))
