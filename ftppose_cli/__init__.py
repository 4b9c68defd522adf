"""ftppose: annotate videos with human poses using FTP-Pose.

The public API, re-exported so scripts need one import::

    from ftppose_cli import AnnotateOptions, build_annotator
    annotator = build_annotator(AnnotateOptions(output_dir=Path("out"), pruning_ratio=0.5))
    report = annotator.annotate("walk.mp4")     # or "photo.jpg"; part of it:
    # AnnotateOptions(..., selection=FrameRange(parse_position("12.5s"), parse_position("1:00"), stride=2))

Everything in ``__all__`` is public; other modules may change. Names are
imported on first use, so ``import ftppose_cli`` (and ``ftppose --help``) does
not pay for torch and timm; the imports under ``TYPE_CHECKING`` are the same
names for type checkers and editors (``tests/test_api.py`` keeps the lists
equal).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    # annotating videos and images
    "AnnotateInput", "AnnotateOptions", "FrameRange", "VideoAnnotator", "VideoReport", "build_annotator",
    "expand_inputs", "parse_position",
    # the networks, their weights and the estimator
    "FTPPose", "FTPPoseConfig", "NETWORKS", "PersonDetector", "PoseEstimator", "PoseResult", "config_for",
    "create_model", "default_detector_weights", "default_pose_weights", "load_model", "save_weights",
    # frames, joints, scores, errors
    "POSETRACK_JOINTS", "VideoReader", "evaluate_folders", "FtpposeError",
]

if TYPE_CHECKING:
    from ftppose_cli.detection.detector import PersonDetector
    from ftppose_cli.errors import FtpposeError
    from ftppose_cli.evaluation.scoring import evaluate_folders
    from ftppose_cli.formats.joints import POSETRACK_JOINTS
    from ftppose_cli.inputs import AnnotateInput, expand_inputs
    from ftppose_cli.models.ftppose import FTPPose, FTPPoseConfig, config_for, create_model, load_model
    from ftppose_cli.pipeline.annotator import AnnotateOptions, VideoAnnotator, VideoReport
    from ftppose_cli.pipeline.builder import build_annotator
    from ftppose_cli.pipeline.estimator import PoseEstimator
    from ftppose_cli.poses import PoseResult
    from ftppose_cli.runtime import default_detector_weights, default_pose_weights
    from ftppose_cli.video.frame_range import FrameRange, parse_position
    from ftppose_cli.video.reader import VideoReader
    from ftppose_cli.weights import NETWORKS, save_weights

_MODULES: dict[str, tuple[str, ...]] = {  # where each public name lives, for the lazy import
    "ftppose_cli.detection.detector": ("PersonDetector",),
    "ftppose_cli.errors": ("FtpposeError",),
    "ftppose_cli.evaluation.scoring": ("evaluate_folders",),
    "ftppose_cli.formats.joints": ("POSETRACK_JOINTS",),
    "ftppose_cli.inputs": ("AnnotateInput", "expand_inputs"),
    "ftppose_cli.models.ftppose": ("FTPPose", "FTPPoseConfig", "config_for", "create_model", "load_model"),
    "ftppose_cli.pipeline.annotator": ("AnnotateOptions", "VideoAnnotator", "VideoReport"),
    "ftppose_cli.pipeline.builder": ("build_annotator",),
    "ftppose_cli.pipeline.estimator": ("PoseEstimator",),
    "ftppose_cli.poses": ("PoseResult",),
    "ftppose_cli.runtime": ("default_detector_weights", "default_pose_weights"),
    "ftppose_cli.video.frame_range": ("FrameRange", "parse_position"),
    "ftppose_cli.video.reader": ("VideoReader",),
    "ftppose_cli.weights": ("NETWORKS", "save_weights"),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ftppose_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
