"""Atomic, no-clobber file output: the one way ftppose writes a file.

Every output (overlay videos, PoseTrack JSON, reports, checkpoints) is
written to a hidden temporary file in the target's folder and then published
under its name, so a reader sees the old file or the new one, never half of
one, and a killed run leaves no half-written output behind.

Publishing replaces an existing file only when the caller asks for it
(``overwrite``); otherwise it is a hard link, which fails if the name is
taken: a race-free "rename unless present", so a file that appears while a
long job runs is not clobbered (the finished work stays in the temporary
file, whose name the error gives).

:func:`check_writable` answers "could this be published?" up front, so a
long job fails in its first second instead of after all the work; it tries
to create a file in the folder, the only test that covers read-only mounts,
ACLs and full quotas alike.

The temporary file gets the permissions a normal ``open`` would give
(``mkstemp`` creates it 0600, which would leave shipped weights unreadable to
others).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ftppose_cli.errors import InputError


def check_folder(folder: str | Path) -> None:
    """Raise :class:`InputError` unless files can be created in ``folder``.

    A missing folder is not made here (a run that fails should not leave empty
    folders behind; :func:`temporary_file` makes it); its nearest existing
    ancestor must be a writable folder.
    """
    problem = _folder_problem(Path(folder))
    if problem:
        raise InputError(folder, problem)


def check_writable(*paths: str | Path, overwrite: bool) -> None:
    """Raise :class:`InputError` unless :func:`publish` could put a file at each of ``paths``.

    The one "output exists" check. Each folder is probed once, so the
    overlays of a long image sequence cost one probe, not one per image.
    """
    probed: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            raise InputError(path, "is a folder, expected an output file name")
        if path.exists() and not overwrite:
            raise InputError(path, "output exists; pass --overwrite to replace it")
        if path.parent not in probed:
            problem = _folder_problem(path.parent)
            if problem:
                raise InputError(path, f"its folder {path.parent} {problem}")
            probed.add(path.parent)


def _folder_problem(folder: Path) -> str | None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return "is a file, not a folder" if existing == folder else f"cannot be made: {existing} is a file"
    try:
        fd, probe = tempfile.mkstemp(prefix=".ftppose-write-test.", dir=existing)
    except OSError as error:
        return f"cannot be written to ({_reason(error)})"
    os.close(fd)
    os.unlink(probe)
    return None


def temporary_file(path: str | Path) -> Path:
    """An empty hidden file beside ``path`` (its folder made if missing), to fill and then :func:`publish`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as error:
        raise InputError(path, f"cannot create the output file ({_reason(error)})") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def publish(temporary: str | Path, path: str | Path, *, overwrite: bool) -> Path:
    """Give the finished ``temporary`` file its name ``path``; clobber an existing file only if ``overwrite``."""
    temporary, path = Path(temporary), Path(path)
    if overwrite:
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise InputError(path, f"cannot be replaced ({_reason(error)}); the result is in {temporary}") from None
        return path
    try:
        os.link(temporary, path)
        linked = True
    except FileExistsError:
        linked = False
    except OSError:  # a file system without hard links: check, then rename (a small race remains)
        linked = not path.exists()
        if linked:
            os.replace(temporary, path)
    if not linked:
        raise InputError(path, f"appeared while writing and was not overwritten; the result is in {temporary}")
    temporary.unlink(missing_ok=True)
    return path


def atomic_write(path: str | Path, write: Callable[[str], None], *, overwrite: bool) -> Path:
    """Call ``write(tmp_path)`` to fill a temporary file, then :func:`publish` it as ``path``.

    If ``write`` fails the temporary file is removed and any old file is untouched.
    """
    tmp = temporary_file(path)
    try:
        write(str(tmp))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return publish(tmp, path, overwrite=overwrite)


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), overwrite=overwrite)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
