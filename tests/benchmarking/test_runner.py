"""The benchmark runner's result schema and its CSV / JSON / PNG reports, on a tiny model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import torch

from ftppose_cli.benchmarking.plots import plot_benchmark
from ftppose_cli.benchmarking.report import CSV_COLUMNS, write_csv, write_json
from ftppose_cli.benchmarking.runner import BenchmarkOptions, build_model, run_benchmark, with_window
from ftppose_cli.errors import FtpposeError
from ftppose_cli.evaluation.heldout import HeldoutSet
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson
from ftppose_cli.models.ftppose import create_model


def _tiny_heldout(tmp_path: Path) -> HeldoutSet:
    """Two people on one in-memory image (no files needed: the image cache is pre-filled)."""
    image_path = tmp_path / "still.jpg"
    rng = np.random.default_rng(0)
    people = []
    for box in ([10, 10, 70, 90], [80, 20, 140, 100]):
        box = np.array(box, np.float32)
        pose = box[:2] + rng.uniform(0.2, 0.8, (NUM_JOINTS, 2)) * (box[2:] - box[:2])
        people.append(AnnotatedPerson("synthetic", image_path, box, pose.astype(np.float32),
                                    np.ones(NUM_JOINTS, bool), 20.0))
    data = HeldoutSet(tmp_path, people)
    data._images[image_path] = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return data


def test_result_schema_and_reports(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("tiny", depth=2, temporal_depth=1, img_size=(128, 96))  # 8 x 6 = 48 tokens per frame
    options = BenchmarkOptions(ratios=(0.5,), device="cpu", warmup=0, repeats=1)
    result = run_benchmark(options, model=model, heldout=_tiny_heldout(tmp_path))

    assert [row.ratio for row in result.rows] == [0.0, 0.5]  # ratio 0 is always measured, as the reference
    full, half = result.rows
    assert (full.tokens_per_frame, half.tokens_per_frame) == (48, 24)
    assert full.speedup_vs_ratio0 == 1.0 and half.speedup_vs_ratio0 > 0
    for row in result.rows:
        assert set(row.stage_gflops) == set(row.stage_ms) == set(row.stage_share) == {"backbone", "mgfe", "fusion",
                                                                                       "head"}
        assert sum(row.stage_share.values()) == pytest.approx(1.0)
        assert row.gflops_per_clip == pytest.approx(row.gflops_video + 2 * row.stage_gflops["backbone"])
        assert row.latency.median_ms > 0 and row.video_latency.median_ms > 0 and row.peak_memory_mb > 0
        assert row.clips_per_s == pytest.approx(1000.0 / row.latency.median_ms)
        assert row.accuracy is not None and row.accuracy.overall.people == 2
    assert half.stage_gflops["mgfe"] < 0.6 * full.stage_gflops["mgfe"]
    assert half.stage_gflops["backbone"] == full.stage_gflops["backbone"]
    assert result.single_frame.gflops < full.gflops_video
    assert result.single_frame.accuracy is not None and result.average_pose is not None
    assert (result.window, result.batch_size, result.device, result.dtype) == (3, 1, "cpu", "float32")

    written = json.loads(write_json(result, tmp_path / "out" / "bench.json").read_text())
    assert written == json.loads(json.dumps(result.to_dict()))
    assert [row["ratio"] for row in written["rows"]] == [0.0, 0.5]
    assert written["rows"][1]["accuracy"]["scores"]["overall"]["people"] == 2

    with write_csv(result, tmp_path / "out" / "bench.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["variant"] for r in rows] == ["K=3", "K=3", "K=1", "average pose"]
    assert float(rows[1]["ratio"]) == 0.5 and int(rows[1]["tokens_per_frame"]) == 24
    assert float(rows[1]["speedup_vs_ratio0"]) == pytest.approx(half.speedup_vs_ratio0)
    assert 0.0 <= float(rows[3]["pck@0.2"]) <= 1.0

    png = plot_benchmark(result, tmp_path / "out" / "bench.png")
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_with_window_shares_weights_both_ways() -> None:
    torch.manual_seed(0)
    video = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1).eval()
    single = with_window(video, 1)
    assert single.config.window == 1 and not single.temporal
    assert torch.equal(single.state_dict()["head.final.weight"], video.state_dict()["head.final.weight"])
    # Back to K=3 from a single-frame model: the zero temporal entry keeps its predictions at every ratio.
    grown = with_window(single, 3)
    frame = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        expected = single(frame)
        for eps in (0.0, 0.5):
            torch.testing.assert_close(grown(frame[:, None].expand(-1, 3, -1, -1, -1), eps), expected)


def test_bad_options_and_missing_default_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FtpposeError, match="pruning ratio"):
        BenchmarkOptions(ratios=(1.0,))
    with pytest.raises(FtpposeError, match="window"):
        BenchmarkOptions(window=2)
    monkeypatch.setenv("FTPPOSE_WEIGHTS", str(tmp_path))
    with pytest.raises(FtpposeError, match="pose.safetensors.*--size"):
        build_model(BenchmarkOptions())
