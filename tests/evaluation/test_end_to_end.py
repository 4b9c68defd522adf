"""End-to-end PCK: one-to-one matching of detections to people, and people not found scoring 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.evaluation.end_to_end import box_iou, match_people, predict_end_to_end, score_end_to_end
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson


def _person(box, dataset="d", image="a.jpg", labelled=None) -> AnnotatedPerson:
    box = np.asarray(box, np.float32)
    rng = np.random.default_rng(int(box.sum()))
    kp = box[:2] + rng.uniform(0.1, 0.9, (NUM_JOINTS, 2)) * (box[2:] - box[:2])
    mask = np.ones(NUM_JOINTS, bool) if labelled is None else np.asarray(labelled, bool)
    return AnnotatedPerson(dataset, Path(image), box, kp.astype(np.float32), mask, None)


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
    people = [_person(found_box, "a", labelled=labelled), _person(missed_box, "b")]
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


def test_pose_runs_on_the_matched_detection_boxes_per_image() -> None:
    people = [_person([0, 0, 50, 100], image="a.jpg"), _person([100, 0, 150, 100], image="a.jpg"),
              _person([0, 0, 40, 80], image="b.jpg")]
    detections = {  # image a: one person found with a shifted box, plus a stray; image b: nothing
        "a.jpg": (np.array([[2, 3, 52, 103], [300, 300, 320, 340]], np.float32), np.array([0.9, 0.7])),
        "b.jpg": (np.zeros((0, 4), np.float32), np.zeros(0)),
    }
    images = {name: np.full((4, 4, 3), i, np.uint8) for i, name in enumerate(detections)}
    given = []

    def detect(image):
        return detections[list(images)[int(image[0, 0, 0])]]

    def estimate(image, boxes):
        given.append(boxes.copy())
        return np.repeat(boxes[:, None, :2], NUM_JOINTS, axis=1)  # every joint at the box's corner

    run = predict_end_to_end(people, lambda path: images[str(path)], detect, estimate)
    assert run.found.tolist() == [True, False, False]
    assert len(given) == 1  # no pose call for an image where nobody was found
    np.testing.assert_allclose(given[0], [[2, 3, 52, 103]])
    np.testing.assert_allclose(run.pred[0], np.broadcast_to([2, 3], (NUM_JOINTS, 2)))
    assert np.isnan(run.pred[1:]).all() and np.isnan(run.boxes[1:]).all()
    assert run.detections == {Path("a.jpg"): 2, Path("b.jpg"): 0}


def test_module_does_not_import_torch() -> None:
    code = "import sys, ftppose_cli.evaluation.end_to_end; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          check=False).returncode == 0
