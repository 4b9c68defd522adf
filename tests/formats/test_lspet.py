"""LSPet's validation split as held-out people: which images, which joints count, which box."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.lspet import LSPET_DATASET, LSPET_JOINTS, load_lspet_val, lspet_person

LSPET = Path("/work/cache/lspet")


def _joints(seed: int, width: int = 60, height: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    joints = np.ones((14, 3), np.float32)
    joints[:, 0] = rng.uniform(5, width - 5, 14)
    joints[:, 1] = rng.uniform(5, height - 5, 14)
    return joints


def _tight_box(joints: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.concatenate([joints[:, :2].min(0), joints[:, :2].max(0)])


def _write_lspet(root: Path, count: int) -> np.ndarray:
    (root / "images").mkdir(parents=True)
    joints = np.stack([_joints(i) for i in range(count)], axis=2)  # (14, 3, N) as joints.mat holds it
    for i in range(count):
        cv2.imwrite(str(root / "images" / f"im{i + 1:05d}.jpg"), np.zeros((80, 60, 3), np.uint8))
    from scipy.io import savemat

    savemat(str(root / "joints.mat"), {"joints": joints})
    return joints


def test_joints_map_to_ours_and_only_visible_ones_inside_the_image_count() -> None:
    joints = _joints(0)
    joints[LSPET_JOINTS.index("left_wrist"), 2] = 0          # not visible
    joints[LSPET_JOINTS.index("right_ankle"), :2] = [70, 40]  # outside the 60 px wide image
    person = lspet_person(joints, Path("x.jpg"), 60, 80, _tight_box)
    assert person.dataset == LSPET_DATASET and person.head_size is None
    for k, name in enumerate(LSPET_JOINTS):
        np.testing.assert_allclose(person.keypoints[JOINT_INDEX[name]], joints[k, :2])
    np.testing.assert_allclose(person.keypoints[JOINT_INDEX["head_bottom"]], joints[12, :2])  # the neck
    np.testing.assert_allclose(person.keypoints[JOINT_INDEX["head_top"]], joints[13, :2])
    assert set(np.flatnonzero(person.labelled)) == {JOINT_INDEX[n] for n in LSPET_JOINTS} - {
        JOINT_INDEX["left_wrist"], JOINT_INDEX["right_ankle"]}
    assert not person.labelled[[JOINT_INDEX[n] for n in ("nose", "left_ear", "right_ear")]].any()
    np.testing.assert_allclose(person.box_xyxy, _tight_box(joints, 60, 80))
    assert person.reference == pytest.approx(max(np.ptp(joints[:, 0]), np.ptp(joints[:, 1])))
    joints[:, 2] = 0
    assert lspet_person(joints, Path("x.jpg"), 60, 80, _tight_box) is None


def test_the_last_images_form_the_split(tmp_path: Path) -> None:
    joints = _write_lspet(tmp_path, 12)
    people = load_lspet_val(tmp_path, _tight_box, count=5)
    assert [p.image.name for p in people] == [f"im{i:05d}.jpg" for i in range(8, 13)]
    np.testing.assert_allclose(people[0].keypoints[JOINT_INDEX["right_ankle"]], joints[0, :2, 7], atol=1e-4)
    every = load_lspet_val(tmp_path, _tight_box, every=2, count=5)
    assert [p.image.name for p in every] == ["im00008.jpg", "im00010.jpg", "im00012.jpg"]
    assert all(p.labelled.sum() == 14 and p.keypoints.shape == (NUM_JOINTS, 2) for p in people)
    with pytest.raises(InputError, match="joints.mat"):
        load_lspet_val(tmp_path / "missing", _tight_box)


def _label_corpus():
    pytest.importorskip("av")
    path = Path(__file__).resolve().parents[2] / "scripts" / "label_corpus.py"
    spec = importlib.util.spec_from_file_location("label_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_real_split_with_the_training_box() -> None:
    if not (LSPET / "joints.mat").is_file():
        pytest.skip(f"{LSPET} is not present")
    people = load_lspet_val(LSPET, _label_corpus().lspet_box, every=100)
    assert len(people) == 10 and people[0].image.name == "im09001.jpg"
    assert all(p.box_xyxy[0] <= p.keypoints[p.labelled, 0].min() and
               p.keypoints[p.labelled, 0].max() <= p.box_xyxy[2] for p in people)
