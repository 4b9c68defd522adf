"""What every frame source yields and what it says about its input: :class:`Frame` and :class:`VideoInfo`.

The reader, the image sequences, the PoseTrack split reader and the writer
all speak these two types, so they live below all of them: a module that
only needs to know what a frame is does not import a decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What a video is, as far as the pipeline and the writer need to know.

    ``width``/``height`` are those of the upright frames the reader yields.
    ``rotation`` is the clockwise turn, in degrees (0, 90, 180 or 270), that
    the reader applies to the stored pixels to make them upright; it is the
    value the legacy ``rotate`` tag would hold. ``fps`` is the average rate,
    a hint for display and encoding only: frame times come from each frame's
    ``pts``. ``frame_count`` is the container's count when it states one,
    otherwise an estimate from duration and rate, or ``None``.
    """

    path: Path
    width: int
    height: int
    rotation: int
    fps: Fraction
    time_base: Fraction
    frame_count: int | None
    duration: float | None
    has_audio: bool
    codec: str


@dataclass
class Frame:
    """One decoded, upright frame.

    ``index`` counts frames in decode (= presentation) order from 0. ``pts``
    is in ``time_base`` units, untouched from the stream, so the writer can
    reuse it; ``time`` is the same instant in seconds.
    """

    index: int
    image: np.ndarray
    pts: int
    time_base: Fraction
    time: float
