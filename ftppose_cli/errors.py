"""The one error type the CLI turns into a clean one-line message.

Library code raises :class:`FtpposeError` for problems a user can fix (a bad
file, a wrong checkpoint, a malformed JSON, options that cannot work
together). The CLI prints ``str(error)`` as one ``error:`` line and exits
with the error's ``exit_code`` (:mod:`ftppose_cli.cli.app`, in one place);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class FtpposeError(Exception):
    """A user-facing failure tied to one input.

    ``str(error)`` reads ``"<path>: <problem>"`` so a batch log names the file.
    """

    exit_code = 1

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class InputError(FtpposeError):
    """The input file is missing, unreadable or not what it claims to be."""


class CheckpointError(FtpposeError):
    """A weights file does not load or does not fit the model it describes."""


class UsageError(FtpposeError):
    """The options cannot work as given (one is missing, two exclude each other): exit code 2, as click's."""

    exit_code = 2
