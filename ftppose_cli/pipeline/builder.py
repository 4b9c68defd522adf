"""Assemble an annotator from its options: the one place the default weights and device are resolved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ftppose_cli.errors import CheckpointError, FtpposeError, InputError
from ftppose_cli.formats.detections import load_boxes
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotator import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, resolve_device

BACKENDS = ("torch", "onnx")


def build_annotator(options: AnnotateOptions, on_export: Callable[[str], None] | None = None) -> VideoAnnotator:
    """Load the pose model (and the detector unless boxes come from files) that ``options`` name onto its device.

    Detector input sizes (``options.detector_input_sizes``) replace the detector's
    stored ones: smaller for close-ups of large people (which a large input splits
    into part boxes), larger for small people far away, several to merge both.

    ``options.backend == "onnx"`` runs both on ONNX Runtime on the CPU with
    ``options.threads`` intra-op threads: ``options.weights`` may then also be a
    folder ``ftppose export`` wrote (its ``detector.onnx`` is used unless
    ``options.detector`` is given); checkpoints are exported on first use
    (:func:`ftppose_cli.onnx_backend.onnx_models`, which tells ``on_export``).
    """
    if options.backend not in BACKENDS:
        raise FtpposeError(None, f"unknown backend {options.backend!r}; choose one of {', '.join(BACKENDS)}")
    pose_path = Path(options.weights or default_pose_weights())
    export_folder = options.backend == "onnx" and pose_path.is_dir()
    if not export_folder and not pose_path.with_suffix(".safetensors").exists() \
            and not pose_path.with_suffix(".json").exists():
        raise CheckpointError(pose_path, "pose weights not found (pass --weights PATH)")
    if options.backend == "onnx":
        return _build_onnx_annotator(options, pose_path, on_export)
    torch_device = resolve_device(options.device)
    model = load_model(pose_path, device=torch_device)
    estimator = PoseEstimator(model, torch_device, pruning_ratio=options.pruning_ratio, half=options.half,
                              flip_test=options.flip_test)
    people = None
    if options.use_detector:
        from ftppose_cli.detection.detector import PersonDetector

        people = PersonDetector.from_checkpoint(options.detector or default_detector_weights(), device=torch_device,
                                                min_box_score=options.min_box_score,
                                                input_sizes=options.detector_input_sizes)
    return VideoAnnotator(estimator, people, options)


def _build_onnx_annotator(options: AnnotateOptions, pose_path: Path,
                          on_export: Callable[[str], None] | None) -> VideoAnnotator:
    from ftppose_cli.export import DETECTOR
    from ftppose_cli.onnx_backend import OnnxPoseModel, is_export_folder, load_detector, onnx_models, onnxruntime_module

    onnxruntime_module()  # a missing ONNX Runtime is said before anything is exported
    detector, use_detector, threads = options.detector, options.use_detector, options.threads
    if options.device not in ("auto", "cpu"):
        raise FtpposeError(None, "--backend onnx runs on the CPU (ONNX Runtime's CPU provider), "
                                 f"not on {options.device!r}; leave --device out or give cpu")
    if use_detector and detector is None and not (is_export_folder(pose_path) and (pose_path / DETECTOR).is_file()):
        detector = default_detector_weights()
    files = onnx_models(pose_path, detector if use_detector else None, on_export)
    estimator = PoseEstimator(OnnxPoseModel(files.pose_frames, files.pose_window, threads), "cpu",
                              pruning_ratio=options.pruning_ratio, half=options.half, flip_test=options.flip_test)
    people = None
    if use_detector and files.detector is not None:
        people = load_detector(files.detector, min_box_score=options.min_box_score,
                               input_sizes=options.detector_input_sizes, threads=threads)
    return VideoAnnotator(estimator, people, options)


def build_person_source(boxes_file: Path, video: Path) -> BoxesFileSource:
    """Boxes for one video from a file: a folder of per-video files (``<stem>.json``) or one file."""
    path = boxes_file / f"{video.stem}.json" if boxes_file.is_dir() else boxes_file
    if not path.exists():
        raise InputError(path, f"no boxes file for video {video.name}")
    return BoxesFileSource(load_boxes(path))
