"""The ONNX Runtime backend: the exported pose halves and detector behind the calls the pipeline makes.

:class:`OnnxPoseModel` answers :class:`~ftppose_cli.pipeline.estimator.PoseNetwork`'s
two calls and :class:`OnnxDetectorNetwork` the detector network's one, so the
estimator, the window scheduler and :class:`~ftppose_cli.detection.detector.PersonDetector`
run unchanged on either backend. Tensors stay torch tensors on the CPU at the
boundary (``numpy()`` and ``from_numpy`` share memory, nothing is copied).

ONNX Runtime is an optional dependency (``pip install -e ".[onnx]"``); it is
imported here only, when a session is made, and its absence is one clear error.

Where the ONNX files come from (:func:`onnx_models`): a folder ``ftppose export``
wrote, or a PyTorch checkpoint exported on first use into ``ftppose``'s cache
folder (:func:`ftppose_cli.runtime.cache_dir`), keyed by the checkpoint's
contents so a changed checkpoint is exported again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ftppose_cli.errors import CheckpointError, FtpposeError
from ftppose_cli.export import (
    DETECTOR,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    POSE_FRAMES,
    POSE_WINDOW,
    ExportedModels,
    export_detector_weights,
    export_pose_weights,
)
from ftppose_cli.models.ftppose import FTPPoseConfig
from ftppose_cli.models.pruning import keep_count
from ftppose_cli.runtime import cache_dir
from ftppose_cli.weights import weights_paths

if TYPE_CHECKING:
    from ftppose_cli.detection.detector import PersonDetector

INSTALL_HINT = 'pip install -e ".[onnx]"'


def onnxruntime_module() -> Any:
    """``onnxruntime``, or one :class:`FtpposeError` saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise FtpposeError(None, f"--backend onnx needs ONNX Runtime, which is not installed: {INSTALL_HINT}") from None
    return onnxruntime


def make_session(path: str | Path, threads: int | None = None) -> Any:
    """A CPU inference session, all graph optimisations on, ``threads`` intra-op threads (None: ORT's default).

    One inter-op thread and sequential execution: the graphs are chains, and on a
    small CPU a second pool only competes with the first. The intra-op threads
    sleep when idle instead of spinning: between two runs the pipeline crops,
    tracks and decodes heatmaps (the last with torch's own threads), and spinning
    threads took the cores from that work. On the example clip, 2 cores, annotate
    ran at 14.3 fps without spinning against 11.5 with it (13.5 with torch on one
    thread), measured round-robin in one process.
    """
    ort = onnxruntime_module()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise here
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own exception types (InvalidProtobuf, Fail, NoSuchFile...)
        first_line = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise CheckpointError(path, f"ONNX Runtime cannot load it ({first_line})") from None


def read_metadata(session: Any, path: str | Path, part: str) -> dict[str, str]:
    """The ftppose metadata of a loaded file, checked to be ``part`` of an export this version reads."""
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    if metadata.get("ftppose.format") != EXPORT_FORMAT:
        raise CheckpointError(path, "not an ONNX file written by ftppose export (its ftppose metadata is missing)")
    if metadata.get("ftppose.export_version") != str(EXPORT_VERSION):
        raise CheckpointError(path, f"ONNX export version {metadata.get('ftppose.export_version')} is not supported "
                                    f"(this ftppose reads version {EXPORT_VERSION}); export it again")
    if metadata.get("ftppose.part") != part:
        raise CheckpointError(path, f"is the {metadata.get('ftppose.part')} part of an export, expected {part}")
    return metadata


def _run(session: Any, feeds: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    names = {i.name for i in session.get_inputs()}
    arrays = {name: np.ascontiguousarray(t.detach().cpu().float().numpy())
              for name, t in feeds.items() if name in names}
    return [torch.from_numpy(out) for out in session.run(None, arrays)]


class OnnxPoseModel:
    """``pose_frames.onnx`` + ``pose_window.onnx`` on ONNX Runtime, called like :class:`FTPPose`."""

    def __init__(self, frames_path: str | Path, window_path: str | Path, threads: int | None = None) -> None:
        self.frames_session = make_session(frames_path, threads)
        self.window_session = make_session(window_path, threads)
        self.metadata = read_metadata(self.frames_session, frames_path, "pose_frames")
        window_metadata = read_metadata(self.window_session, window_path, "pose_window")
        for key in ("ftppose.model_config", "ftppose.source"):
            if window_metadata.get(key) != self.metadata.get(key):
                raise CheckpointError(window_path, f"does not belong with {Path(frames_path).name}: they were "
                                                   "exported from different checkpoints")
        try:
            self.config = FTPPoseConfig.from_dict(json.loads(self.metadata["ftppose.model_config"]))
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(frames_path, f"invalid model config in its metadata ({error})") from None
        self.paths = (Path(frames_path), Path(window_path))

    @property
    def temporal(self) -> bool:
        return self.config.window > 1

    def embed_and_keep(self, images: torch.Tensor, epsilon: float = 0.0
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``last, intermediate`` and each frame's kept tokens: the first ``keep`` of its DPC-KNN order."""
        last, intermediate, ranked = _run(self.frames_session, {"images": images})
        if epsilon <= 0.0 or not self.temporal:
            return last, intermediate, last
        return last, intermediate, ranked[:, :keep_count(ranked.shape[1], epsilon)]

    def estimate_kept(self, kept: torch.Tensor, key_last: torch.Tensor, key_intermediate: torch.Tensor) -> torch.Tensor:
        feeds = {"kept": kept, "key_last": key_last, "key_intermediate": key_intermediate}
        return _run(self.window_session, feeds)[0]


class OnnxDetectorNetwork:
    """``detector.onnx`` on ONNX Runtime, called like ``PersonDetectorNet``: images -> heatmap logits, ltrb."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        from ftppose_cli.detection.network import DetectorConfig

        self.session = make_session(path, threads)
        self.metadata = read_metadata(self.session, path, "detector")
        try:
            self.config = DetectorConfig.from_dict(json.loads(self.metadata["ftppose.detector_config"]))
            # "ftppose.thresholds": exports of version 1, before the input sizes were stored
            self.inference: dict[str, Any] = json.loads(self.metadata.get("ftppose.inference")
                                                        or self.metadata["ftppose.thresholds"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(path, f"invalid detector config in its metadata ({error})") from None
        self.path = Path(path)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heat, ltrb = _run(self.session, {"images": images})
        return heat, ltrb


def load_detector(path: str | Path, *, min_box_score: float | None = None,
                  input_sizes: Sequence[int] | None = None, threads: int | None = None) -> PersonDetector:
    """A :class:`PersonDetector` running ``detector.onnx``; ``min_box_score`` and ``input_sizes`` default to
    the exported checkpoint's."""
    from ftppose_cli.detection.detector import PersonDetector

    network = OnnxDetectorNetwork(path, threads)
    stored = network.inference
    score = stored.get("min_box_score", stored.get("conf", 0.3))  # "conf": exports before the rename
    return PersonDetector(network, min_box_score=float(score) if min_box_score is None else min_box_score,
                          nms_iou=float(stored.get("nms_iou", 0.5)),
                          input_sizes=input_sizes or stored.get("input_sizes"), fuse=False)


def is_export_folder(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / POSE_FRAMES).is_file() and (path / POSE_WINDOW).is_file()


def _contents_key(*paths: Path) -> str:
    """A short hash of the files' bytes and the export format: a new checkpoint or exporter means a new export."""
    digest = hashlib.sha256(f"{EXPORT_FORMAT}-{EXPORT_VERSION}".encode())
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def onnx_models(pose: str | Path, detector: str | Path | None = None,
                on_export: Callable[[str], None] | None = None) -> ExportedModels:
    """The ONNX files for a pose checkpoint (or export folder) and a detector checkpoint (or ``detector.onnx``).

    A checkpoint not exported yet is exported into the cache folder first (once;
    ``on_export`` hears a line saying so). ``detector`` None: the export
    folder's ``detector.onnx`` if ``pose`` is a folder that has one, else none.
    """
    pose = Path(pose)
    if is_export_folder(pose):
        frames, window = pose / POSE_FRAMES, pose / POSE_WINDOW
        if detector is None and (pose / DETECTOR).is_file():
            detector = pose / DETECTOR
    elif pose.is_dir():
        raise CheckpointError(pose, f"is a folder without {POSE_FRAMES} and {POSE_WINDOW} (run ftppose export)")
    else:
        weights, config = _checkpoint_files(pose, "pose")
        folder = cache_dir() / "onnx" / f"pose-{_contents_key(weights, config)}"
        frames, window = folder / POSE_FRAMES, folder / POSE_WINDOW
        if not (frames.is_file() and window.is_file()):
            if on_export is not None:
                on_export(f"exporting {weights} to ONNX (first use; kept in {folder})")
            export_pose_weights(weights, folder, overwrite=True)
    return ExportedModels(frames, window, None if detector is None else detector_onnx(detector, on_export))


def detector_onnx(detector: str | Path, on_export: Callable[[str], None] | None = None) -> Path:
    """``detector`` itself if it is a ``.onnx`` file, else its checkpoint's export in the cache (made on first use)."""
    detector = Path(detector)
    if detector.suffix == ".onnx":
        if not detector.is_file():
            raise CheckpointError(detector, "detector ONNX file not found")
        return detector
    weights, config = _checkpoint_files(detector, "detector")
    folder = cache_dir() / "onnx" / f"detector-{_contents_key(weights, config)}"
    path = folder / DETECTOR
    if not path.is_file():
        if on_export is not None:
            on_export(f"exporting {weights} to ONNX (first use; kept in {folder})")
        export_detector_weights(weights, path, overwrite=True)
    return path


def _checkpoint_files(path: Path, what: str) -> tuple[Path, Path]:
    weights, config = weights_paths(path)
    for file in (weights, config):
        if not file.is_file():
            raise CheckpointError(file, f"{what} checkpoint file not found")
    return weights, config
