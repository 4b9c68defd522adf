"""The ``ftppose`` command: one Typer app, one module per subcommand.

This module only wires subcommands together; each ``cli/<name>.py`` parses
its arguments and calls the library.
"""

from __future__ import annotations

import sys

import typer

from ftppose_cli.cli import annotate, bench, eval_cmd, train, train_detector

app = typer.Typer(
    name="ftppose",
    help="Annotate videos with human poses using FTP-Pose (token-pruned video pose transformer).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One module per subcommand, each exposing `register(app)`; listed in help order.
# They import the heavy library only inside their commands, so `--help` stays fast.
for _module in (annotate, eval_cmd, bench, train, train_detector):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting."""
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of raising it.
        return int(app(args=argv, standalone_mode=False) or 0)
    except SystemExit as exc:  # typer raises on --help and on errors
        return int(exc.code or 0)
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 130
        raise


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
