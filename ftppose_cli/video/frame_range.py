"""Part of a video: from a start to an end, every n-th frame (`annotate --start/--end/--stride`).

A position is a frame number (``150``) or a time, in seconds (``12.5s``) or
as a clock reading (``1:02.5``, ``1:02:03``). Times are compared with each
frame's own timestamp, so they stay right on variable-frame-rate video; frame
numbers count decoded frames from 0. The start is included and the end is
not, as in a Python slice: ``--start 1:00 --end 1:10`` is ten seconds.

Frames keep their numbers and times in the source, so the PoseTrack JSON of a
cut says which frames of the original it describes. Pure Python, so the CLI
can check the flags before it imports the heavy libraries.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SECONDS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)s$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")
# A timestamp this close below a requested time still counts as reaching it (float rounding of pts * time_base).
_TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True)
class FramePosition:
    """A frame number or a time in seconds (exactly one is set), with the text it was given as."""

    frame: int | None = None
    seconds: float | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if (self.frame is None) == (self.seconds is None):
            raise ValueError("a position is a frame number or a time, not both or neither")

    def reached(self, index: int, time: float) -> bool:
        """Whether the frame at ``index`` shown at ``time`` seconds is at or past this position."""
        if self.frame is not None:
            return index >= self.frame
        return time >= self.seconds - _TOLERANCE_SECONDS

    def as_frame(self, fps: float) -> float:
        """This position in frames at a constant ``fps`` (for estimates only)."""
        return float(self.frame) if self.frame is not None else self.seconds * fps

    def __str__(self) -> str:
        return self.text or (str(self.frame) if self.frame is not None else f"{self.seconds:g}s")


def parse_position(text: str) -> FramePosition:
    """``"150"`` -> frame 150; ``"12.5s"``, ``"1:02.5"``, ``"1:02:03"`` -> a time. Raises ``ValueError``."""
    raw = text.strip()
    if raw.isdigit():
        return FramePosition(frame=int(raw), text=raw)
    if match := _SECONDS.match(raw):
        return FramePosition(seconds=float(match[1]), text=raw)
    if match := _CLOCK.match(raw):
        hours, minutes, seconds = int(match[1] or 0), int(match[2]), float(match[3])
        if seconds >= 60 or (match[1] is not None and minutes >= 60):
            raise ValueError(f"{text!r}: minutes and seconds of a time run from 0 to 59")
        return FramePosition(seconds=3600 * hours + 60 * minutes + seconds, text=raw)
    hint = " (add s for seconds, e.g. 12.5s)" if re.fullmatch(r"\d*\.\d+|\d+\.", raw) else ""
    raise ValueError(f"{text!r} is not a frame number (150), seconds (12.5s) or a time (1:02.5){hint}")


@dataclass(frozen=True)
class FrameRange:
    """Which frames to annotate: from ``start`` (included) to ``end`` (excluded), every ``stride``-th.

    The default is every frame.
    """

    start: FramePosition | None = None
    end: FramePosition | None = None
    stride: int = 1

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, got {self.stride}")
        if self.start is not None and self.end is not None:
            both_frames = self.start.frame is not None and self.end.frame is not None
            both_times = self.start.seconds is not None and self.end.seconds is not None
            if (both_frames and self.end.frame <= self.start.frame) or (
                    both_times and self.end.seconds <= self.start.seconds):
                raise ValueError(f"the end ({self.end}) must come after the start ({self.start})")

    @property
    def is_everything(self) -> bool:
        return self.start is None and self.end is None and self.stride == 1

    def selector(self) -> FrameSelector:
        """A fresh selector to run once over a video's frames in order."""
        return FrameSelector(self)

    def expected_count(self, frame_count: int | None, fps: float | None) -> int | None:
        """How many frames the range selects from a video of ``frame_count`` frames (an estimate for progress)."""
        if self.is_everything:
            return frame_count
        rate = float(fps or 0.0)
        if not rate and any(p is not None and p.seconds is not None for p in (self.start, self.end)):
            return None
        first = math.ceil(self.start.as_frame(rate) - 1e-6) if self.start is not None else 0
        stop = math.ceil(self.end.as_frame(rate) - 1e-6) if self.end is not None else frame_count
        if stop is None:
            return None
        if frame_count is not None:
            stop = min(stop, frame_count)
        return max(0, math.ceil((stop - first) / self.stride))

    def to_dict(self) -> dict:
        """The flags as given, for the ``ftppose`` record of the JSON."""
        return {"start": None if self.start is None else str(self.start),
                "end": None if self.end is None else str(self.end), "stride": self.stride}

    def __str__(self) -> str:
        parts = [f"--start {self.start}" if self.start else "", f"--end {self.end}" if self.end else "",
                 f"--stride {self.stride}" if self.stride != 1 else ""]
        return " ".join(p for p in parts if p) or "every frame"


class FrameSelector:
    """Answers, frame by frame in decode order, whether a frame is in the range; ``done`` once past its end."""

    def __init__(self, frame_range: FrameRange) -> None:
        self.range = frame_range
        self.done = False
        self._first: int | None = None

    def __call__(self, index: int, time: float) -> bool:
        if self.done or (self.range.end is not None and self.range.end.reached(index, time)):
            self.done = True
            return False
        if self._first is None:
            if self.range.start is not None and not self.range.start.reached(index, time):
                return False
            self._first = index
        return (index - self._first) % self.range.stride == 0
