"""The option parsers the subcommands share."""

from __future__ import annotations

import pytest
import typer

from ftppose_cli.cli.options import detector_sizes, number_in, pruning_ratios


def test_number_in_names_what_is_wrong() -> None:
    parse = number_in(0.0, 0.99)
    assert parse("0.5") == 0.5
    for text in ("nan", "inf", "1", "x"):
        with pytest.raises(typer.BadParameter):
            parse(text)


def test_detector_sizes_take_one_or_several() -> None:
    assert detector_sizes(None) is None
    assert detector_sizes("416") == (416,) and detector_sizes("416,256") == (416, 256)
    for text in ("big", "416,", "32", "8192"):
        with pytest.raises(typer.BadParameter):
            detector_sizes(text)


def test_pruning_ratios_are_shares_below_one() -> None:
    assert pruning_ratios(None) is None
    assert pruning_ratios("0, 0.5,0.9,") == (0.0, 0.5, 0.9)
    for text in ("", ",", "0.5,x", "1", "1.5", "-0.1", "nan"):
        with pytest.raises(typer.BadParameter):
            pruning_ratios(text)
