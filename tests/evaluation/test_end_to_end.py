"""End-to-end PCK: one-to-one matching of detections to people, and people not found scoring 0."""

from __future__ import annotations

import numpy as np
import pytest

from ftppose_cli.evaluation.end_to_end import box_iou, match_people, score_end_to_end
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from tests import heldout_factory


def test_iou_of_hand_drawn_boxes() -> None:
    iou = box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_matching_is_greedy_by_score_and_one_to_one() -> None:
    gt = np.array([[0, 0, 10, 20], [8, 0, 18, 20], [100, 100, 110, 120]], np.float32)
    det = np.array([
        [1, 0, 11, 20],      # overlaps person 0 best (IoU 0.82), person 1 a little
        [0, 0, 10, 20],      # exactly person 0, but lower score: person 0 is taken, person 1 too little
        [8, 0, 18, 20],      # exactly person 1
        [60, 60, 70, 80],    # nobody
    ], np.float32)
    scores = np.array([0.9, 0.5, 0.8, 0.95])
    np.testing.assert_array_equal(match_people(gt, det, scores), [0, 2, -1])
    # The exact box, scored higher, takes person 0; the shifted one then overlaps no free person enough.
    np.testing.assert_array_equal(match_people(gt, det, [0.5, 0.9, 0.8, 0.95]), [1, 2, -1])
    # IoU 0.5 counts, just under it does not.
    half = np.array([[0, 0, 10, 30]], np.float32)  # IoU with person 0: 200 / 300
    assert match_people(gt[:1], half, [1.0])[0] == 0
    assert match_people(gt[:1], half, [1.0], iou_threshold=0.7)[0] == -1
    assert match_people(gt, np.zeros((0, 4)), np.zeros(0)).tolist() == [-1, -1, -1]
    assert match_people(np.zeros((0, 4)), det, scores).tolist() == []


def test_people_not_found_count_every_joint_as_missed() -> None:
    found_box, missed_box = [0, 0, 50, 100], [200, 0, 250, 100]  # reference 100: 10 / 20 px at PCK@0.1 / 0.2
    labelled = np.zeros(NUM_JOINTS, bool)
    labelled[[JOINT_INDEX[n] for n in ("nose", "left_wrist", "right_wrist", "left_ankle")]] = True
    people = [heldout_factory.person(found_box, "a", labelled=labelled), heldout_factory.person(missed_box, "b")]
    pred = np.full((2, NUM_JOINTS, 2), np.nan)
    pred[0] = people[0].keypoints
    pred[0, JOINT_INDEX["left_wrist"], 0] += 15     # within 0.2, not 0.1
    pred[0, JOINT_INDEX["left_ankle"], 0] += 30     # neither
    pred[1] = people[1].keypoints                    # perfect, but the person was not found
    scores = score_end_to_end(people, pred, np.array([True, False]))
    assert (scores["a"].people, scores["a"].found, scores["a"].joints) == (1, 1, 4)
    assert scores["a"].pck == pytest.approx({0.1: 2 / 4, 0.2: 3 / 4})
    assert (scores["b"].found, scores["b"].joints, scores["b"].pck[0.2]) == (0, NUM_JOINTS, 0.0)
    overall = scores["overall"]
    assert (overall.people, overall.found, overall.joints) == (2, 1, 4 + NUM_JOINTS)
    assert overall.pck == pytest.approx({0.1: 2 / (4 + NUM_JOINTS), 0.2: 3 / (4 + NUM_JOINTS)})
    low, high = overall.pck_interval[0.2]
    assert 0.0 <= low <= overall.pck[0.2] <= high <= 1.0
    assert overall.to_dict()["pck@0.2"] == overall.pck[0.2]
