"""`ftppose export` from the command line: the files, the check against PyTorch, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftppose_cli.cli.app import app
from ftppose_cli.runtime import default_detector_weights, example_clip

runner = CliRunner(env={"COLUMNS": "200"})
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def test_export_writes_the_files_and_checks_them_on_real_people(tiny_checkpoint: Path, tmp_path: Path) -> None:
    if not (example_clip().is_file() and default_detector_weights().is_file()):
        pytest.skip("needs the example clip and the shipped detector")
    out = tmp_path / "onnx"
    result = runner.invoke(app, ["export", "--weights", str(tiny_checkpoint), "--output-dir", str(out),
                                 "--check-frames", "3", "--ratios", "0,0.5", "--threads", "1",
                                 "--report-json", str(tmp_path / "export.json")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["detector.onnx", "pose_frames.onnx", "pose_window.onnx"]
    assert "Against PyTorch" in result.stdout and "Saved:" in result.stdout
    report = json.loads((tmp_path / "export.json").read_text())
    assert [pose["ratio"] for pose in report["check"]["poses"]] == [0.0, 0.5]
    assert report["check"]["people"] > 0 and report["check"]["detector"]["unmatched"] == 0
    assert report["check"]["detector"]["max_box_px"] < 0.01


def test_existing_files_are_refused_before_any_work(tiny_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "onnx"
    out.mkdir()
    (out / "pose_window.onnx").write_bytes(b"keep me")
    result = runner.invoke(app, ["export", "--weights", str(tiny_checkpoint), "--output-dir", str(out),
                                 "--no-detector", "--no-check"])
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert "pose_window.onnx: output exists; pass --overwrite" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pose_window.onnx"]
    assert (out / "pose_window.onnx").read_bytes() == b"keep me"


def test_missing_weights_and_bad_ratios_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--weights", str(tmp_path / "none.safetensors"),
                                 "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert "none.safetensors: pose checkpoint not found" in result.stderr
    result = runner.invoke(app, ["export", "--ratios", "0,1.5", "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2 and "0 to 0.99" in result.output
