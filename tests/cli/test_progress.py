"""What stays on screen after each input: the summary, the Saved line, the speed table; and training's steps."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from ftppose_cli.cli.progress import report_table, saved_line, significant, step_progress, summary_line
from ftppose_cli.pipeline.annotator import STAGES, VideoReport


def test_speeds_have_two_significant_digits() -> None:
    assert [significant(v) for v in (0.355, 0.0354, 4, 6.14, 12.0, 123, 0)] == [
        "0.35", "0.035", "4.0", "6.1", "12", "120", "0"]


def test_summary_saved_line_and_table(tmp_path: Path) -> None:
    (tmp_path / "walk").mkdir()
    for name in ("a.jpg", "b.jpg", ".a.jpg.x.partial"):
        (tmp_path / "walk" / name).write_bytes(b"x")
    report = VideoReport(tmp_path / "walk", frames=2, person_frames=5, tracks=3, wall_seconds=5.6,
                         outputs=[tmp_path / "walk", tmp_path / "walk.json"])
    assert summary_line(report) == "walk: 2 frames, 5 person-frames, 3 tracks in 5.6 s (0.36 fps)"
    assert saved_line(report) == f"Saved: {tmp_path / 'walk'}/ (2 images), {tmp_path / 'walk.json'}"
    console = Console(width=200, record=True)
    console.print(report_table([report], STAGES))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "frames" in line and "fps" in line)
    assert "person-frames" in header and "people" not in header.replace("person-frames", "") and "0.36" in text


def test_training_steps_leave_a_line_every_25_steps_in_a_log() -> None:
    log = io.StringIO()
    console = Console(file=log, width=200)  # a file, not a terminal: no bar, heartbeat lines instead
    with step_progress(console) as update:
        update("cutting crops", 0, 2, {})
        update("cutting crops", 2, 2, {})
        for step in range(51):
            update("epoch 1/3", step, 50, {"loss": 1.0 / max(step, 1)})
    lines = log.getvalue().splitlines()
    assert [line.rsplit(" ", 1)[0] for line in lines] == ["epoch 1/3 step 25/50 loss 0.04",
                                                          "epoch 1/3 step 50/50 loss 0.02"]
    assert all(line.endswith("s") for line in lines)
