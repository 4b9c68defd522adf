"""`ftppose annotate` from the command line: batches, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ftppose_cli.cli.app import app
from tests import video_factory as factory

runner = CliRunner()


def _boxes_file(path: Path, frames: int = 40) -> Path:
    path.write_text(json.dumps([{"image_id": i, "bbox": [2, 2, 20, 40], "score": 0.9, "category_id": 1}
                                for i in range(frames)]))
    return path


def test_batch_goes_on_past_bad_inputs_and_fails_at_the_end(tiny_checkpoint: Path, tmp_path: Path) -> None:
    good = factory.plain_video(tmp_path)
    empty = factory.empty_file(tmp_path)
    result = runner.invoke(app, [
        "annotate", str(good), str(empty), str(tmp_path / "missing.mp4"), "--weights", str(tiny_checkpoint),
        "--boxes", str(_boxes_file(tmp_path / "boxes.json")), "--output-dir", str(tmp_path / "out"),
        "--report-json", str(tmp_path / "report.json"), "--quiet",
    ])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("missing.mp4: no such file" in e for e in errors)
    assert any("empty.mp4: file is empty" in e for e in errors)
    assert (tmp_path / "out" / "plain.json").exists() and (tmp_path / "out" / "plain.mp4").exists()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report[0]["frames"] == 20 and set(report[0]["stage_ms_per_frame"]) == {
        "decode", "detect", "track", "pose", "draw", "encode"}
    assert "Traceback" not in result.output


def test_folders_and_globs_expand_to_videos(tiny_checkpoint: Path, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    factory.plain_video(clips, "a.mp4")
    factory.plain_video(clips, "b.mp4")
    threads = torch.get_num_threads()
    try:
        result = runner.invoke(app, [
            "annotate", str(clips), str(clips / "*.mp4"), "--weights", str(tiny_checkpoint), "--no-video",
            "--boxes", str(_boxes_file(tmp_path / "boxes.json")), "--output-dir", str(tmp_path / "out"),
            "--threads", "1",
        ])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.json", "b.json"]
    assert "speed report" in result.stdout


def test_unreadable_weights_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    (tmp_path / "bad.json").write_text("{not json")
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tmp_path / "bad.safetensors")])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "bad.json: not valid JSON" in result.stderr


def test_missing_weights(tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tmp_path / "none.safetensors")])
    assert result.exit_code == 1 and "pose weights not found" in result.stderr


def test_unknown_device_is_refused(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tiny_checkpoint), "--device", "cuda:7"])
    assert result.exit_code == 1 and "cuda" in result.stderr.lower()


def test_help_lists_the_subcommands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "annotate" in result.stdout and "train" in result.stdout


@pytest.mark.parametrize("sizes", ["8", "416,8", "416;256", "big", ""])
def test_detector_input_sizes_are_checked(tiny_checkpoint: Path, tmp_path: Path, sizes: str) -> None:
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tiny_checkpoint), "--det-size", sizes,
                                 "--output-dir", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and "--det-size" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_each_input_gets_a_summary_and_a_saved_line(tiny_checkpoint: Path, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    video = factory.plain_video(tmp_path)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("p2.jpg", "p10.png"):
        cv2.imwrite(str(photos / name), np.full((48, 64, 3), 90, np.uint8))
    result = runner.invoke(app, [
        "annotate", str(video), str(photos), "--weights", str(tiny_checkpoint), "--stride", "2", "--end", "1s",
        "--boxes", str(_boxes_file(tmp_path / "boxes.json")), "--output-dir", str(tmp_path / "out"),
        "--report-json", str(tmp_path / "report.json"),
    ])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    lines = result.stdout.splitlines()
    assert lines[0].startswith("plain.mp4: 5 frames, 5 person-frames, 1 track in ") and lines[0].endswith(" fps)")
    assert lines[1] == f"Saved: {out / 'plain.mp4'}, {out / 'plain.json'}"
    assert lines[2].startswith("photos: 1 frame, ")  # the sequence p2, p10 with --stride 2: p2 only
    assert lines[3] == f"Saved: {out / 'photos'}/ (1 image), {out / 'photos.json'}"
    assert "person-frames" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["outputs"] for r in report] == [[str(out / "plain.mp4"), str(out / "plain.json")],
                                              [str(out / "photos"), str(out / "photos.json")]]
    stills = runner.invoke(app, [
        "annotate", str(photos), "--stills", "--palette", "coco", "--weights", str(tiny_checkpoint), "-q",
        "--output-dir", str(out),
        "--boxes", str(_boxes_file(tmp_path / "boxes.json"))])
    assert stills.exit_code == 0, stills.output
    assert {p.name for p in out.iterdir()} >= {"p2.jpg", "p2.json", "p10.png", "p10.json"}


def test_a_bad_frame_range_is_a_usage_error(tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    for args, message in ((["--start", "12.5"], "add s for seconds"), (["--stride", "0"], "--stride"),
                          (["--start", "9", "--end", "3"], "must come after")):
        result = runner.invoke(app, ["annotate", str(video), *args])
        assert result.exit_code == 2 and message in result.output, result.output


def test_onnx_backend_writes_the_json_pytorch_writes(tiny_checkpoint: Path, tiny_onnx_export: Path,
                                                     tmp_path: Path) -> None:
    from ftppose_cli.benchmarking.agreement import file_agreement

    video = factory.plain_video(tmp_path)
    boxes = str(_boxes_file(tmp_path / "boxes.json"))
    common = [str(video), "--boxes", boxes, "--no-video", "--quiet", "--pruning-ratio", "0.5"]
    torch_run = runner.invoke(app, ["annotate", *common, "--weights", str(tiny_checkpoint),
                                    "--output-dir", str(tmp_path / "torch")])
    assert torch_run.exit_code == 0, torch_run.output
    for weights in (tiny_onnx_export, tiny_checkpoint):  # an export folder, or a checkpoint exported on first use
        onnx_run = runner.invoke(app, ["annotate", *common, "--weights", str(weights), "--backend", "onnx",
                                       "--threads", "1", "--output-dir", str(tmp_path / "onnx"), "--overwrite"])
        assert onnx_run.exit_code == 0, onnx_run.output
        agreement = file_agreement(tmp_path / "torch" / "plain.json", tmp_path / "onnx" / "plain.json")
        assert agreement.same_people and agreement.people == (20, 20)
        assert agreement.max_keypoint_px < 0.5 and agreement.max_score < 1e-4


def test_onnx_backend_refuses_a_gpu_in_one_line(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tiny_checkpoint), "--backend", "onnx",
                                 "--device", "cuda", "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert "--backend onnx runs on the CPU" in result.stderr


def test_onnx_backend_without_onnx_runtime_says_how_to_install(tiny_checkpoint: Path, tmp_path: Path,
                                                               monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tiny_checkpoint), "--backend", "onnx",
                                 "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert 'ONNX Runtime, which is not installed: pip install -e ".[onnx]"' in result.stderr
