"""Stills and image folders as frames; overlays written back as images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.video.frame_range import FrameRange, parse_position
from ftppose_cli.video.images import ImageFrames, ImageWriter


def _images(folder: Path, count: int, size: tuple[int, int] = (48, 64), suffix: str = ".png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"frame{i}{suffix}"
        cv2.imwrite(str(path), np.full((*size, 3), 20 * i, np.uint8))
        paths.append(path)
    return paths


def test_frames_keep_their_position_and_a_nominal_time(tmp_path: Path) -> None:
    paths = _images(tmp_path, 5)
    frames = ImageFrames(paths, tmp_path, FrameRange(start=parse_position("1"), stride=2))
    assert (frames.info.width, frames.info.height, frames.expected_frames) == (64, 48, 2)
    got = list(frames)
    assert [f.index for f in got] == [1, 3] and [f.pts for f in got] == [1, 3]
    assert got[1].time == pytest.approx(3 / 25) and int(got[1].image[0, 0, 0]) == 60


def test_bad_and_mismatched_images_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="broken.jpg: not a readable JPEG or PNG image"):
        ImageFrames([broken], tmp_path)
    paths = _images(tmp_path / "a", 1) + _images(tmp_path / "b", 1, size=(30, 40))
    with pytest.raises(InputError, match="differs from the sequence's 64x48.*--stills"):
        list(ImageFrames(paths, tmp_path))


def test_writer_keeps_each_format_and_refuses_to_overwrite(tmp_path: Path) -> None:
    targets = [tmp_path / "out" / "a.jpg", tmp_path / "out" / "b.png"]
    writer = ImageWriter(targets, tmp_path / "out")
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (0, 0, 255)
    writer.write(image, 0)
    writer.write(image, 1)
    assert writer.close() == tmp_path / "out" and writer.close() is None
    assert targets[0].read_bytes()[:2] == b"\xff\xd8" and targets[1].read_bytes()[:4] == b"\x89PNG"
    assert np.array_equal(cv2.imread(str(targets[1])), image)
    with pytest.raises(InputError, match="output exists"):
        ImageWriter(targets, tmp_path / "out")
    assert ImageWriter([tmp_path / "none.png"], tmp_path / "none.png").close() is None
