"""What `annotate` was asked to annotate: the command-line inputs, sorted into videos, stills and image sequences.

Kept free of torch, numpy and the video libraries on purpose: the CLI expands
and checks its inputs with this module before it imports any of them, so a
mistyped file name is reported in a fraction of a second rather than after
the ten seconds or more that importing torch can take.

A folder's images are one *sequence* (frames of one scene, tracked across
each other, in natural order: ``frame2.jpg`` before ``frame10.jpg``) unless
``stills`` is asked for; a single image file is always a still. A folder's
videos are annotated one by one, as videos passed on their own.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ftppose_cli.errors import InputError

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})

InputKind = Literal["video", "still", "sequence"]


@dataclass(frozen=True)
class AnnotateInput:
    """One unit of work: a video, one still image, or a folder of images read as one sequence.

    ``images`` lists a sequence's frames in order (a still's one image); it is
    empty for a video. ``name`` is the stem every output of this input is
    named after.
    """

    path: Path
    kind: InputKind
    images: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name if self.kind == "sequence" else self.path.stem

    @property
    def size_bytes(self) -> int:
        """Bytes to read: a rough measure of the work, to share inputs evenly between processes."""
        try:
            return sum(p.stat().st_size for p in (self.images or (self.path,)))
        except OSError:
            return 0

    @classmethod
    def of_file(cls, path: str | Path) -> AnnotateInput:
        """A file by its suffix: a JPEG or PNG is a still, anything else is taken for a video."""
        path = Path(path)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return cls(path, "still", (path,))
        return cls(path, "video")


def natural_key(path: Path) -> tuple:
    """Sort key that orders digit runs by value: ``img2.png`` before ``img10.png``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name))


def expand_inputs(inputs: list[str], stills: bool = False) -> tuple[list[AnnotateInput], list[InputError]]:
    """Files, folders and glob patterns -> units of work, plus one error per argument that gave none.

    A folder gives its videos (each its own input) and its images (one
    sequence, or one still each with ``stills``); a pattern gives the files it
    matches, each by its suffix. The same file named twice is done once.
    """
    found: list[AnnotateInput] = []
    errors: list[InputError] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            from_folder = _folder_inputs(path, stills)
            if not from_folder:
                errors.append(InputError(path, "folder holds no videos or JPEG/PNG images"))
            found.extend(from_folder)
        elif path.exists():
            found.append(AnnotateInput.of_file(path))
        elif glob.has_magic(raw):
            matches = sorted((Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file()), key=natural_key)
            if not matches:
                errors.append(InputError(raw, "pattern matches no files"))
            found.extend(AnnotateInput.of_file(p) for p in matches)
        else:
            errors.append(InputError(path, "no such file or folder"))
    seen: set[tuple[Path, str]] = set()
    unique = []
    for item in found:
        key = (item.path.resolve(), item.kind)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique, errors


def _folder_inputs(folder: Path, stills: bool) -> list[AnnotateInput]:
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=natural_key)
    videos = [AnnotateInput(p, "video") for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    images = tuple(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        return videos
    if stills:
        return videos + [AnnotateInput(p, "still", (p,)) for p in images]
    return videos + [AnnotateInput(folder, "sequence", images)]
