"""ftppose: annotate videos with human poses using FTP-Pose.

The public API, re-exported so scripts need one import::

    from ftppose_cli import AnnotateOptions, build_annotator
    annotator = build_annotator(AnnotateOptions(output_dir=Path("out")))
    report = annotator.annotate("walk.mp4")     # or "photo.jpg"; part of it:
    # AnnotateOptions(..., selection=FrameRange(parse_position("12.5s"), parse_position("1:00"), stride=2))

Names are resolved on first use, so ``ftppose --help`` does not pay for
importing torch and timm.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "load_model": "ftppose_cli.models.ftppose",
    "save_weights": "ftppose_cli.weights",
    "FTPPose": "ftppose_cli.models.ftppose",
    "FTPPoseConfig": "ftppose_cli.models.ftppose",
    "config_for": "ftppose_cli.models.ftppose",
    "create_model": "ftppose_cli.models.ftppose",
    "AnnotateOptions": "ftppose_cli.pipeline.annotator",
    "VideoAnnotator": "ftppose_cli.pipeline.annotator",
    "VideoReport": "ftppose_cli.pipeline.annotator",
    "build_annotator": "ftppose_cli.pipeline.builder",
    "PoseEstimator": "ftppose_cli.pipeline.estimator",
    "PoseResult": "ftppose_cli.poses",
    "AnnotateInput": "ftppose_cli.inputs",
    "expand_inputs": "ftppose_cli.inputs",
    "FrameRange": "ftppose_cli.video.frame_range",
    "parse_position": "ftppose_cli.video.frame_range",
    "evaluate_folders": "ftppose_cli.evaluation.scoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ftppose_cli' has no attribute {name!r}")
