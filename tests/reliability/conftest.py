"""Fixtures of the reliability matrix: the CLI runner, a boxes file, a read-only folder."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.reliability.cli_checks import Run
from tests.reliability.cli_checks import run_cli as _run_cli


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., Run]:
    """``run_cli("annotate", ...)``: the CLI in-process, checked by :func:`cli_checks.run_cli`."""
    return partial(_run_cli, tmp_path)


@pytest.fixture
def boxes_json(tmp_path: Path) -> Path:
    """One person in each of the 20 frames of ``video_factory.plain_video``."""
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps([{"image_id": i, "bbox": [2, 2, 20, 40], "score": 0.9, "category_id": 1}
                                for i in range(20)]))
    return path


@pytest.fixture
def make_read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], Path]]:
    """Make a folder read-only; as root, whom mode bits do not stop, refuse file creation in it instead."""
    made: list[Path] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) in made:
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    def make(folder: Path) -> Path:
        folder.mkdir(exist_ok=True)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        made.append(folder)
        if os.access(folder, os.W_OK):
            monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
        return folder

    yield make
    for folder in made:
        folder.chmod(stat.S_IRWXU)
