"""`ftppose annotate` with outputs it cannot write: refused before the model loads, in one line, with nothing lost.

Before, these were found only after all the inference (a traceback at the
end of the run) or gave a traceback at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests import video_factory as factory
from tests.reliability.cli_checks import files_under


def _annotate(run_cli, tiny_checkpoint: Path, boxes_json: Path, *args: object):
    return run_cli("annotate", *args, "--weights", tiny_checkpoint, "--boxes", boxes_json, "--quiet")


def test_output_dir_naming_an_existing_file(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    (tmp_path / "taken").write_text("mine")
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "taken")
    assert result.exit_code == 1
    assert result.lines("error") == [f"{tmp_path / 'taken'}: is a file, not a folder"]
    assert (tmp_path / "taken").read_text() == "mine"


def test_output_dir_that_cannot_be_made(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    (tmp_path / "taken").write_text("mine")
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "taken" / "out")
    assert result.exit_code == 1
    assert result.lines("error") == [f"{tmp_path / 'taken' / 'out'}: cannot be made: {tmp_path / 'taken'} is a file"]


def test_read_only_output_dir_is_refused_before_any_work(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path,
                                                         make_read_only) -> None:
    video = factory.plain_video(tmp_path)
    out = make_read_only(tmp_path / "out")
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", out, "--no-video")
    assert result.exit_code == 1
    assert result.lines("error") == [f"{out}: cannot be written to (permission denied)"]
    assert "speed report" not in result.stdout and files_under(out) == set()


def test_report_json_into_a_missing_folder_is_made(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    report = tmp_path / "reports" / "speed.json"
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out", "--report-json", report)
    assert result.exit_code == 0, result.stderr
    assert json.loads(report.read_text())[0]["frames"] == 20


def test_report_json_that_cannot_be_written_is_refused_first(run_cli, tiny_checkpoint, boxes_json,
                                                              tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    (tmp_path / "taken").write_text("mine")
    report = tmp_path / "taken" / "speed.json"
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out", "--report-json", report)
    assert result.exit_code == 1
    assert result.lines("error") == [f"{report}: its folder {tmp_path / 'taken'} is a file, not a folder"]
    assert not (tmp_path / "out").exists()


def test_existing_outputs_are_refused_first_and_kept(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "plain.json").write_text("mine")
    (tmp_path / "speed.json").write_text("mine too")
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out")
    assert result.exit_code == 1
    existing = tmp_path / "out" / "plain.json"
    assert result.lines("error") == [f"{existing}: output exists; pass --overwrite to replace it"]
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "new",
                       "--report-json", tmp_path / "speed.json")
    assert result.exit_code == 1 and "speed.json: output exists" in result.stderr
    assert (tmp_path / "out" / "plain.json").read_text() == "mine"
    assert (tmp_path / "speed.json").read_text() == "mine too" and not (tmp_path / "new").exists()
