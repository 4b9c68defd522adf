"""Held-out PCK: reading COCO / PoseTrack18 JSON, the average-pose and fixed-pose baselines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import ftppose_cli.evaluation.heldout as heldout
from ftppose_cli.crops import normalise_poses
from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson
from tests import heldout_factory


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return heldout_factory.write_dataset(tmp_path / "heldout")


def test_reads_people_once_with_their_scored_joints(dataset: Path) -> None:
    data = heldout.load_heldout(dataset)
    assert data.datasets == ["coco_set", "posetrack"]
    assert len(data.people) == 3  # crowd, unlabelled and duplicate people are skipped
    a = next(p for p in data.people if p.dataset == "coco_set")
    assert a.reference == 100.0 and a.head_size is None
    assert not a.labelled[[JOINT_INDEX["head_bottom"], JOINT_INDEX["head_top"]]].any()
    assert a.labelled.sum() == 15
    p, q = sorted((p for p in data.people if p.dataset == "posetrack"), key=lambda p: p.head_size is None)
    assert p.head_size == pytest.approx(0.6 * 50.0)
    assert p.reference == 200.0 and p.labelled.sum() == 15
    assert not p.labelled[[JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"]]].any()
    np.testing.assert_allclose(q.box_xyxy, [240, 40, 260, 160])
    assert q.reference == 120.0 and q.head_size is None and q.labelled.sum() == 3
    assert p.image.name == "000000.jpg" and p.image.is_file()


def test_average_pose_is_leave_one_out() -> None:
    def person(box, pose, dataset="d"):
        return AnnotatedPerson(dataset, Path("x.jpg"), np.array(box, np.float32), np.array(pose, np.float32),
                                     np.ones(NUM_JOINTS, bool), None)

    unit = np.random.default_rng(0).uniform(0.2, 0.8, (NUM_JOINTS, 2))
    boxes = [[0, 0, 30, 40], [100, 50, 160, 130], [10, 200, 25, 220]]
    same = [person(b, np.array(b[:2]) + unit * [b[2] - b[0], b[3] - b[1]]) for b in boxes]
    # Everyone has the same normalised pose: each one is predicted exactly from the others.
    np.testing.assert_allclose(heldout.average_pose_predictions(same), [p.keypoints for p in same], atol=1e-3)
    assert heldout.average_pose_baseline.__doc__

    # Two people: each is predicted from the other alone, never from itself.
    other = [same[0], person(boxes[0], np.array(boxes[0][:2]) + (1 - unit) * [30, 40])]
    pred = heldout.average_pose_predictions(other)
    np.testing.assert_allclose(pred[0], other[1].keypoints, atol=1e-3)
    np.testing.assert_allclose(pred[1], other[0].keypoints, atol=1e-3)


def test_fixed_pose_baseline_places_one_pose_in_every_box() -> None:
    unit = np.random.default_rng(1).uniform(0.2, 0.8, (NUM_JOINTS, 2))
    boxes = [[0, 0, 30, 40], [100, 50, 160, 130]]
    people = [AnnotatedPerson("d", Path("x.jpg"), np.array(b, np.float32),
                              (np.array(b[:2]) + unit * [b[2] - b[0], b[3] - b[1]]).astype(np.float32),
                              np.ones(NUM_JOINTS, bool), None) for b in boxes]
    pose = normalise_poses(people[0].keypoints[None], np.array(boxes[:1], np.float32))[0]
    exact = heldout.fixed_pose_baseline(heldout.HeldoutSet(Path("."), people), pose, "mine")
    assert exact.method == "mine" and exact.overall.pck == {0.05: 1.0, 0.1: 1.0, 0.2: 1.0}
    off = heldout.fixed_pose_baseline(heldout.HeldoutSet(Path("."), people), pose + 1.0)
    assert off.overall.pck[0.2] == 0.0


def test_folder_without_annotations_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps([{"bbox": [0, 0, 1, 1]}]))
    with pytest.raises(InputError, match="no annotated people"):
        heldout.load_heldout(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        heldout.load_heldout(tmp_path / "missing")


def test_missing_image_names_the_json(dataset: Path) -> None:
    shutil.rmtree(dataset / "posetrack" / "images")
    with pytest.raises(InputError, match=r"seq\.json.*not found"):
        heldout.load_heldout(dataset)
