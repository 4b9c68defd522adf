"""Detector training on a synthetic frame cache: a run exports weights, resumes, and starts from given weights."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.detection.network import create_detector
from ftppose_cli.errors import CheckpointError, UsageError
from ftppose_cli.training import detector_data as dd
from ftppose_cli.training.detector_trainer import DetectorTrainConfig, evaluate, train_detector
from ftppose_cli.weights import DETECTOR, save_weights


@pytest.fixture(scope="module")
def frame_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve 96x128 frames with one or two bright 'people'; a third of them in a validation scene."""
    root = tmp_path_factory.mktemp("frames")
    (root / "frames").mkdir()
    rng = np.random.default_rng(0)
    records = []
    for i in range(12):
        image = np.full((96, 128, 3), 40, np.uint8)
        boxes = []
        for _ in range(1 + i % 2):
            x, y = int(rng.integers(0, 90)), int(rng.integers(0, 40))
            cv2.rectangle(image, (x, y), (x + 24, y + 50), (220, 220, 220), -1)
            boxes.append([x, y, x + 24, y + 50])
        cv2.imwrite(str(root / "frames" / f"{i:03d}.jpg"), image)
        scene = dd.DEFAULT_VAL_SCENES[0] if i % 3 == 0 else "street"
        records.append({"file": f"frames/{i:03d}.jpg", "scene": scene, "source": f"videos/{scene}.mp4",
                        "boxes": boxes})
    (root / "index.json").write_text(json.dumps({"version": dd.CACHE_VERSION, "max_side": 512, "records": records}))
    return root


def _config(cache: Path, out: Path, **overrides) -> DetectorTrainConfig:
    settings = dict(data=None, cache=str(cache), out=str(out), size="tiny", epochs=2, samples_per_epoch=8,
                    batch_size=4, train_size=64, warmup_steps=2, val_max_frames=4, mosaic=0.0)
    return DetectorTrainConfig(**{**settings, **overrides})


def test_run_exports_the_best_and_resumes_where_it_stopped(frame_cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    straight = train_detector(_config(frame_cache, tmp_path / "straight"), log=lambda *_: None)
    assert straight["epoch"] == 2 and straight["step"] == 4 and len(straight["history"]) == 2
    assert PersonDetector.from_checkpoint(tmp_path / "straight" / "best").min_box_score > 0
    first = train_detector(_config(frame_cache, tmp_path / "resumed", epochs=1), log=lambda *_: None)
    assert first["epoch"] == 1
    resumed = train_detector(_config(frame_cache, tmp_path / "resumed"), log=lambda *_: None)
    assert resumed["epoch"] == 2 and resumed["step"] == 4


def test_init_from_starts_at_the_given_weights(frame_cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(1)
    start = create_detector("tiny")
    path, _ = save_weights(start, tmp_path / "start", DETECTOR, half=False)
    train_detector(_config(frame_cache, tmp_path / "run", epochs=1, samples_per_epoch=4, lr=1e-9,
                           init_from=str(path)), log=lambda *_: None)
    trained = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["model"]
    # First and last layers: the given weights, not random ones.
    for key in ("backbone.stages.0.0.0.weight", "box_head.1.weight"):
        torch.testing.assert_close(trained[key], start.state_dict()[key], atol=1e-6, rtol=0)


def test_init_from_another_size_is_a_checkpoint_error(frame_cache: Path, tmp_path: Path) -> None:
    path, _ = save_weights(create_detector("small"), tmp_path / "small", DETECTOR, half=False)
    with pytest.raises(CheckpointError, match="do not fit"):
        train_detector(_config(frame_cache, tmp_path / "run", init_from=str(path)), log=lambda *_: None)


def test_pasting_people_needs_a_crop_cache_and_trains_with_one(frame_cache: Path, tmp_path: Path) -> None:
    from tests.crop_factory import synthetic_crop_cache

    with pytest.raises(UsageError, match="--paste-from"):
        train_detector(_config(frame_cache, tmp_path / "none", paste=0.5), log=lambda *_: None)
    crops = synthetic_crop_cache(tmp_path / "crops")
    state = train_detector(_config(frame_cache, tmp_path / "run", epochs=1, paste=1.0, paste_from=str(crops)),
                           log=lambda *_: None)
    assert state["epoch"] == 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["paste_from"] == str(crops)


def test_evaluate_counts_per_image_and_pools_them() -> None:
    """Per-image counts (for intervals over images) add up to the pooled recall and precision."""
    class FixedBoxes:
        def predict_raw(self, images, min_box_score):
            boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
            return [(boxes, np.array([0.9, 0.4], np.float32)) for _ in images]

    gts = [np.array([[0, 0, 10, 10]], np.float32), np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)]
    images = [np.zeros((64, 64, 3), np.uint8)] * 2
    row = evaluate(FixedBoxes(), images, gts, thresholds=(0.3, 0.5))["by_threshold"][0.5]
    assert row["per_image"].tolist() == [[1, 0, 0], [1, 0, 1]]  # tp, fp, fn
    assert (row["tp"], row["fp"], row["fn"]) == (2, 0, 1) and row["recall"] == 2 / 3 and row["precision"] == 1.0
