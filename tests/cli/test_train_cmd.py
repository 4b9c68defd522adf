"""`ftppose train` from the command line, on a synthetic crop cache."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ftppose_cli.cli.app import app
from ftppose_cli.models.ftppose import load_model
from tests.crop_factory import synthetic_crop_cache


def test_train_writes_a_checkpoint_with_the_requested_shape(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    result = CliRunner().invoke(app, [
        "train", "--cache", str(cache), "--output-dir", str(tmp_path / "run"), "--window", "1", "--epochs", "1",
        "--samples-per-epoch", "8", "--batch-size", "4", "--input-size", "64x48", "--depth", "2", "--workers", "0",
        "--device", "cpu",
    ])
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "run" / "best")
    assert model.config.img_size == (64, 48) and model.config.depth == 2
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 1


def test_pruning_ratios_reach_the_checkpoint_also_under_their_old_name(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    for option in ("--pruning-ratios", "--epsilons"):
        result = CliRunner().invoke(app, [
            "train", "--cache", str(cache), "--output-dir", str(tmp_path / option), "--window", "3", "--epochs", "1",
            "--samples-per-epoch", "8", "--batch-size", "4", "--input-size", "64x48", "--depth", "2", "--workers",
            "0", "--device", "cpu", option, "0,0.5",
        ])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / option / "best.json").read_text())["inference"]["pruning_ratios"] == [0.0, 0.5]


def test_bad_input_size_is_one_line(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    result = CliRunner().invoke(app, ["train", "--cache", str(cache), "--out", str(tmp_path / "run"),
                                      "--input-size", "big"])
    assert result.exit_code == 1 and "--input-size must look like 192x144" in result.output


def test_temporal_only_on_a_single_frame_model_is_one_line(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    result = CliRunner().invoke(app, ["train", "--cache", str(cache), "--out", str(tmp_path / "run"),
                                      "--window", "1", "--temporal-only"])
    assert result.exit_code == 1 and "--temporal-only" in result.output and "Traceback" not in result.output


def test_unknown_size_or_stem_is_one_line(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    for option, value, message in (("--size", "giant", "unknown model size"), ("--stem", "hybrid", "unknown stem")):
        result = CliRunner().invoke(app, ["train", "--cache", str(cache), "--out", str(tmp_path / "run"),
                                          option, value])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_the_run_folder_is_required(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 2 and "--output-dir" in result.output


def test_bad_pruning_ratios_fail_before_any_work(tmp_path: Path) -> None:
    cache = synthetic_crop_cache(tmp_path / "cache")
    for option, value in (("--pruning-ratios", "0.5,x"), ("--pruning-ratios", "1.5"), ("--epsilons", "nan")):
        result = CliRunner().invoke(app, ["train", "--cache", str(cache), "--out", str(tmp_path / "run"),
                                          "--window", "3", option, value])
        assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output
        assert not (tmp_path / "run").exists()
