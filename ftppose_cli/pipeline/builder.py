"""Assemble an annotator from its options: the one place the default weights and device are resolved."""

from __future__ import annotations

from pathlib import Path

from ftppose_cli.errors import CheckpointError, InputError
from ftppose_cli.formats.detections import load_boxes
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotator import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, resolve_device


def build_annotator(options: AnnotateOptions) -> VideoAnnotator:
    """Load the pose model (and the detector unless boxes come from files) that ``options`` name onto its device.

    A detector input size (``options.detector_input_size``) sets the range of
    person sizes it finds best: smaller for close-ups of large people (which a
    large input splits into part boxes), larger for small people far away.
    """
    torch_device = resolve_device(options.device)
    pose_path = options.weights or default_pose_weights()
    if not Path(pose_path).with_suffix(".safetensors").exists() and not Path(pose_path).with_suffix(".json").exists():
        raise CheckpointError(pose_path, "pose weights not found (pass --weights PATH)")
    model = load_model(pose_path, device=torch_device)
    estimator = PoseEstimator(model, torch_device, pruning_ratio=options.pruning_ratio, half=options.half,
                              flip_test=options.flip_test)
    people = None
    if options.use_detector:
        from ftppose_cli.detection.detector import PersonDetector

        people = PersonDetector.from_checkpoint(options.detector or default_detector_weights(), device=torch_device,
                                                min_box_score=options.min_box_score,
                                                input_size=options.detector_input_size)
    return VideoAnnotator(estimator, people, options)


def build_person_source(boxes_file: Path, video: Path) -> BoxesFileSource:
    """Boxes for one video from a file: a folder of per-video files (``<stem>.json``) or one file."""
    path = boxes_file / f"{video.stem}.json" if boxes_file.is_dir() else boxes_file
    if not path.exists():
        raise InputError(path, f"no boxes file for video {video.name}")
    return BoxesFileSource(load_boxes(path))
