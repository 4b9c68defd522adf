"""Assemble an annotator from paths and flags: the one place defaults are resolved."""

from __future__ import annotations

from pathlib import Path

from ftppose_cli.errors import CheckpointError, InputError
from ftppose_cli.formats.detections import load_boxes
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotate import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, resolve_device


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
) -> VideoAnnotator:
    """Load the pose model (and the detector unless boxes come from files) onto the device.

    ``det_thr`` and ``det_size`` None keep the detector's own threshold and input size. The
    input size sets the range of person sizes it finds best: smaller for close-ups of large people
    (which a large input splits into part boxes), larger for small people far away.
    """
    torch_device = resolve_device(device)
    pose_path = weights or default_pose_weights()
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


def build_person_source(boxes_file: Path, video: Path) -> BoxesFileSource:
    """Boxes for one video from a file: a folder of per-video files (``<stem>.json``) or one file."""
    path = boxes_file / f"{video.stem}.json" if boxes_file.is_dir() else boxes_file
    if not path.exists():
        raise InputError(path, f"no boxes file for video {video.name}")
    return BoxesFileSource(load_boxes(path))
