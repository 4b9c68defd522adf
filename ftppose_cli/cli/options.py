"""Option types the subcommands share."""

from __future__ import annotations

import math
from collections.abc import Callable

import typer


def number_in(low: float, high: float) -> Callable[[str], float]:
    """A parser for a float option that must lie in ``[low, high]``, for ``typer.Option(parser=...)``.

    Typer's own ``min``/``max`` let ``nan`` through to the range check, which
    fails it with a wrong message ("should be <= 0.99", as NaN compares false
    with everything); this says what is wrong with nan and inf too.
    """

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise typer.BadParameter(f"{text} is not a number from {low:g} to {high:g}")
        return value

    return parse


def detector_sizes(text: str | None) -> tuple[int, ...] | None:
    """``--det-size``: one longer side in pixels or several, comma-separated (``416,256``), for ``callback=``.

    Several sizes run the detector at each and merge the boxes: a large input for
    small people far away, a small one for people close to the camera.
    """
    if text is None:
        return None
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a size or a comma-separated list of sizes, e.g. 416,256") from None
    if not sizes or any(not 64 <= size <= 4096 for size in sizes):
        raise typer.BadParameter(f"{text} has a size outside 64-4096 pixels")
    return sizes


def pruning_ratios(text: str | None) -> tuple[float, ...] | None:
    """``--ratios`` / ``--pruning-ratios``: shares of tokens pruned, comma-separated (``0,0.5,0.9``), for ``callback=``.

    Checked when the command line is read, so a typo fails before a model is
    loaded or an epoch is trained rather than at the first step that uses it.
    """
    if text is None:
        return None
    try:
        ratios = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a comma-separated list of numbers, e.g. 0,0.5,0.9") from None
    if not ratios or any(not (math.isfinite(r) and 0.0 <= r < 1.0) for r in ratios):
        raise typer.BadParameter(f"{text} has a ratio outside 0 to 0.99 (the share of tokens pruned)")
    return ratios
