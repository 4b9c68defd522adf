"""Where the shipped weights are and which device to run on.

Shared by the CLI, the examples and the benchmarks so that they resolve
``--device auto`` and the default weights the same way. Which files to
annotate is :mod:`ftppose_cli.inputs`'s job.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

import torch

from ftppose_cli.errors import FtpposeError


def weights_dir() -> Path:
    """``$FTPPOSE_WEIGHTS`` if set, else the ``weights/`` folder shipped beside the package."""
    env = os.environ.get("FTPPOSE_WEIGHTS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "weights"


def default_pose_weights() -> Path:
    return weights_dir() / "pose.safetensors"


def default_detector_weights() -> Path:
    return weights_dir() / "detector.safetensors"


def example_clip() -> Path:
    """The short real clip shipped in ``examples/`` (a source checkout has it; an installed wheel may not)."""
    return Path(__file__).resolve().parent.parent / "examples" / "vtest_short.mp4"


def cache_dir() -> Path:
    """Where ftppose keeps what it derives from the weights (ONNX exports): ``$FTPPOSE_CACHE``, else
    ``$XDG_CACHE_HOME/ftppose``, else ``~/.cache/ftppose``. Deleting it is always safe."""
    env = os.environ.get("FTPPOSE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ftppose"


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an explicit device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise FtpposeError(None, f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise FtpposeError(None, f"device {name!r} requested but CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise FtpposeError(None, f"device {name!r} requested but only {torch.cuda.device_count()} GPU(s) exist")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise FtpposeError(None, "device 'mps' requested but MPS is not available on this machine")
    return device


def _load_malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None


_MALLOC_TRIM = _load_malloc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by Python and torch back to the OS (glibc only; a no-op elsewhere).

    Per-person feature tensors (tens of KB each, below glibc's mmap threshold)
    are allocated and freed out of order for every batch; glibc keeps the holes,
    and a long video's RSS crept up by ~15 % per 1,000 frames. Trimming once a
    batch keeps it flat (measured in benchmarks/bench_annotate.py).
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
