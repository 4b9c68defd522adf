"""`python -m ftppose_cli` runs the CLI."""

from ftppose_cli.cli.app import run

run()
