"""How options are shown and named: a flag as a flag in `--help`, old names as hidden aliases.

Typer 0.29 prints a type after every option, so flags read as if they took a
value (``--half <bool>``, ``--help <bool>``). The command and group classes
here give flags an empty metavar before help is drawn, so the type column
stays blank for them, as in click's own help; options that take a value keep
their type. Parsing is untouched.

An idea has one name in every command (``--output-dir``, ``--report-json``);
the names a command had before stay accepted, hidden from help, through
:func:`renamed`.
"""

from __future__ import annotations

from typing import TypeVar

import typer
import typer.core

T = TypeVar("T")


class _FlagsAsFlags:
    def get_params(self, ctx):  # noqa: ANN001, ANN201 (click's signature)
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
                param.metavar = ""
        return params


class Command(_FlagsAsFlags, typer.core.TyperCommand):
    """A subcommand whose help shows flags as flags."""


class Group(_FlagsAsFlags, typer.core.TyperGroup):
    """The top-level command, the same way."""


def renamed(value: T | None, old_value: T | None, *, name: str, old_name: str) -> T | None:
    """The value of an option given under its name or its old one (kept as a hidden alias); both is an error."""
    if value is not None and old_value is not None:
        raise typer.BadParameter(f"also given as {old_name}, its old name; give it once", param_hint=name)
    return value if value is not None else old_value
