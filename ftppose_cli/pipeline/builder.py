"""Assemble an annotator from paths and flags: the one place defaults are resolved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ftppose_cli.errors import CheckpointError, FtpposeError, InputError
from ftppose_cli.formats.detections import load_boxes
from ftppose_cli.models.checkpoint import load_model
from ftppose_cli.pipeline.annotate import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, resolve_device


BACKENDS = ("torch", "onnx")


def build_annotator(
    options: AnnotateOptions,
    weights: Path | None = None,
    detector: Path | None = None,
    device: str = "auto",
    pruning_ratio: float = 0.5,
    half: bool = False,
    flip_test: bool = False,
    det_thr: float | None = None,
    det_size: int | None = None,
    use_detector: bool = True,
    backend: str = "torch",
    threads: int | None = None,
    on_export: Callable[[str], None] | None = None,
) -> VideoAnnotator:
    """Load the pose model (and the detector unless boxes come from files) onto the device.

    ``det_thr`` and ``det_size`` None keep the detector's own threshold and input size. The
    input size sets the range of person sizes it finds best: smaller for close-ups of large people
    (which a large input splits into part boxes), larger for small people far away.

    ``backend="onnx"`` runs both on ONNX Runtime on the CPU with ``threads`` intra-op
    threads: ``weights`` may then also be a folder ``ftppose export`` wrote (its
    ``detector.onnx`` is used unless ``detector`` is given); checkpoints are exported on
    first use (:func:`ftppose_cli.onnx_backend.onnx_models`, which tells ``on_export``).
    """
    if backend not in BACKENDS:
        raise FtpposeError(None, f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    pose_path = weights or default_pose_weights()
    if backend == "onnx":
        return _build_onnx_annotator(options, Path(pose_path), detector, device, pruning_ratio, half, flip_test,
                                     det_thr, det_size, use_detector, threads, on_export)
    torch_device = resolve_device(device)
    if not Path(pose_path).with_suffix(".safetensors").exists() and not Path(pose_path).with_suffix(".json").exists():
        raise CheckpointError(pose_path, "pose weights not found (pass --weights PATH)")
    model = load_model(pose_path, device=torch_device)
    estimator = PoseEstimator(model, torch_device, epsilon=pruning_ratio, half=half, flip_test=flip_test)
    people = None
    if use_detector:
        from ftppose_cli.detection.detector import PersonDetector

        det_path = detector or default_detector_weights()
        people = PersonDetector.from_checkpoint(det_path, device=torch_device, conf=det_thr,
                                                input_size=det_size)
    return VideoAnnotator(estimator, people, options)


def _build_onnx_annotator(options: AnnotateOptions, pose_path: Path, detector: Path | None, device: str,
                          pruning_ratio: float, half: bool, flip_test: bool, det_thr: float | None,
                          det_size: int | None, use_detector: bool, threads: int | None,
                          on_export: Callable[[str], None] | None) -> VideoAnnotator:
    from ftppose_cli.models.export import DETECTOR
    from ftppose_cli.onnx_backend import OnnxPoseModel, is_export_folder, load_detector, onnx_models, \
        onnxruntime_module

    onnxruntime_module()  # a missing ONNX Runtime is said before anything is exported
    if device not in ("auto", "cpu"):
        raise FtpposeError(None, f"--backend onnx runs on the CPU (ONNX Runtime's CPU provider), not on {device!r}; "
                                 "leave --device out or give cpu")
    if not pose_path.is_dir() and not pose_path.with_suffix(".safetensors").exists() \
            and not pose_path.with_suffix(".json").exists():
        raise CheckpointError(pose_path, "pose weights not found (pass --weights PATH)")
    if use_detector and detector is None and not (is_export_folder(pose_path) and (pose_path / DETECTOR).is_file()):
        detector = default_detector_weights()
    files = onnx_models(pose_path, detector if use_detector else None, on_export)
    estimator = PoseEstimator(OnnxPoseModel(files.pose_frames, files.pose_window, threads), "cpu",
                              epsilon=pruning_ratio, half=half, flip_test=flip_test)
    people = None
    if use_detector and files.detector is not None:
        people = load_detector(files.detector, conf=det_thr, input_size=det_size, threads=threads)
    return VideoAnnotator(estimator, people, options)


def build_person_source(boxes_file: Path, video: Path) -> BoxesFileSource:
    """Boxes for one video from a file: a folder of per-video files (``<stem>.json``) or one file."""
    path = boxes_file / f"{video.stem}.json" if boxes_file.is_dir() else boxes_file
    if not path.exists():
        raise InputError(path, f"no boxes file for video {video.name}")
    return BoxesFileSource(load_boxes(path))
