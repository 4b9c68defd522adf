"""Atomic writes leave either the old file or the new one, with normal permissions, and never clobber by default."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from ftppose_cli.atomic import (
    atomic_write,
    atomic_write_text,
    check_folder,
    check_writable,
)
from ftppose_cli.errors import InputError


def test_new_file_has_umask_permissions_and_no_leftovers(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "sub" / "a.json", "{}\n", overwrite=False)
    assert path.read_text() == "{}\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "a.txt", "old", overwrite=False)

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken, overwrite=True)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_existing_file_is_replaced_only_on_request(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "a.txt", "old", overwrite=False)
    with pytest.raises(InputError, match="not overwritten; the result is in .*partial"):
        atomic_write_text(path, "new", overwrite=False)
    assert path.read_text() == "old"
    (leftover,) = (p for p in tmp_path.iterdir() if p.name.endswith(".partial"))
    assert leftover.read_text() == "new"  # the work is not lost
    assert atomic_write_text(path, "new", overwrite=True).read_text() == "new"


def test_check_writable_names_the_problem_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken.json").write_text("{}")
    (tmp_path / "a_file").write_text("")
    cases = {
        tmp_path / "taken.json": "output exists; pass --overwrite",
        tmp_path: "is a folder, expected an output file name",
        tmp_path / "a_file" / "sub" / "x.json": "its folder .*sub cannot be made: .*a_file is a file",
    }
    for path, problem in cases.items():
        with pytest.raises(InputError, match=problem) as info:
            check_writable(path, overwrite=False)
        assert "\n" not in str(info.value)
    check_writable(tmp_path / "taken.json", overwrite=True)
    check_writable(tmp_path / "new" / "deeper" / "x.json", overwrite=False)
    assert not (tmp_path / "new").exists()  # checking makes no folders
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_folder(tmp_path / "a_file")


def test_check_folder_tries_a_real_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only mount or ACL is found by trying; emulated, since root ignores a folder's mode bits."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    with pytest.raises(InputError, match="locked/out: cannot be written to \\(permission denied\\)"):
        check_folder(locked / "out")
    with pytest.raises(InputError, match="cannot create the output file \\(permission denied\\)"):
        atomic_write_text(locked / "a.json", "{}", overwrite=False)
