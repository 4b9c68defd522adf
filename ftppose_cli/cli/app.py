"""The ``ftppose`` command: one Typer app, one module per subcommand.

This module wires subcommands together, and is the one place where a user
error ends a command: the library raises :class:`~ftppose_cli.errors.FtpposeError`
for what a user can fix, and every subcommand runs as a :class:`_Command`,
which prints it as one ``error:`` line and exits with the error's code (1; 2
for options that cannot work). Each ``cli/<name>.py`` parses its arguments
and calls the library.
"""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console

from ftppose_cli.cli import annotate, bench, eval_cmd, export, train, train_detector
from ftppose_cli.cli.help import Command, Group
from ftppose_cli.cli.progress import say
from ftppose_cli.errors import FtpposeError


class _Command(Command):
    """A subcommand that turns a user error into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 (click's signature)
        try:
            return super().invoke(ctx)
        except FtpposeError as error:
            say(Console(stderr=True), "error", error)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    name="ftppose",
    help="Annotate videos with human poses using FTP-Pose (token-pruned video pose transformer).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Group,
)

# One module per subcommand, each exposing `register(app)`; listed in help order.
# They import the heavy library only inside their commands, so `--help` stays fast.
for _module in (annotate, eval_cmd, bench, export, train, train_detector):
    _module.register(app)
for _command in app.registered_commands:
    _command.cls = _Command  # flags shown as flags in --help, user errors as one line


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting.

    Click's standalone mode does the reporting (usage errors as a short
    message with exit code 2, ``typer.Exit`` codes, Ctrl-C as "Aborted!")
    and ends with ``SystemExit``, whose code is returned here.
    """
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
