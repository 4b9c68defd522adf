"""The ``ftppose`` command: one Typer app, one module per subcommand.

This module only wires subcommands together; each ``cli/<name>.py`` parses
its arguments and calls the library.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="ftppose",
    help="Annotate videos with human poses using FTP-Pose (token-pruned video pose transformer).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each subcommand module exposes `register(app)`; listed here in help order.
_SUBCOMMANDS = ("annotate", "eval_cmd", "bench", "train", "train_detector")


def _register_all() -> None:
    import importlib

    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"ftppose_cli.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built in this checkout
            if exc.name != f"ftppose_cli.cli.{name}":
                raise
            continue
        module.register(app)


_register_all()


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
