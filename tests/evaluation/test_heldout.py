"""Held-out PCK: reading COCO / PoseTrack18 JSON, scoring by hand-checkable numbers, the average-pose baseline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import ftppose_cli.evaluation.heldout as heldout
from ftppose_cli.errors import InputError
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson
from ftppose_cli.formats.joints import COCO_JOINTS, JOINT_INDEX, NUM_JOINTS, POSETRACK_JOINTS
from ftppose_cli.models.ftppose import create_model

# Person A (COCO): box 60 x 100 -> reference 100 px; every COCO joint labelled.
BOX_A = [20.0, 10.0, 60.0, 100.0]
# Person P (PoseTrack): box 50 x 200 -> reference 200 px; head box 30 x 40 -> diagonal 50 -> head size 30.
BOX_P = [100.0, 20.0, 50.0, 200.0]
HEAD_P = [110.0, 20.0, 30.0, 40.0]
# Person Q (PoseTrack): no bbox, three joints -> the keypoint box, 20 x 120 -> reference 120; no head box.
Q_JOINTS = {"nose": (250.0, 40.0), "left_shoulder": (240.0, 80.0), "right_ankle": (260.0, 160.0)}


def _pose(box: list[float], seed: int) -> np.ndarray:
    """Joints (17, 2) in our order, inside the box."""
    rng = np.random.default_rng(seed)
    x, y, w, h = box
    return np.stack([x + rng.uniform(0.1, 0.9, NUM_JOINTS) * w, y + rng.uniform(0.1, 0.9, NUM_JOINTS) * h], 1)


GT_A = _pose(BOX_A, 1)
GT_P = _pose(BOX_P, 2)


def _offsets(joints_by_px: dict[float, list[str]]) -> np.ndarray:
    """Horizontal prediction error per joint, in pixels."""
    out = np.zeros(NUM_JOINTS)
    for px, names in joints_by_px.items():
        for name in names:
            out[JOINT_INDEX[name]] = px
    return out


# A (ref 100: PCK thresholds 5 / 10 / 20 px). head_bottom and head_top are not COCO joints: huge errors, unscored.
OFFSETS_A = _offsets({
    0: ["nose", "left_ear", "right_ear", "left_shoulder", "right_shoulder"],
    7: ["left_elbow", "right_elbow", "left_wrist", "right_wrist"],
    15: ["left_hip", "right_hip", "left_knee", "right_knee"],
    30: ["left_ankle", "right_ankle"],
    500: ["head_bottom", "head_top"],
})
# P (ref 200: 10 / 20 / 40 px; head 30: PCKh 15 px). Ears are labelled in the file but PoseTrack never scores them.
OFFSETS_P = _offsets({
    5: ["nose", "head_bottom", "head_top"],
    12: ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"],
    50: ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"],
    1000: ["left_ear", "right_ear"],
})


def _coco_keypoints(pose: np.ndarray) -> list[float]:
    out = []
    for name in COCO_JOINTS:
        x, y = pose[JOINT_INDEX[name]] if name in JOINT_INDEX else (33.0, 33.0)  # eyes: labelled, never scored
        out += [float(x), float(y), 2]
    return out


def _write_dataset(root: Path) -> Path:
    """A COCO folder and a PoseTrack18 folder laid out as mmpose ships them."""
    coco = root / "coco_set"
    coco.mkdir(parents=True)
    cv2.imwrite(str(coco / "a.jpg"), np.zeros((140, 120, 3), np.uint8))
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_JOINTS)}]
    document = {
        "categories": categories,
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [
            {"id": 10, "image_id": 1, "bbox": BOX_A, "iscrowd": 0, "keypoints": _coco_keypoints(GT_A)},
            {"id": 11, "image_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1, "keypoints": _coco_keypoints(GT_A)},
            {"id": 12, "image_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 0, "keypoints": [0] * 51},
        ],
    }
    (coco / "test_coco.json").write_text(json.dumps(document))
    # A second copy of the same people (as COCO-WholeBody next to COCO): must not count twice.
    (coco / "test_coco_wholebody.json").write_text(json.dumps(document))
    # Detections: a JSON list, not ground truth.
    (coco / "detections.json").write_text(json.dumps([{"image_id": 1, "bbox": BOX_A, "score": 0.9}]))

    track = root / "posetrack"
    (track / "images" / "val" / "seq").mkdir(parents=True)
    (track / "annotations" / "val").mkdir(parents=True)
    cv2.imwrite(str(track / "images" / "val" / "seq" / "000000.jpg"), np.zeros((240, 320, 3), np.uint8))
    kp_p = np.concatenate([GT_P, np.ones((NUM_JOINTS, 1))], 1).ravel().tolist()
    kp_q = [0.0] * (3 * NUM_JOINTS)
    for name, (x, y) in Q_JOINTS.items():
        kp_q[3 * JOINT_INDEX[name]: 3 * JOINT_INDEX[name] + 3] = [x, y, 1]
    (track / "annotations" / "val" / "seq.json").write_text(json.dumps({
        "categories": [{"id": 1, "name": "person", "keypoints": list(POSETRACK_JOINTS)}],
        "images": [{"id": 5, "file_name": "images/val/seq/000000.jpg"}],
        "annotations": [
            {"id": 1, "image_id": 5, "bbox": BOX_P, "bbox_head": HEAD_P, "keypoints": kp_p},
            {"id": 2, "image_id": 5, "keypoints": kp_q},
        ],
    }))
    return root


def _gt_prediction(people: list[AnnotatedPerson]) -> dict[tuple, np.ndarray]:
    """Predictions keyed by box: the ground truth moved right by the planned offsets."""
    out = {}
    for p in people:
        pred = p.keypoints.astype(np.float64).copy()
        if p.dataset == "coco_set":
            pred[:, 0] += OFFSETS_A
        elif p.head_size is not None:
            pred[:, 0] += OFFSETS_P
        out[tuple(np.round(p.box_xyxy, 2))] = pred
    return out


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return _write_dataset(tmp_path / "heldout")


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


def test_pck_of_controlled_predictions_matches_hand_count(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = heldout.load_heldout(dataset)
    planned = _gt_prediction(data.people)
    calls = []

    def fake_estimate_stills(self, images, boxes):
        calls.append((self.epsilon, self.flip_test, self.window))
        xy = np.stack([planned[tuple(np.round(b, 2))] for b in boxes[0]]).astype(np.float32)
        return [(xy, np.ones(xy.shape[:2], np.float32))]

    monkeypatch.setattr(heldout.PoseEstimator, "estimate_stills", fake_estimate_stills)
    model = create_model("tiny", depth=2, temporal_depth=1)
    result = heldout.evaluate_heldout(model, data, epsilon=0.5, flip_test=True)
    assert {c for c in calls} == {(0.5, True, 3)} and len(calls) == 2  # one call per image

    coco = result.scores["coco_set"]
    assert (coco.people, coco.joints) == (1, 15)
    assert coco.pck == pytest.approx({0.05: 5 / 15, 0.1: 9 / 15, 0.2: 13 / 15})
    assert coco.pckh is None and coco.head_people == 0
    track = result.scores["posetrack"]
    assert (track.people, track.joints) == (2, 18)
    # P: 3 joints within 10 px, 9 within 20 and 40 px; Q: 3 exact joints.
    assert track.pck == pytest.approx({0.05: 6 / 18, 0.1: 12 / 18, 0.2: 12 / 18})
    assert (track.head_people, track.head_joints) == (1, 15)
    assert track.pckh == pytest.approx(9 / 15)
    overall = result.overall
    assert (overall.people, overall.joints) == (3, 33)
    assert overall.pck == pytest.approx({0.05: 11 / 33, 0.1: 21 / 33, 0.2: 25 / 33})
    assert overall.pckh == pytest.approx(9 / 15)
    assert result.crops == 3 and result.ms_per_crop is not None
    assert json.loads(json.dumps(result.to_dict()))["scores"]["overall"]["pck@0.1"] == pytest.approx(21 / 33)


def test_real_model_predictions_come_back_to_image_pixels(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A K=3 model whose heatmaps peak at the crop centre predicts each box's centre."""
    torch.manual_seed(0)
    model = create_model("tiny", depth=2, temporal_depth=1).eval()
    h, w = model.config.heatmap_size
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    # Heatmap cell c covers input pixels around (c + 0.5) * 4 - 0.5; the crop centre (W/2, H/2) sits at c = W/8 - 0.375.
    cx, cy = model.config.img_size[1] / 8 - 0.375, model.config.img_size[0] / 8 - 0.375
    peak = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 2.0**2))
    windows = []

    def centred(kept, key_last, key_intermediate):
        windows.append(tuple(kept.shape))
        return peak.expand(kept.shape[0], model.config.num_joints, h, w).clone()

    monkeypatch.setattr(model, "decode_kept", centred)
    data = heldout.load_heldout(dataset)
    pred, _ = heldout.predict_people(data, heldout.PoseEstimator(model))
    assert all(shape[1] == 3 for shape in windows)  # the still repeated into a 3-frame window
    for person, xy in zip(data.people, pred):
        centre = (person.box_xyxy[:2] + person.box_xyxy[2:]) / 2
        np.testing.assert_allclose(xy, np.broadcast_to(centre, xy.shape), atol=1.0)


def test_box_scale_changes_the_given_box_of_its_layout_only(dataset: Path) -> None:
    class Recorder:
        """Stands in for the estimator and keeps the boxes it is given."""

        def __init__(self) -> None:
            self.boxes: list[np.ndarray] = []

        def estimate_stills(self, images, boxes):
            self.boxes += boxes
            return [(np.zeros((len(boxes[0]), NUM_JOINTS, 2)), None)]

    data = heldout.load_heldout(dataset)
    recorder = Recorder()
    heldout.predict_people(data, recorder, box_scale={"posetrack18": 0.5})
    given = np.concatenate(recorder.boxes)
    by_image: dict[Path, list] = {}
    for person in data.people:  # predict_people groups by image in first-seen order
        by_image.setdefault(person.image, []).append(person)
    people = [p for group in by_image.values() for p in group]
    for person, box in zip(people, given):
        size, given_size = person.box_xyxy[2:] - person.box_xyxy[:2], box[2:] - box[:2]
        np.testing.assert_allclose(given_size, size * (0.5 if person.layout == "posetrack18" else 1.0))
        np.testing.assert_allclose(box[:2] + box[2:], person.box_xyxy[:2] + person.box_xyxy[2:])
    assert {p.layout for p in people} == {"coco", "posetrack18"}


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
    from ftppose_cli.pipeline.crops import normalise_poses

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


def test_real_heldout_set(shared_data: Path) -> None:
    data = heldout.load_heldout(shared_data / "heldout")
    counts = {name: sum(p.dataset == name for p in data.people) for name in data.datasets}
    assert counts == {"mmpose_coco": 12, "mmpose_posetrack18": 14}
    assert all(p.head_size is not None for p in data.people if p.dataset == "mmpose_posetrack18")
    baseline = heldout.average_pose_baseline(data).overall
    assert baseline.people == 26 and 0.0 < baseline.pck[0.05] <= baseline.pck[0.1] <= baseline.pck[0.2] < 1.0
    torch.manual_seed(0)
    model = create_model("tiny", depth=2, temporal_depth=1)
    result = heldout.evaluate_heldout(model, data, epsilon=0.5)
    assert result.overall.joints == baseline.joints and result.crops == 26
