"""Held-out runs: the pose model on held-out people, scored by hand-checkable numbers, and on the real set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import ftppose_cli.benchmarking.heldout as runs
import ftppose_cli.evaluation.heldout as heldout
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.models.ftppose import create_model
from tests import heldout_factory


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return heldout_factory.write_dataset(tmp_path / "heldout")


def test_pck_of_controlled_predictions_matches_hand_count(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = heldout.load_heldout(dataset)
    planned = heldout_factory.gt_prediction(data.people)
    calls = []

    def fake_estimate_stills(self, images, boxes):
        calls.append((self.pruning_ratio, self.flip_test, self.window))
        xy = np.stack([planned[tuple(np.round(b, 2))] for b in boxes[0]]).astype(np.float32)
        return [(xy, np.ones(xy.shape[:2], np.float32))]

    monkeypatch.setattr(runs.PoseEstimator, "estimate_stills", fake_estimate_stills)
    model = create_model("tiny", depth=2, temporal_depth=1)
    result = runs.evaluate_heldout(model, data, pruning_ratio=0.5, flip_test=True)
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

    monkeypatch.setattr(model, "estimate_kept", centred)
    data = heldout.load_heldout(dataset)
    pred, _ = runs.predict_people(data, runs.PoseEstimator(model))
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
    runs.predict_people(data, recorder, box_scale={"posetrack18": 0.5})
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


def test_real_heldout_set(shared_data: Path) -> None:
    data = heldout.load_heldout(shared_data / "heldout")
    counts = {name: sum(p.dataset == name for p in data.people) for name in data.datasets}
    assert counts == {"mmpose_coco": 12, "mmpose_posetrack18": 14}
    assert all(p.head_size is not None for p in data.people if p.dataset == "mmpose_posetrack18")
    baseline = heldout.average_pose_baseline(data).overall
    assert baseline.people == 26 and 0.0 < baseline.pck[0.05] <= baseline.pck[0.1] <= baseline.pck[0.2] < 1.0
    torch.manual_seed(0)
    model = create_model("tiny", depth=2, temporal_depth=1)
    result = runs.evaluate_heldout(model, data, pruning_ratio=0.5)
    assert result.overall.joints == baseline.joints and result.crops == 26


def test_pose_runs_on_the_matched_detection_boxes_per_image() -> None:
    people = [heldout_factory.person([0, 0, 50, 100], image="a.jpg"),
              heldout_factory.person([100, 0, 150, 100], image="a.jpg"),
              heldout_factory.person([0, 0, 40, 80], image="b.jpg")]
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

    run = runs.predict_end_to_end(people, lambda path: images[str(path)], detect, estimate)
    assert run.found.tolist() == [True, False, False]
    assert len(given) == 1  # no pose call for an image where nobody was found
    np.testing.assert_allclose(given[0], [[2, 3, 52, 103]])
    np.testing.assert_allclose(run.pred[0], np.broadcast_to([2, 3], (NUM_JOINTS, 2)))
    assert np.isnan(run.pred[1:]).all() and np.isnan(run.boxes[1:]).all()
    assert run.detections == {Path("a.jpg"): 2, Path("b.jpg"): 0}
