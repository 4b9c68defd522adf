"""Atomic writes leave either the old file or the new one, with normal permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ftppose_cli.atomic import atomic_write, atomic_write_text


def test_new_file_has_umask_permissions_and_no_leftovers(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "sub" / "a.json", "{}\n")
    assert path.read_text() == "{}\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "a.txt", "old")

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
