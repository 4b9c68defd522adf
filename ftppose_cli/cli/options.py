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
