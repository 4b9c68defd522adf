"""ftppose: annotate videos with human poses using FTP-Pose.

The public API, re-exported so scripts need one import::

    from ftppose_cli import AnnotateOptions, build_annotator
    annotator = build_annotator(AnnotateOptions(output_dir=Path("out")))
    report = annotator.annotate("walk.mp4")
"""

from ftppose_cli.models.checkpoint import load_model, save_checkpoint
from ftppose_cli.models.ftppose import FTPPose, FTPPoseConfig, config_for, create_model, model_sizes
from ftppose_cli.pipeline.annotate import AnnotateOptions, VideoAnnotator, VideoReport
from ftppose_cli.pipeline.builder import build_annotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.pipeline.poses import PoseResult

__version__ = "0.1.0"

__all__ = [
    "AnnotateOptions", "FTPPose", "FTPPoseConfig", "PoseEstimator", "PoseResult", "VideoAnnotator", "VideoReport",
    "build_annotator", "config_for", "create_model", "load_model", "model_sizes", "save_checkpoint",
]
