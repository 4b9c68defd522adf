"""`ftppose annotate` on awkward inputs: exit code, the one-line message and what is left on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import video_factory as factory
from tests.reliability.cli_checks import files_under, usage_error


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
    unused = f"{video}: {20 - frames} boxes for frames {frames} to 19 were not used: the video has {frames} frames"
    assert result.lines("warning") == [warning, unused]
    assert len(json.loads((tmp_path / "out" / video.with_suffix(".json").name).read_text())["images"]) == frames


def test_boxes_outside_the_frame_or_past_its_end_are_reported(run_cli, tiny_checkpoint, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path).resolve()  # 20 frames, 64x48
    boxes = [{"image_id": i, "bbox": [2, 2, 20, 40], "score": 0.9} for i in range(23)]
    boxes += [{"image_id": i, "bbox": [-300, -300, 100, 100], "score": 0.9} for i in range(20)]  # a track off-frame
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    out = tmp_path / "out"
    result = _annotate(run_cli, tiny_checkpoint, tmp_path / "boxes.json", video, "-o", out, "--no-video")
    assert result.exit_code == 0
    assert result.lines("warning") == [
        f"{video}: dropped 20 boxes lying wholly outside the frame (the first in frame 0)",
        f"{video}: 3 boxes for frames 20 to 22 were not used: the video has 20 frames"]
    annotations = json.loads((out / "plain.json").read_text())["annotations"]
    assert len(annotations) == 20 and min(min(a["keypoints"]) for a in annotations) > -10  # was -250 or so


def test_half_precision_on_the_cpu_says_it_is_not_used(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out", "--device", "cpu",
                       "--half", "--no-video")
    assert result.exit_code == 0
    assert result.lines("warning") == ["half precision needs a GPU; running in full precision on the CPU"]


@pytest.mark.parametrize("option, value, problem", [
    ("--pruning-ratio", "nan", "nan is not a number from 0 to 0.99"),
    ("--pruning-ratio", "1.5", "1.5 is not a number from 0 to 0.99"),
    ("--kpt-thr", "inf", "inf is not a number from 0 to 1"),
    ("--det-thr", "-nan", "-nan is not a number from 0 to 1"),
])
def test_numbers_out_of_range_are_usage_errors_that_say_so(option: str, value: str, problem: str, tmp_path: Path,
                                                           tiny_checkpoint: Path) -> None:
    video = factory.plain_video(tmp_path)
    code, message = usage_error("annotate", video, "--weights", tiny_checkpoint, option, value, "-o", tmp_path / "out")
    assert code == 2 and problem in message and not (tmp_path / "out").exists()


def test_a_variable_frame_rate_video_gets_each_frames_time(run_cli, tiny_checkpoint, boxes_json,
                                                           tmp_path: Path) -> None:
    video = factory.vfr_video(tmp_path)
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out", "--no-video")
    assert result.exit_code == 0
    images = json.loads((tmp_path / "out" / "vfr.json").read_text())["images"]
    assert [image["timestamp"] for image in images] == [t / 1000 for t in factory.VFR_PTS]


def _folder_without_videos(root: Path) -> Path:
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("no videos here")
    return root / "notes"


# (name, make the input in a folder, the problem the one error line names); each exits 1 and writes nothing.
BAD_VIDEOS = [
    ("missing", lambda root: root / "missing.mp4", "no such file or folder"),
    ("empty", factory.empty_file, "file is empty"),
    ("text-named-mp4", factory.text_file_named_mp4, "not a readable video file"),
    ("audio-only", factory.audio_only, "has no video stream (streams found: audio)"),
    ("header-only", factory.header_only_video, "no decodable video frames"),
    ("folder-without-videos", _folder_without_videos, "folder holds no videos or JPEG/PNG images"),
    ("glob-matching-nothing", lambda root: root / "*.mkv", "pattern matches no files"),
]


@pytest.mark.parametrize("make, problem", [case[1:] for case in BAD_VIDEOS], ids=[case[0] for case in BAD_VIDEOS])
def test_bad_videos_are_one_line_and_leave_nothing(run_cli, tiny_checkpoint, boxes_json, tmp_path: Path, make,
                                                   problem: str) -> None:
    video = make(tmp_path)
    result = _annotate(run_cli, tiny_checkpoint, boxes_json, video, "-o", tmp_path / "out")
    assert result.exit_code == 1
    (line,) = result.lines("error")
    assert line.startswith(f"{video}: ") and problem in line
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == set()


BAD_BOXES = [
    ("not-json", lambda path: path.write_text("{oops"), "boxes file is not valid JSON"),
    ("deep-nesting", lambda path: path.write_text("[" * 50_000 + "]" * 50_000), "nested too deeply"),
    ("list-image-id", lambda path: path.write_text('[{"image_id": [0], "bbox": [0, 0, 9, 9]}]'),
     "entry 0 lacks an integer image_id"),
    ("a-folder", lambda path: path.mkdir(), "no boxes file for video plain.mp4"),
]


@pytest.mark.parametrize("make, problem", [case[1:] for case in BAD_BOXES], ids=[case[0] for case in BAD_BOXES])
def test_bad_boxes_files_are_one_line_and_leave_nothing(run_cli, tiny_checkpoint, tmp_path: Path, make,
                                                        problem: str) -> None:
    video = factory.plain_video(tmp_path)
    boxes = tmp_path / "boxes.json"
    make(boxes)
    result = _annotate(run_cli, tiny_checkpoint, boxes, video, "-o", tmp_path / "out")
    assert result.exit_code == 1
    (line,) = result.lines("error")
    assert problem in line
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == set()
