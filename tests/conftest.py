"""Shared fixtures: a tiny random checkpoint (and its ONNX export) and the shared data folder.

``tests`` is a package (every folder has an ``__init__.py``), so the helper modules import as
``from tests import video_factory`` when pytest runs from the repository root
(``python -m pytest``); no test edits ``sys.path``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# One thread: the tests' tensors are tiny, and on a busy 2-core machine a second
# OpenMP thread mostly waits for a core (a 5x slowdown measured on this suite).
torch.set_num_threads(1)

# ONNX exports made on first use go to a folder of this run, never to the user's cache.
os.environ["FTPPOSE_CACHE"] = tempfile.mkdtemp(prefix="ftppose-test-cache-")
atexit.register(shutil.rmtree, os.environ["FTPPOSE_CACHE"], ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random K=3 FTP-Pose small enough for fast CPU tests (64x48 input, 2 layers)."""
    from ftppose_cli.models.ftppose import create_model
    from ftppose_cli.weights import POSE, save_weights

    torch.manual_seed(0)
    model = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1)
    torch.nn.init.normal_(model.head.temporal_entry.weight, std=0.02)
    path = tmp_path_factory.mktemp("weights") / "pose"
    save_weights(model, path, POSE, half=False)
    return path.with_suffix(".safetensors")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_onnx_export(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_checkpoint`` exported once for every test that runs it on ONNX Runtime (a folder)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from ftppose_cli.export import export_pose_weights

    folder = tmp_path_factory.mktemp("onnx")
    export_pose_weights(tiny_checkpoint, folder)
    return folder
