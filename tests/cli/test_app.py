"""The ``main() -> int`` entry point: exit codes and one-line reports instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftppose_cli.cli.app import main


def test_help_is_success(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "annotate" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annotate", "clip.mp4", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "No such option" in err and "Traceback" not in err


def test_command_errors_keep_their_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.mp4"
    assert main(["annotate", str(missing), "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "missing.mp4" in err and "Traceback" not in err
