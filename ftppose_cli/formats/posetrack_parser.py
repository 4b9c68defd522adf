"""What the PoseTrack readers share: JSON values checked into numbers, and errors that say where.

Anything that would make a score silently wrong is an :class:`InputError`
naming the file, sequence, frame and person: keypoint lists of the wrong
length, NaN or infinite numbers (JSON ``NaN`` is accepted by Python's parser,
so it is checked after parsing), integers too large for the arrays they go to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.numbers import float_array, whole_number


class SequenceParser:
    """Shared error helpers: every message names the sequence and, where known, the frame."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    def fail(self, problem: str, frame: int | None = None, file_name: str | None = None) -> InputError:
        where = f"sequence {self.name}"
        if frame is not None:
            where += f", frame {frame}" + (f" ({file_name})" if file_name else "")
        return InputError(self.path, f"{where}: {problem}")

    def numbers_or_nan(self, values: Any, what: str, frame: int | None, file_name: str | None,
                       shape: tuple[int, ...] | None = None) -> np.ndarray:
        """``values`` as floats of the given shape (``()``: one number); NaN is left for the caller to locate."""
        array = float_array(values)
        if array is None:
            raise self.fail(f"{what} must be numbers, got {short(values)}", frame, file_name)
        if shape == () and array.shape != ():
            raise self.fail(f"{what} must be one number, got {short(values)}", frame, file_name)
        if shape is not None and array.shape != shape:
            raise self.fail(f"{what} must have {int(np.prod(shape))} numbers, got {array.size}", frame, file_name)
        return array

    def numbers(self, values: Any, what: str, frame: int | None, file_name: str | None,
                shape: tuple[int, ...] | None = None) -> np.ndarray:
        array = self.numbers_or_nan(values, what, frame, file_name, shape)
        if not np.isfinite(array).all():
            raise self.fail(f"{what} contains NaN or infinity", frame, file_name)
        return array

    def integer(self, value: Any, what: str, frame: int | None, file_name: str | None) -> int:
        """``value`` as an int that fits the int64 arrays it is stored in."""
        number = whole_number(value)
        if number is None:
            raise self.fail(f"{what} must be an integer, got {short(value)}", frame, file_name)
        return number

    def regions(self, xs: Any, ys: Any, frame: int, file_name: str) -> tuple[np.ndarray, ...]:
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise self.fail("ignore_regions_x and ignore_regions_y must be lists of the same length", frame, file_name)
        polygons = []
        for k, (rx, ry) in enumerate(zip(xs, ys)):
            x = self.numbers(rx, f"ignore region {k} x", frame, file_name)
            y = self.numbers(ry, f"ignore region {k} y", frame, file_name)
            if x.ndim != 1 or y.ndim != 1:
                raise self.fail(f"ignore region {k} must be lists of numbers", frame, file_name)
            if x.shape != y.shape:
                raise self.fail(f"ignore region {k} has {x.size} x but {y.size} y values", frame, file_name)
            polygons.append(np.stack([x, y], axis=1))
        return tuple(polygons)


def short(value: Any) -> str:
    """A value for an error message, cut to 60 characters; never fails however odd the value."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"a {type(value).__name__} nested too deeply to show"
    except ValueError:  # an int past Python's digit limit
        text = f"an {type(value).__name__} too long to show"
    return text if len(text) <= 60 else text[:57] + "..."
