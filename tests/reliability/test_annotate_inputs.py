"""`ftppose annotate` on awkward inputs: exit code, the one-line message and what is left on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import video_factory as factory
from cli_checks import files_under


def _annotate(run_cli, tiny_checkpoint: Path, boxes_json: Path, *args: object):
    return run_cli("annotate", *args, "--weights", tiny_checkpoint, "--boxes", boxes_json, "--quiet")


@pytest.mark.parametrize("overwrite", [True, False])
def test_two_inputs_with_the_same_name_never_share_outputs(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path,
                                                           overwrite: bool) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first = factory.plain_video(tmp_path / "a", "clip.mp4").resolve()
    second = factory.plain_video(tmp_path / "b", "clip.mp4").resolve()
    out = tmp_path / "out"
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, first, second, "-o", out,
                       *(["--overwrite"] if overwrite else []))
    assert result.exit_code == 1
    assert result.lines("error") == [(f"{second}: its outputs ({out / 'clip.json'}, {out / 'clip.mp4'}) are also "
                                      f"those of {first}, an input of the same name; annotate it into another "
                                      "--output-dir or rename it")]
    assert files_under(out) == {"clip.json", "clip.mp4"}
    assert json.loads((out / "clip.json").read_text())["ftppose"]["source"] == str(first)


def test_an_overlay_never_replaces_its_own_input(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path).resolve()
    before = video.read_bytes()
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path, "--overwrite")
    assert result.exit_code == 1
    message = f"{video}: its overlay would replace the video itself; choose another --output-dir"
    assert result.lines("error") == [message]
    assert video.read_bytes() == before and not (tmp_path / "plain.json").exists()


def test_a_cut_fragmented_mp4_is_reported_as_truncated(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.truncated_fragmented_video(tmp_path).resolve()
    report = tmp_path / "speed.json"
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out", "--report-json", report)
    assert result.exit_code == 0
    (speed,) = json.loads(report.read_text())
    frames = speed["frames"]
    assert speed["truncated"] is True and 0 < frames < 30
    warning = (f"{video}: the video breaks off after frame {frames} (its last packet is cut short); stopped at the "
               "last good frame")
    assert result.lines("warning") == [warning]
    assert len(json.loads((tmp_path / "out" / video.with_suffix(".json").name).read_text())["images"]) == frames
