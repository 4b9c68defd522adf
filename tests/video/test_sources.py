"""Frames of a labelled source by index: videos through the reader (upright, cut files to their last good frame)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.video.reader import VideoReader
from ftppose_cli.video.sources import read_frames
from tests import video_factory as factory


def test_video_frames_are_the_readers_upright_frames(tmp_path: Path) -> None:
    path = factory.rotated_video(tmp_path, 90)
    with VideoReader(path) as reader:
        upright = [(frame.index, frame.image) for frame in reader]
    frames = list(read_frames(path))
    assert [i for i, _ in frames] == [i for i, _ in upright] == list(range(5))
    assert all(image.shape == (64, 48, 3) and np.array_equal(image, expected)
               for (_, image), (_, expected) in zip(frames, upright))
    assert [i for i, _ in read_frames(path, {1, 3})] == [1, 3]
    assert list(read_frames(path, set())) == []


def test_a_cut_video_is_read_to_its_last_good_frame(tmp_path: Path) -> None:
    indices = [i for i, _ in read_frames(factory.truncated_video(tmp_path))]
    assert 0 < len(indices) < 40 and indices == list(range(len(indices)))


def test_frame_folders_in_name_order_and_single_images(tmp_path: Path) -> None:
    factory.write_images(tmp_path / "seq", ["000002.png", "000001.png"])
    (tmp_path / "seq" / "notes.txt").write_text("not a frame")
    (tmp_path / "seq" / "zz_broken.png").write_bytes(b"not an image")  # frame 2: unreadable, left out
    frames = list(read_frames(tmp_path / "seq"))
    assert [i for i, _ in frames] == [0, 1]
    assert frames[0][1][0, 0, 0] == 70  # 000001.png, written second: grey 40 + 30
    assert [i for i, _ in read_frames(tmp_path / "seq", {1})] == [1]
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((8, 6, 3), np.uint8))
    assert [(i, image.shape) for i, image in read_frames(tmp_path / "one.png")] == [(0, (8, 6, 3))]
