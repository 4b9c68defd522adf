"""Frames of a labelled source by path: a video, a folder of frames or one image, as ``(index, BGR image)``.

The training caches (pose crops, detector frames) and the labeller read the
corpus by frame index. Videos are decoded by :class:`VideoReader`, the one
decoder `annotate` uses too, so every reader of a video sees the same frames:
upright (the display rotation applied) and, from a file that breaks off, up
to its last good frame. Video frames are numbered in decode order, the
numbering teacher labels use; a folder's images in sorted-name order
(PoseTrack numbers its frames so).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.video.frame_range import FramePosition, FrameRange
from ftppose_cli.video.reader import VideoReader

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def sequence_frames(folder: Path) -> list[Path]:
    """The frame images of a sequence folder in frame order (sorted names, as PoseTrack numbers them)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_frames(path: Path, wanted: Collection[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, BGR frame)`` for the wanted frames (default: all) of a video, a frame folder or an image
    (index 0). An image that cannot be read is left out; a video that cannot be is an :class:`InputError`.

    A video is decoded only from the first wanted frame to the last one.
    """
    if wanted is not None and not wanted:
        return
    if path.is_dir():
        for index, file in enumerate(sequence_frames(path)):
            if wanted is None or index in wanted:
                image = cv2.imread(str(file), cv2.IMREAD_COLOR)
                if image is not None:
                    yield index, image
        return
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            yield 0, image
        return
    selection = FrameRange() if wanted is None else FrameRange(FramePosition(frame=min(wanted)),
                                                                 FramePosition(frame=max(wanted) + 1))
    with VideoReader(path, selection=selection) as reader:
        for frame in reader:
            if wanted is None or frame.index in wanted:
                yield frame.index, frame.image
