"""`ftppose annotate` from the command line: batches, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import video_factory as factory
from typer.testing import CliRunner

from ftppose_cli.cli.app import app

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


def test_detector_input_size_is_range_checked(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    result = runner.invoke(app, ["annotate", str(video), "--weights", str(tiny_checkpoint), "--det-size", "8",
                                 "--output-dir", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and "--det-size" in result.output
    assert not (tmp_path / "out").exists()
