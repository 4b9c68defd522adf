"""The reliability matrix's checks: run the CLI in-process and check what a user would see.

Every run is checked for the rules all bad input follows: no traceback, each
line on stderr one ``error:``/``warning:``/``interrupted:`` line, and no
temporary ``.partial`` file left anywhere under the test's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from ftppose_cli.cli.app import app

_runner = CliRunner()


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def lines(self, kind: str) -> list[str]:
        """The stderr lines of one kind (``error``, ``warning``, ``interrupted``), without the prefix."""
        prefix = f"{kind}: "
        return [line[len(prefix):] for line in self.stderr.splitlines() if line.startswith(prefix)]


def files_under(folder: Path) -> set[str]:
    """Every file below ``folder``, as paths relative to it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def usage_error(*args: object) -> tuple[int, str]:
    """Run ``ftppose <args>`` expecting a usage error: the exit code and the message, unwrapped from its box."""
    result = _runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(re.sub("[│╭╮╰╯─]", " ", result.stderr).split())


def run_cli(root: Path, *args: object) -> Run:
    """Run ``ftppose <args>`` in-process; assert the rules every run keeps, with ``root`` the test's folder."""
    result = _runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr
    for line in result.stderr.splitlines():
        assert line.split(":", 1)[0] in ("error", "warning", "interrupted"), f"stray stderr line: {line!r}"
    assert not [p for p in files_under(root) if p.endswith(".partial")], files_under(root)
    return Run(result.exit_code, result.stdout, result.stderr)
