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


def test_help_shows_flags_as_flags_and_every_default(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    pages = {}
    for command in ("annotate", "eval", "bench", "train", "train-detector"):
        assert main([command, "--help"]) == 0
        pages[command] = " ".join(capsys.readouterr().out.split())
        assert "<bool>" not in pages[command], command
    assert main(["--help"]) == 0 and "<bool>" not in capsys.readouterr().out
    annotate = pages["annotate"]
    for shown in ("--half Half precision", "--stills Annotate", "[default: (weights/pose)]",
                  "[default: (the detector's own; 0 with --boxes)]", "[default: (the detector's own)]",
                  "bbox: x y width height in pixels", "<input name>.json"):
        assert shown in annotate, shown


def test_one_name_per_idea_and_the_old_names_still_work(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    for command in ("annotate", "eval", "train", "train-detector"):
        assert main([command, "--help"]) == 0
        page = capsys.readouterr().out
        assert "--output-dir" in page and "--out " not in page, command
    for command in ("annotate", "eval", "bench"):
        assert main([command, "--help"]) == 0
        page = capsys.readouterr().out
        assert "--report-json" in page and "--json " not in page, command
    assert main(["train", "--help"]) == 0
    page = capsys.readouterr().out
    assert "--pruning-ratios" in page and "--epsilons" not in page
    assert main(["bench", "--report-json", "a.json", "--json", "b.json"]) == 2  # the same option twice
    assert "also given as --json, its old name" in capsys.readouterr().err


def test_user_errors_end_every_command_in_one_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A library error is one ``error:`` line and its exit code: 1, or 2 for options that cannot work."""
    assert main(["eval", "--gt", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("error: give --gt and --pred to score files, or --data to run on a PoseTrack "
                                       "split\n")
    assert main(["train-detector", "--output-dir", str(tmp_path / "run"), "--cache", str(tmp_path / "[frames]")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (f"error: {tmp_path / '[frames]'}/index.json missing and no "
                                                        "--data to build it from")
    assert main(["bench", "--weights", str(tmp_path / "absent"), "--device", "cpu"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'absent.json'}: checkpoint config not found")
