"""The training dataset must move labels exactly as it moves pixels, flips included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ftppose_cli.formats.joints import JOINT_INDEX, flip_permutation
from ftppose_cli.training import datasets
from ftppose_cli.training.datasets import CropCache, PoseWindowDataset

SIDE = 96
LEFT, RIGHT = JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]


def _two_wrist_cache(root: Path) -> CropCache:
    """One camera-facing 'person': the left wrist (bright blob) is on the image's right."""
    root.mkdir()
    keypoints = np.full((1, 17, 2), SIDE / 2, np.float32)
    keypoints[0, LEFT] = (62, 40)
    keypoints[0, RIGHT] = (34, 56)
    frame = np.zeros((SIDE, SIDE, 3), np.uint8)
    frame[38:43, 60:65] = 255  # left wrist
    frame[54:59, 32:37] = 120  # right wrist
    np.save(root / "crops.npy", np.broadcast_to(frame, (1, 3, SIDE, SIDE, 3)).copy())
    visibility = np.zeros((1, 17), np.float32)
    visibility[0, [LEFT, RIGHT]] = 1.0
    np.savez(root / "meta.npz", keypoints=keypoints, visibility=visibility,
             box_wh=np.array([[48.0, 64.0]], np.float32), scene=np.array(["a"]), source=np.array(["x"]),
             frame=np.array([0]))
    (root / "info.json").write_text(json.dumps({"side": SIDE, "count": 1}))
    return CropCache(root)


def _peak(image: np.ndarray) -> np.ndarray:
    y, x = np.unravel_index(np.argmax(image), image.shape)
    return np.array([x, y], np.float64)


def _blob_centre(image: np.ndarray) -> np.ndarray:
    """Centre of the brightest blob: pixels above half its peak, near the peak."""
    peak = _peak(image)
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]]
    near = np.hypot(xs - peak[0], ys - peak[1]) < 16
    mask = near & (image > (image.max() + np.median(image)) / 2)
    return np.array([xs[mask].mean(), ys[mask].mean()])


def _sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rotation: float, flip: bool, aspect_jitter: float = 0.0):
    monkeypatch.setattr(datasets, "random_geometry", lambda rng: (1.0, rotation, np.zeros(2, np.float32), flip))
    monkeypatch.setattr(datasets, "photometric", lambda crops, rng: crops)
    monkeypatch.setattr(datasets, "occlude", lambda crops, rng, donor=None: crops)
    cache = _two_wrist_cache(tmp_path / "cache")
    dataset = PoseWindowDataset(cache, np.array([0]), window=1, input_size=(128, 96), heatmap_size=(32, 24),
                                aspect_jitter=aspect_jitter)
    item = dataset[0]
    image = item["inputs"][0].numpy().sum(0)  # (H, W), brighter pixels stay brighter after normalisation
    bright = _blob_centre(image)
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]]
    away = np.hypot(xs - bright[0], ys - bright[1]) > 16
    medium = _blob_centre(np.where(away, image, np.median(image)))
    stride = 128 / 32
    targets = {j: (_peak(item["target"][j].numpy()) + 0.5) * stride - 0.5 for j in (LEFT, RIGHT)}
    return bright, medium, targets, item


def test_unflipped_labels_follow_the_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bright, medium, targets, _ = _sample(tmp_path, monkeypatch, rotation=0.0, flip=False)
    assert np.linalg.norm(targets[LEFT] - bright) <= 5
    assert np.linalg.norm(targets[RIGHT] - medium) <= 5


def test_labels_follow_the_pixels_under_a_vertical_stretch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "aspect_stretch", lambda rng, size, std: np.array([[1.0, 0, 0], [0, 0.6, 0.4 * 64]]))
    bright, medium, targets, _ = _sample(tmp_path, monkeypatch, rotation=0.0, flip=False, aspect_jitter=0.2)
    assert np.linalg.norm(targets[LEFT] - bright) <= 5
    assert np.linalg.norm(targets[RIGHT] - medium) <= 5
    (tmp_path / "plain").mkdir()
    unstretched = _sample(tmp_path / "plain", monkeypatch, rotation=0.0, flip=False)[2]
    # Squashed towards the centre row (y = 64): the wrists' vertical gap shrinks by the factor.
    gap, plain_gap = targets[RIGHT][1] - targets[LEFT][1], unstretched[RIGHT][1] - unstretched[LEFT][1]
    assert abs(gap - 0.6 * plain_gap) <= 4


def test_flip_swaps_left_and_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bright, medium, targets, _ = _sample(tmp_path, monkeypatch, rotation=0.0, flip=True)
    # The mirrored person still faces the camera, so its left wrist is again on the image's right,
    # and it is the blob that was the right wrist before mirroring.
    assert targets[LEFT][0] > targets[RIGHT][0]
    assert np.linalg.norm(targets[LEFT] - medium) <= 5
    assert np.linalg.norm(targets[RIGHT] - bright) <= 5


@pytest.mark.parametrize("rotation", [40.0, 90.0, -135.0])
def test_rotated_labels_follow_the_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rotation: float) -> None:
    bright, medium, targets, item = _sample(tmp_path, monkeypatch, rotation=rotation, flip=False)
    assert np.linalg.norm(targets[LEFT] - bright) <= 5
    assert np.linalg.norm(targets[RIGHT] - medium) <= 5
    assert np.allclose(item["joints"][LEFT].numpy(), bright, atol=1.5)
    assert np.allclose(item["joints"][RIGHT].numpy(), medium, atol=1.5)


def test_scene_weights_balance_scenes(tmp_path: Path) -> None:
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=24))
    cache.scene = np.array(["big"] * 20 + ["small"] * 4)
    everything = np.arange(24)
    for power in (0.0, 0.5, 1.0):
        w = cache.scene_weights(everything, power)
        assert w.sum() == pytest.approx(1.0)
        assert w[:20].sum() / w[20:].sum() == pytest.approx((20 / 4) ** power)


def test_balance_facing_draws_people_seen_from_behind_as_often_as_the_others(tmp_path: Path) -> None:
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=24))
    left, right = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
    cache.keypoints[:, left, 0], cache.keypoints[:, right, 0] = 60.0, 30.0  # facing the camera
    cache.keypoints[:4, left, 0], cache.keypoints[:4, right, 0] = 30.0, 60.0  # seen from behind
    cache.keypoints[4:6, left, 0] = cache.keypoints[4:6, right, 0] = 45.0  # side views
    cache.visibility[6, left] = 0.0  # one shoulder unlabelled: neither way
    everything = np.arange(24)
    facing = cache.facing(everything)
    assert list(facing[:8]) == [-1] * 4 + [0] * 3 + [1]
    plain = cache.scene_weights(everything, 0.5)
    balanced = cache.scene_weights(everything, 0.5, balance_facing=True)
    assert balanced.sum() == pytest.approx(1.0)
    assert balanced[facing < 0].sum() == pytest.approx(balanced[facing > 0].sum())
    np.testing.assert_allclose(balanced[facing == 0], plain[facing == 0])  # the rest keep their share


@pytest.mark.parametrize("option", ["background_paste", "neighbour_paste"])
def test_pastes_change_pixels_not_labels(tmp_path: Path, option: str) -> None:
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=4))
    plain = PoseWindowDataset(cache, np.arange(4), 3, (64, 48), (16, 12), train=True, seed=5)
    pasted = PoseWindowDataset(cache, np.arange(4), 3, (64, 48), (16, 12), train=True, seed=5, **{option: 1.0})
    changed = 0
    for i in range(4):
        a, b = plain[i], pasted[i]
        assert torch.equal(a["target"], b["target"]) and torch.equal(a["joints"], b["joints"])
        assert b["inputs"].shape == a["inputs"].shape
        changed += int(not torch.equal(a["inputs"], b["inputs"]))
    assert changed > 0


def test_a_person_drawn_twice_in_an_epoch_gets_two_augmentations(tmp_path: Path) -> None:
    """Seeding by the person would hand a repeated draw the same crop, which the model memorises."""
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=4))
    dataset = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5)
    dataset.set_epoch(3, np.array([2, 2, 0]))
    assert len(dataset) == 3
    first, again = dataset[0], dataset[1]
    assert not torch.equal(first["inputs"], again["inputs"])
    assert torch.equal(dataset[0]["inputs"], first["inputs"])  # replayable: same epoch, same position


def test_pasted_and_occluding_pixels_come_from_the_same_split(tmp_path: Path) -> None:
    """Validation people must not leak into training as neighbours, backgrounds or occluders."""
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=12))
    train_people = np.array([1, 4, 7])
    dataset = PoseWindowDataset(cache, train_people, 1, (64, 48), (16, 12), train=True)
    rng = np.random.default_rng(0)
    assert {dataset._donor(rng) for _ in range(200)} == set(train_people.tolist())


def test_synthetic_back_view_swaps_the_sides_of_people_facing_the_camera_only(tmp_path: Path) -> None:
    """A front view with its head painted over and its sides swapped has a back view's 2-D geometry."""
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=4))
    left, right = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
    cache.keypoints[:, left, 0], cache.keypoints[:, right, 0] = 60.0, 30.0  # facing the camera
    cache.keypoints[2:, left, 0], cache.keypoints[2:, right, 0] = 30.0, 60.0  # seen from behind
    cache.visibility[:, [left, right]] = 1.0
    plain = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5)
    backs = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5, synthetic_back=1.0)
    for i in range(4):
        a, b = plain[i], backs[i]
        expected = a["joints"][flip_permutation()] if i < 2 else a["joints"]
        assert torch.equal(b["joints"], expected)
        assert torch.equal(b["target"], a["target"][flip_permutation()] if i < 2 else a["target"])


def test_face_blur_keeps_every_label_and_leaves_people_seen_from_behind_alone(tmp_path: Path) -> None:
    """A blurred face is still a front view: joints and targets stay; a back view is not touched."""
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=4))
    left, right = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
    cache.keypoints[:, left, 0], cache.keypoints[:, right, 0] = 60.0, 30.0  # facing the camera
    cache.keypoints[2:, left, 0], cache.keypoints[2:, right, 0] = 30.0, 60.0  # seen from behind
    plain = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5)
    blurred = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5, face_blur=1.0)
    for i in range(4):
        a, b = plain[i], blurred[i]
        assert torch.equal(b["joints"], a["joints"]) and torch.equal(b["target"], a["target"])
        if i >= 2:
            assert torch.equal(b["inputs"], a["inputs"])


def test_key_frame_degrade_spoils_only_the_key_frame_of_a_window(tmp_path: Path) -> None:
    """Labels and the neighbour frames stay as they were; a single-frame window is never touched."""
    from tests.crop_factory import synthetic_crop_cache

    cache = CropCache(synthetic_crop_cache(tmp_path / "c", count=4))
    plain = PoseWindowDataset(cache, np.arange(4), 3, (64, 48), (16, 12), train=True, seed=5)
    spoilt = PoseWindowDataset(cache, np.arange(4), 3, (64, 48), (16, 12), train=True, seed=5, key_frame_degrade=1.0)
    for i in range(4):
        a, b = plain[i], spoilt[i]
        assert torch.equal(b["joints"], a["joints"]) and torch.equal(b["target"], a["target"])
        assert torch.equal(b["inputs"][[0, 2]], a["inputs"][[0, 2]])
        assert not torch.equal(b["inputs"][1], a["inputs"][1])
    single = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5)
    single_spoilt = PoseWindowDataset(cache, np.arange(4), 1, (64, 48), (16, 12), train=True, seed=5,
                                      key_frame_degrade=1.0)
    assert all(torch.equal(single[i]["inputs"], single_spoilt[i]["inputs"]) for i in range(4))


def test_mean_pose_averages_labelled_joints_in_the_models_crop_frame(tmp_path: Path) -> None:
    from ftppose_cli.crops import normalise_poses, place_poses
    from tests.crop_factory import synthetic_crop_cache

    root = synthetic_crop_cache(tmp_path / "c", count=4)
    meta = dict(np.load(root / "meta.npz"))
    meta["keypoints"][0, 0] = [0.0, 0.0]  # far off, but not labelled: it must not count
    meta["visibility"][0, 0] = 0.2
    np.savez(root / "meta.npz", **meta)
    cache = CropCache(root)
    side = cache.info["side"]
    boxes = np.concatenate([side / 2 - cache.box_wh / 2, side / 2 + cache.box_wh / 2], axis=1)
    norm = normalise_poses(cache.keypoints, boxes)

    mean = cache.mean_pose(np.array([0, 1]))
    np.testing.assert_allclose(mean[0], norm[1, 0], atol=1e-6)
    np.testing.assert_allclose(mean[1:], norm[:2, 1:].mean(0), atol=1e-6)
    # One person's mean pose, placed back in their own box, is their own labelled joints.
    np.testing.assert_allclose(place_poses(cache.mean_pose(np.array([2])), boxes[2:3])[0], cache.keypoints[2],
                               atol=1e-3)
