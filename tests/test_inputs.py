"""Sorting command-line inputs into videos, stills and image sequences, without importing torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ftppose_cli.inputs import AnnotateInput, expand_inputs, natural_key


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_natural_order() -> None:
    names = ["img10.png", "img2.png", "Img1.png", "img1b.png"]
    assert [n for n in sorted(names, key=lambda n: natural_key(Path(n)))] == [
        "Img1.png", "img1b.png", "img2.png", "img10.png"]


def test_folder_of_images_is_one_sequence_or_stills(tmp_path: Path) -> None:
    _touch(tmp_path / "frames", "f10.jpg", "f2.jpg", "f1.PNG", "notes.txt", ".hidden.jpg", "clip.mp4")
    items, errors = expand_inputs([str(tmp_path / "frames")])
    assert errors == []
    assert [(i.kind, i.name) for i in items] == [("video", "clip"), ("sequence", "frames")]
    assert [p.name for p in items[1].images] == ["f1.PNG", "f2.jpg", "f10.jpg"]
    stills, _ = expand_inputs([str(tmp_path / "frames")], stills=True)
    assert [(i.kind, i.name) for i in stills] == [("video", "clip"), ("still", "f1"), ("still", "f2"),
                                                   ("still", "f10")]


def test_files_globs_and_errors(tmp_path: Path) -> None:
    _touch(tmp_path, "a.mp4", "b.jpeg", "c.png")
    (tmp_path / "empty").mkdir()
    items, errors = expand_inputs([str(tmp_path / "a.mp4"), str(tmp_path / "*.png"), str(tmp_path / "b.jpeg"),
                                   str(tmp_path / "a.mp4"), str(tmp_path / "missing.mp4"), str(tmp_path / "*.avi"),
                                   str(tmp_path / "empty")])
    assert [(i.kind, i.path.name) for i in items] == [("video", "a.mp4"), ("still", "c.png"), ("still", "b.jpeg")]
    assert [e.problem for e in errors] == ["no such file or folder", "pattern matches no files",
                                          "folder holds no videos or JPEG/PNG images"]
    assert AnnotateInput.of_file("x/photo.JPG").kind == "still" and AnnotateInput.of_file("x/y.webm").kind == "video"


def test_cli_reports_a_missing_input_without_importing_torch(tmp_path: Path) -> None:
    """The import guard behind the under-2-seconds missing-file error (README: measured)."""
    code = ("import sys; from ftppose_cli.cli.app import main; code = main(['annotate', 'missing.mp4']); "
            "print('torch' in sys.modules, 'numpy' in sys.modules, code)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": ""}, timeout=120)
    assert result.stdout.split() == ["False", "False", "1"], result.stderr
    assert "missing.mp4: no such file or folder" in result.stderr
