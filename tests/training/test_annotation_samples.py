"""Training from ground-truth annotations: COCO stills repeat, PoseTrack frames take their real neighbours."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from ftppose_cli.cli.app import app
from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import COCO_JOINTS, JOINT_INDEX, NUM_JOINTS, POSETRACK_JOINTS
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.training.annotation_samples import load_annotation_samples
from ftppose_cli.training.crop_cache import build_crop_cache
from ftppose_cli.training.datasets import CropCache

NOSE = JOINT_INDEX["nose"]
FRAME_GREYS = (40, 120, 200)  # each PoseTrack frame is filled with its own grey


def _person_image(grey: int, nose: tuple[int, int]) -> np.ndarray:
    image = np.full((120, 160, 3), grey, np.uint8)
    cv2.circle(image, nose, 3, (255, 255, 255), -1)
    return image


def _coco(root: Path) -> Path:
    root.mkdir(parents=True)
    cv2.imwrite(str(root / "a.png"), _person_image(80, (60, 30)))
    keypoints = np.zeros((len(COCO_JOINTS), 3))
    keypoints[0] = (60, 30, 2)  # nose
    keypoints[5] = (50, 50, 2)  # left shoulder
    keypoints[15] = (55, 100, 1)  # left ankle
    path = root / "train.json"
    path.write_text(json.dumps({
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_JOINTS)}],
        "images": [{"id": 1, "file_name": "a.png"}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [40, 20, 40, 90], "keypoints": keypoints.ravel().tolist()}],
    }))
    return path


def _posetrack(root: Path) -> Path:
    """A 3-frame sequence with the middle frame annotated."""
    frames = root / "images" / "val" / "seq1"
    frames.mkdir(parents=True)
    for i, grey in enumerate(FRAME_GREYS):
        cv2.imwrite(str(frames / f"{i:06d}.jpg"), _person_image(grey, (80, 40)))
    keypoints = np.zeros((NUM_JOINTS, 3))
    keypoints[NOSE] = (80, 40, 1)
    keypoints[JOINT_INDEX["head_top"]] = (80, 25, 1)
    keypoints[JOINT_INDEX["left_hip"]] = (75, 90, 1)
    (root / "annotations").mkdir()
    path = root / "annotations" / "seq1.json"
    path.write_text(json.dumps({
        "categories": [{"id": 1, "name": "person", "keypoints": list(POSETRACK_JOINTS)}],
        "images": [{"id": 10001, "file_name": "images/val/seq1/000001.jpg"}],
        "annotations": [{"id": 1, "image_id": 10001, "bbox": [60, 15, 40, 90],
                         "keypoints": keypoints.ravel().tolist()}],
    }))
    return root


def test_coco_person_is_a_still_with_its_labelled_joints(tmp_path: Path) -> None:
    (sample,) = load_annotation_samples(_coco(tmp_path / "coco"))
    assert sample.kind == "image" and sample.num_frames == 1 and sample.scene.endswith("/a")
    assert sample.box_xywh == (40.0, 20.0, 40.0, 90.0)
    assert sample.visibility.sum() == 3 and sample.visibility[JOINT_INDEX["head_top"]] == 0
    np.testing.assert_allclose(sample.keypoints[NOSE], (60, 30))


def test_coco_images_can_live_in_their_own_folder(tmp_path: Path) -> None:
    """COCO's layout: annotations/person_keypoints_train2017.json beside train2017/."""
    json_path = _coco(tmp_path / "coco" / "annotations")
    (tmp_path / "coco" / "train2017").mkdir()
    (json_path.parent / "a.png").rename(tmp_path / "coco" / "train2017" / "a.png")
    with pytest.raises(InputError, match=r"train\.json: image 'a\.png' not found"):
        load_annotation_samples(json_path)
    (sample,) = load_annotation_samples(json_path, tmp_path / "coco" / "train2017")
    assert Path(sample.source) == (tmp_path / "coco" / "train2017" / "a.png").resolve()


def test_posetrack_person_is_a_frame_of_its_sequence(tmp_path: Path) -> None:
    (sample,) = load_annotation_samples(_posetrack(tmp_path / "pt"))
    assert sample.kind == "sequence" and sample.frame == 1 and sample.num_frames == 3
    assert sample.scene.endswith("/seq1") and Path(sample.source).name == "seq1"
    assert sample.visibility[JOINT_INDEX["head_top"]] == 1 and sample.visibility.sum() == 3


def test_cache_windows_hold_real_neighbours_and_the_split(tmp_path: Path) -> None:
    samples = load_annotation_samples(_coco(tmp_path / "coco")) + load_annotation_samples(_posetrack(tmp_path / "pt"))
    val = {samples[1].scene}
    cache = CropCache(build_crop_cache(samples, Path("/"), tmp_path / "cache", side=64, val_scenes=val))
    assert cache.val_scenes == val
    train_idx, val_idx = cache.split_by_scene(cache.val_scenes)
    assert train_idx.tolist() == [0] and val_idx.tolist() == [1]
    corner = cache.crops[:, :, 32, 32, 0].astype(int)  # background grey at the box centre, each window slot
    assert corner[0].tolist() == [80, 80, 80]  # the still, repeated
    assert np.all(np.abs(corner[1] - np.array(FRAME_GREYS)) <= 3)  # frames 0, 1, 2 of the sequence
    # The nose label lands on the white dot in the cached key frame.
    x, y = np.round(cache.keypoints[1, NOSE]).astype(int)
    assert cache.crops[1, 1, y, x].min() > 230


def test_train_from_annotations_on_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "train", "--annotations", str(_coco(tmp_path / "coco")), "--val-annotations", str(_posetrack(tmp_path / "pt")),
        "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "run"), "--window", "3", "--epochs", "1",
        "--samples-per-epoch", "4", "--batch-size", "2", "--input-size", "64x48", "--depth", "2", "--workers", "0",
        "--device", "cpu",
    ])
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "run" / "best").config.window == 3
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert "pck@0.2" in history[0]  # the PoseTrack person was the validation split


def test_both_sources_at_once_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--annotations", str(tmp_path),
                                      "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1 and "one of them" in result.output


def test_real_heldout_annotations_read_as_samples(shared_data: Path) -> None:
    """Only read here (held-out data is never trained on): both layouts of real files become samples."""
    samples = load_annotation_samples(shared_data / "heldout")
    kinds = {s.kind for s in samples}
    assert len(samples) == 26 and kinds == {"image", "sequence"}
    assert all(s.visibility.any() and s.box_xywh[2] > 0 for s in samples)

