"""Checkpoint round trip and the errors a wrong checkpoint gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.checkpoint import load_model, read_checkpoint_config, save_checkpoint
from ftppose_cli.models.ftppose import create_model


def _model(**overrides):
    torch.manual_seed(0)
    return create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1, **overrides).eval()


def test_round_trip_in_full_precision_is_exact(tmp_path: Path) -> None:
    model = _model()
    save_checkpoint(model, tmp_path / "pose", half=False, metadata={"trained_epsilons": [0.0, 0.5]})
    loaded = load_model(tmp_path / "pose.safetensors")
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        assert torch.equal(model(x, 0.5), loaded(x, 0.5))
    document = read_checkpoint_config(tmp_path / "pose.json")
    assert document["model"]["window"] == 3 and document["trained_epsilons"] == [0.0, 0.5]
    assert document["model"]["img_size"] == [64, 48]


def test_half_precision_round_trip_is_close(tmp_path: Path) -> None:
    model = _model()
    save_checkpoint(model, tmp_path / "pose", half=True)
    loaded = load_model(tmp_path / "pose")
    x = torch.randn(1, 3, 3, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(x), loaded(x), rtol=2e-2, atol=2e-2)


def test_weights_of_another_size_name_the_mismatch(tmp_path: Path) -> None:
    save_checkpoint(_model(), tmp_path / "pose")
    document = json.loads((tmp_path / "pose.json").read_text())
    document["model"]["embed_dim"] = 384
    document["model"]["num_heads"] = 6
    (tmp_path / "pose.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"backbone\.vit\..* has shape .* the config expects"):
        load_model(tmp_path / "pose")


def test_corrupt_weights_file_is_one_clear_error(tmp_path: Path) -> None:
    save_checkpoint(_model(), tmp_path / "pose")
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

    save_checkpoint(_model(), tmp_path / "pose")
    state = load_file(str(tmp_path / "pose.safetensors"))
    state.pop("head.final.weight")
    save_file(state, str(tmp_path / "pose.safetensors"))
    with pytest.raises(CheckpointError, match="missing, e.g. head.final.weight"):
        load_model(tmp_path / "pose")
