"""Checkpoint files of both networks: round trips, today's and earlier schemas, the errors a wrong file gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.detection.network import create_detector
from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.ftppose import create_model, load_model
from ftppose_cli.runtime import default_detector_weights, default_pose_weights
from ftppose_cli.weights import DETECTOR, NETWORKS, POSE, load_into, read_weights, save_weights


def _model(**overrides):
    torch.manual_seed(0)
    return create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1, **overrides).eval()


def test_round_trip_in_full_precision_is_exact(tmp_path: Path) -> None:
    model = _model()
    save_weights(model, tmp_path / "pose", POSE, half=False, inference={"pruning_ratios": [0.0, 0.5]})
    loaded = load_model(tmp_path / "pose.safetensors")
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        assert torch.equal(model(x, 0.5), loaded(x, 0.5))
    stored = read_weights(tmp_path / "pose.json", POSE)
    assert stored.config["window"] == 3 and stored.inference["pruning_ratios"] == [0.0, 0.5]
    assert stored.config["img_size"] == [64, 48]


def test_half_precision_round_trip_is_close(tmp_path: Path) -> None:
    model = _model()
    save_weights(model, tmp_path / "pose", POSE, half=True)
    loaded = load_model(tmp_path / "pose")
    x = torch.randn(1, 3, 3, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(x), loaded(x), rtol=2e-2, atol=2e-2)


def test_both_networks_write_one_schema(tmp_path: Path) -> None:
    save_weights(_model(), tmp_path / "pose", POSE, inference={"pruning_ratios": [0.5]}, training={"epoch": 3})
    save_weights(create_detector("tiny"), tmp_path / "detector", DETECTOR, inference={"min_box_score": 0.4})
    pose, detector = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("pose", "detector"))
    assert set(pose) == set(detector) == {"format", "version", "network", "config", "dtype", "inference", "training"}
    assert (pose["format"], pose["network"], detector["network"]) == ("ftppose-weights", "pose", "detector")
    assert PersonDetector.from_checkpoint(tmp_path / "detector").min_box_score == 0.4


def test_files_of_the_earlier_schemas_are_read(tmp_path: Path) -> None:
    """Checkpoints written before the schema (the pose model's and the detector's) still load, keys renamed."""
    pose = read_weights(default_pose_weights(), POSE)
    (tmp_path / "pose.json").write_text(json.dumps({
        "format": "ftppose-checkpoint", "version": 1, "model": pose.config, "dtype": "float16",
        "trained_epsilons": [0.0, 0.5], "training": {"epoch": 3}}))
    shutil.copy(pose.tensors, tmp_path / "pose.safetensors")
    old_pose = read_weights(tmp_path / "pose", POSE)
    assert old_pose.config == pose.config and old_pose.inference == {"pruning_ratios": [0.0, 0.5]}
    assert old_pose.training == {"epoch": 3} and load_model(tmp_path / "pose").config.size == pose.config["size"]
    detector = read_weights(default_detector_weights(), DETECTOR)
    (tmp_path / "detector.json").write_text(json.dumps({
        "format": "ftppose-detector", "format_version": 1, "config": detector.config, "conf": 0.3, "nms_iou": 0.5,
        "dtype": "float16", "training": {"epochs": 8}}))
    shutil.copy(detector.tensors, tmp_path / "detector.safetensors")
    old_detector = read_weights(tmp_path / "detector", DETECTOR)
    assert old_detector.inference == {"min_box_score": 0.3, "nms_iou": 0.5} and old_detector.config["stride"] == 8
    assert PersonDetector.from_checkpoint(tmp_path / "detector").input_sizes == (detector.config["input_size"],)


def test_a_file_of_the_other_network_is_refused(tmp_path: Path) -> None:
    save_weights(create_detector("tiny"), tmp_path / "detector", DETECTOR)
    with pytest.raises(CheckpointError, match="not an ftppose checkpoint config: it holds weights of the network "
                                              "'detector'"):
        load_model(tmp_path / "detector")
    with pytest.raises(CheckpointError, match="not a person-detector checkpoint config"):
        PersonDetector.from_checkpoint(default_pose_weights())


def test_weights_of_another_size_name_the_mismatch(tmp_path: Path) -> None:
    save_weights(_model(), tmp_path / "pose", POSE)
    document = json.loads((tmp_path / "pose.json").read_text())
    document["config"]["embed_dim"] = 384
    document["config"]["num_heads"] = 6
    (tmp_path / "pose.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"backbone\.vit\..* has shape .* the config expects"):
        load_model(tmp_path / "pose")


def test_corrupt_weights_file_is_one_clear_error(tmp_path: Path) -> None:
    save_weights(_model(), tmp_path / "pose", POSE)
    (tmp_path / "pose.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="unreadable weights"):
        load_model(tmp_path / "pose")


def test_missing_config_and_foreign_json(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="config not found"):
        load_model(tmp_path / "absent")
    (tmp_path / "x.json").write_text("{\"hello\": 1}")
    with pytest.raises(CheckpointError, match="not an ftppose checkpoint"):
        load_model(tmp_path / "x")
    (tmp_path / "y.json").write_text("{oops")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path / "y")


def test_missing_tensors_are_named(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    save_weights(_model(), tmp_path / "pose", POSE)
    state = load_file(str(tmp_path / "pose.safetensors"))
    state.pop("head.final.weight")
    save_file(state, str(tmp_path / "pose.safetensors"))
    with pytest.raises(CheckpointError, match="missing, e.g. head.final.weight"):
        load_model(tmp_path / "pose")


def test_init_from_copies_what_fits(tmp_path: Path) -> None:
    """``--init-from``: every tensor checked, or (a temporal stage from a single-frame model) those that fit."""
    single = _model(window=1)
    save_weights(single, tmp_path / "single", POSE, half=False)
    temporal = _model()
    copied = load_into(temporal, tmp_path / "single.safetensors", partial=True)
    assert copied == len(single.state_dict()) < len(temporal.state_dict())
    assert torch.equal(temporal.state_dict()["head.final.weight"], single.state_dict()["head.final.weight"])
    with pytest.raises(CheckpointError, match="do not fit"):
        load_into(_model(), tmp_path / "single")


def test_one_registry_shape_for_both_networks() -> None:
    assert list(NETWORKS) == ["pose", "detector"]
    assert POSE.size_choices == "tiny, small, base, large, huge"
    assert DETECTOR.size_choices == "tiny, small, medium, large"
    for network in NETWORKS.values():
        assert network.default_size in network.sizes
        with pytest.raises(ValueError, match=f"unknown {network.title} size 'giant'; choose one of"):
            network.size_fields("giant")
