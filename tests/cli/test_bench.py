"""`ftppose bench` from the command line: tables, written reports, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ftppose_cli.benchmarking.runner as runner_module
from ftppose_cli.cli.app import app
from ftppose_cli.formats.joints import COCO_JOINTS

runner = CliRunner(env={"COLUMNS": "240"})


def test_bench_on_a_tiny_size_writes_every_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_create = runner_module.create_model
    # --size builds the registered size; two layers and a small input keep the test fast on the same code path.
    monkeypatch.setattr(runner_module, "create_model",
                        lambda size: real_create(size, depth=2, temporal_depth=1, img_size=(64, 48)))
    out = tmp_path / "reports"
    result = runner.invoke(app, [
        "bench", "--size", "tiny", "--ratios", "0,0.5", "--device", "cpu", "--warmup", "0", "--repeats", "1",
        "--csv", str(out / "b.csv"), "--report-json", str(out / "b.json"), "--plot", str(out / "b.png"),
    ])
    assert result.exit_code == 0, result.output
    assert "tokens/frame" in result.output and "x K=1" in result.output
    document = json.loads((out / "b.json").read_text())
    assert [row["ratio"] for row in document["rows"]] == [0.0, 0.5]
    assert document["source"] == "random weights (tiny)" and document["window"] == 3
    with (out / "b.csv").open(newline="") as handle:
        assert [row["variant"] for row in csv.DictReader(handle)] == ["K=3", "K=3", "K=1"]
    assert (out / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _coco_folder(root: Path) -> Path:
    import cv2

    root.mkdir()
    cv2.imwrite(str(root / "img.jpg"), np.full((120, 100, 3), 90, np.uint8))
    keypoints = []
    for i, _ in enumerate(COCO_JOINTS):
        keypoints += [30 + 2 * i, 20 + 4 * i, 2]
    (root / "people.json").write_text(json.dumps({
        "categories": [{"id": 1, "keypoints": list(COCO_JOINTS)}],
        "images": [{"id": 1, "file_name": "img.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [20, 10, 50, 90], "keypoints": keypoints},
                        {"id": 2, "image_id": 1, "bbox": [25, 15, 45, 85], "keypoints": keypoints}],
    }))
    return root


def test_bench_with_weights_and_data_reports_pck(tiny_checkpoint: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, [
        "bench", "--weights", str(tiny_checkpoint), "--ratios", "0.5", "--device", "cpu", "--warmup", "0",
        "--repeats", "1", "--data", str(_coco_folder(tmp_path / "data")), "--json", str(tmp_path / "b.json"),
    ])
    assert result.exit_code == 0, result.output
    assert "PCK@0.1" in result.output and "avg pose" in result.output
    document = json.loads((tmp_path / "b.json").read_text())
    assert document["rows"][1]["accuracy"]["scores"]["overall"]["people"] == 2
    assert document["average_pose"]["method"] == "average pose"


def test_errors_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.safetensors"
    result = runner.invoke(app, ["bench", "--weights", str(missing), "--device", "cpu"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1
    assert "nope.json" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["bench", "--size", "tiny", "--ratios", "0.5,x"])
    assert result.exit_code == 2 and "--ratios" in result.stderr and "comma-separated" in result.stderr
    result = runner.invoke(app, ["bench", "--size", "tiny", "--ratios", "1.5", "--device", "cpu"])
    assert result.exit_code == 2 and "0 to 0.99" in result.stderr


def test_bench_compares_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    real_create = runner_module.create_model
    monkeypatch.setattr(runner_module, "create_model",
                        lambda size: real_create(size, depth=2, temporal_depth=1, img_size=(64, 48)))
    result = runner.invoke(app, [
        "bench", "--size", "tiny", "--ratios", "0.5", "--device", "cpu", "--warmup", "0", "--repeats", "1",
        "--backend", "torch,onnx", "--threads", "1", "--report-json", str(tmp_path / "b.json"),
    ])
    assert result.exit_code == 0, result.output
    assert "Backends" in result.output and "x ratio 0 (video)" in result.output
    rows = json.loads((tmp_path / "b.json").read_text())["backends"]
    assert [(row["backend"], row["ratio"]) for row in rows] == [("torch", 0.0), ("torch", 0.5), ("onnx", 0.0),
                                                                ("onnx", 0.5)]
    assert rows[0]["speedup_vs_torch"] == 1.0 and all(row["video"]["median_ms"] > 0 for row in rows)
    result = runner.invoke(app, ["bench", "--size", "tiny", "--backend", "torch,tensorrt", "--device", "cpu"])
    assert result.exit_code == 1 and "--backend must be torch, onnx" in result.stderr
