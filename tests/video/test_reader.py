"""VideoReader and probe: frames, upright rotation, timestamps, bad inputs."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.video.frame_range import FrameRange, parse_position
from ftppose_cli.video.frames import Frame
from ftppose_cli.video.reader import VideoReader, probe
from tests import video_factory as factory


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reader_videos")


def _read_all(path: Path, **options: int) -> tuple[list[Frame], VideoReader]:
    with VideoReader(path, **options) as reader:
        frames = list(reader)
    return frames, reader


def _marker_corner(image: np.ndarray) -> tuple[str, str]:
    """Which corner holds the white marker, as (vertical, horizontal)."""
    ys, xs = np.nonzero(image.min(axis=2) > 230)
    height, width = image.shape[:2]
    return ("top" if ys.mean() < height / 2 else "bottom", "left" if xs.mean() < width / 2 else "right")


def test_plain_video_yields_every_frame_in_order(videos: Path) -> None:
    path = factory.plain_video(videos)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.fps == Fraction(10) and info.frame_count == 20 and info.codec == "h264"
    assert not info.has_audio and info.duration == pytest.approx(2.0)

    frames, reader = _read_all(path)
    assert [frame.index for frame in frames] == list(range(20))
    assert all(frame.image.shape == (48, 64, 3) and frame.image.dtype == np.uint8 for frame in frames)
    assert [frame.time for frame in frames] == pytest.approx([i / 10 for i in range(20)])
    assert all(frame.time == float(frame.pts * frame.time_base) for frame in frames)
    # The background grey encodes the index: the frames are the right ones.
    greys = [int(np.median(frame.image[-8:, -8:])) for frame in frames]
    assert greys == pytest.approx([factory.frame_grey(i) for i in range(20)], abs=4)
    assert not reader.truncated and reader.warnings == []


def test_odd_size_is_kept(videos: Path) -> None:
    path = factory.odd_size_video(videos)
    info = probe(path)
    assert (info.width, info.height) == (321, 239)
    frames, _ = _read_all(path)
    assert len(frames) == 6 and frames[0].image.shape == (239, 321, 3)


@pytest.mark.parametrize(
    ("clockwise", "corner"),
    [(90, ("top", "right")), (180, ("bottom", "right")), (270, ("bottom", "left"))],
)
def test_rotation_metadata_is_applied(videos: Path, clockwise: int, corner: tuple[str, str]) -> None:
    path = factory.rotated_video(videos, clockwise, name=f"rotated_{clockwise}.mp4")
    info = probe(path)
    assert info.rotation == clockwise
    upright_size = (48, 64) if clockwise in (90, 270) else (64, 48)
    assert (info.width, info.height) == upright_size
    frames, _ = _read_all(path)
    assert frames[0].image.shape == (upright_size[1], upright_size[0], 3)
    assert frames[0].image.flags.c_contiguous  # cv2 draws on it in place
    # Stored top-left marker, turned clockwise like a player would.
    assert _marker_corner(frames[0].image) == corner


def test_rotation_matches_opencv_autorotation(videos: Path) -> None:
    """OpenCV's FFmpeg backend turns frames by the display matrix too: an independent check."""
    path = factory.rotated_video(videos, 90, name="rotated_cv.mp4")
    frames, _ = _read_all(path)
    capture = cv2.VideoCapture(str(path))
    ok, reference = capture.read()
    capture.release()
    assert ok and reference.shape == frames[0].image.shape
    assert np.abs(reference.astype(int) - frames[0].image.astype(int)).mean() < 3


def test_variable_frame_rate_timestamps_are_exact(videos: Path) -> None:
    path = factory.vfr_video(videos)
    frames, _ = _read_all(path)
    expected = [Fraction(pts) * factory.VFR_TIME_BASE for pts in factory.VFR_PTS]
    assert [frame.pts * frame.time_base for frame in frames] == expected


def test_audio_is_reported(videos: Path) -> None:
    assert probe(factory.video_with_audio(videos)).has_audio


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: d / "missing.mp4", "file not found"),
        (lambda d: d, "is a directory"),
        (factory.empty_file, "file is empty"),
        (factory.text_file_named_mp4, "not a readable video file"),
        (factory.audio_only, "has no video stream (streams found: audio)"),
        (factory.header_only_video, "no decodable video frames"),
    ],
    ids=["missing", "directory", "empty", "text", "audio-only", "nothing-decodes"],
)
def test_bad_inputs_raise_one_clear_input_error(tmp_path: Path, make, problem: str) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        probe(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message
    with pytest.raises(InputError):
        VideoReader(path)


def test_truncated_file_stops_at_last_good_frame(videos: Path) -> None:
    path = factory.truncated_video(videos)
    frames, reader = _read_all(path)
    assert 0 < len(frames) < 40
    assert [frame.index for frame in frames] == list(range(len(frames)))
    assert reader.truncated and len(reader.warnings) == 1


def test_truncated_fragmented_file_says_so(videos: Path) -> None:
    path = factory.truncated_fragmented_video(videos)
    frames, reader = _read_all(path)
    assert 0 < len(frames) < 30
    assert reader.truncated and len(reader.warnings) == 1
    assert reader.warnings[0].startswith(f"the video breaks off after frame {len(frames)} (")


def test_decoding_runs_ahead_but_memory_stays_bounded(videos: Path) -> None:
    path = factory.plain_video(videos, name="bounded.mp4")
    with VideoReader(path, queue_size=2) as reader:
        iterator = iter(reader)
        next(iterator)
        deadline = time.monotonic() + 5
        while reader.queued < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # give a runaway producer the chance to show itself
        assert reader.queued == 2  # decoded ahead while the consumer was busy
        # consumed + queued + the one frame blocked in put(), never the whole video
        assert reader.frames_decoded <= 1 + 2 + 1
        rest = list(iterator)
    assert len(rest) == 19


def test_stopping_early_ends_the_decode_thread(videos: Path) -> None:
    path = factory.plain_video(videos, name="early.mp4")
    with VideoReader(path, queue_size=1) as reader:
        for frame in reader:
            if frame.index == 2:
                break
    assert not any(thread.name == "ftppose-decode" and thread.is_alive() for thread in threading.enumerate())


def test_a_reader_is_iterated_once(videos: Path) -> None:
    path = factory.plain_video(videos, name="once.mp4")
    with VideoReader(path) as reader:
        list(reader)
        with pytest.raises(RuntimeError):
            list(reader)


def test_selection_keeps_source_indices_and_times(tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)  # 20 frames at 10 fps
    selection = FrameRange(parse_position("0.5s"), parse_position("15"), stride=3)
    with VideoReader(video, selection=selection) as reader:
        frames = list(reader)
        assert reader.expected_frames == 4 and not reader.truncated and reader.warnings == []
    assert [f.index for f in frames] == [5, 8, 11, 14]
    assert [round(f.time, 3) for f in frames] == [0.5, 0.8, 1.1, 1.4]
    assert abs(int(frames[1].image[-1, -1, 0]) - factory.frame_grey(8)) <= 6


def test_selection_past_the_end_says_how_long_the_video_is(tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    with pytest.raises(InputError, match=r"no frame in --start 30: the video has 20 frames \(2.00 s\)"):
        list(VideoReader(video, selection=FrameRange(parse_position("30"))))
