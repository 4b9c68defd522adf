"""How closely two backends agree: poses on real crops, detector boxes, and two annotate JSON files.

An exported model is only useful if it predicts what the PyTorch model
predicts. These checks run both on the same real frames (the people of a
real video, so the crops and their motion are real; random inputs would say
little about the keypoints) and report the largest difference:

* keypoints in pixels of the model's input crop, and as a fraction of the
  person's box (the unit of PCK: 0.005 is "within 0.5 % of the box size");
* detector boxes in pixels of the frame;
* two PoseTrack files of the same input (``annotate --backend torch`` and
  ``--backend onnx``): the same people and tracks, and the largest keypoint
  and score difference.

``ftppose export`` validates its files with the first two; ``ftppose bench``
reports them beside the speed of each backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.inputs import IMAGE_SUFFIXES
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.pipeline.windows import FrameEntry, WindowScheduler

if TYPE_CHECKING:
    from ftppose_cli.detection.detector import PersonDetector

Detect = Callable[[list[np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]  # PersonDetector.predict_raw


@dataclass(frozen=True)
class PoseAgreement:
    """The largest difference between two estimators' keypoints over every window compared."""

    ratio: float
    windows: int
    max_crop_px: float  # in pixels of the model's input crop
    max_box_fraction: float  # divided by the longer side of the person's box
    max_score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DetectorAgreement:
    images: int
    boxes: int  # boxes of the reference detector
    unmatched: int  # boxes found by one detector only (a score on the threshold can tip either way)
    max_box_px: float  # largest coordinate difference of matched boxes, in frame pixels
    max_score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FileAgreement:
    """Two PoseTrack files of the same input."""

    people: tuple[int, int]  # annotations in each
    same_people: bool  # the same (frame, track) pairs in both
    max_keypoint_px: float  # over the people both have
    max_score: float

    def to_dict(self) -> dict:
        return asdict(self)


def sample_frames(path: str | Path, count: int = 8) -> list[np.ndarray]:
    """The first ``count`` frames of a video, or an image ``count`` times (a still's window repeats it)."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from ftppose_cli.video.images import read_image

        return [read_image(path)] * count
    from ftppose_cli.video.reader import VideoReader

    frames = []
    with VideoReader(path) as reader:
        for frame in reader:
            frames.append(frame.image)
            if len(frames) == count:
                break
    if not frames:
        raise InputError(path, "no frame could be decoded")
    return frames


def first_frame_people(detect: Detect, frames: list[np.ndarray], source: str | Path) -> np.ndarray:
    """The boxes ``detect`` (a :meth:`PersonDetector.predict_raw`) finds in the first frame, for every frame."""
    boxes, _ = detect([frames[0]])[0]
    if len(boxes) == 0:
        raise InputError(source, "no person found in its first frame to compare the models on")
    return np.asarray(boxes, np.float32)


def video_poses(estimator: PoseEstimator, frames: list[np.ndarray], boxes: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints, scores and crop-to-image matrices of each box's person in every frame, run as ``annotate`` runs.

    The boxes stay put and each is one track, so every frame's window holds
    the same image region at the neighbouring frames: real crops, real motion.
    """
    scheduler = WindowScheduler(estimator.window // 2)
    tracks = np.arange(len(boxes))
    xy, scores, to_image = [], [], []

    def emit(ready: list[FrameEntry]) -> None:
        if ready:
            batch = scheduler.windows(ready)
            points, score = estimator.estimate_windows(batch.windows, batch.to_image, batch.flipped)
            xy.append(points)
            scores.append(score)
            to_image.append(batch.to_image)

    for index, features in enumerate(estimator.embed_people(frames, [boxes] * len(frames))):
        emit(scheduler.push(FrameEntry(index, None, boxes, np.ones(len(boxes), np.float32), tracks, features)))
    emit(scheduler.flush())
    return np.concatenate(xy), np.concatenate(scores), np.concatenate(to_image)


def pose_agreement(reference: PoseEstimator, other: PoseEstimator, frames: list[np.ndarray],
                   boxes: np.ndarray) -> PoseAgreement:
    """The largest keypoint and score difference of ``other`` from ``reference`` at ``reference``'s ratio."""
    xy_a, scores_a, to_image = video_poses(reference, frames, boxes)
    xy_b, scores_b, _ = video_poses(other, frames, boxes)
    distance = np.linalg.norm(xy_a - xy_b, axis=-1)  # (windows, joints), image pixels
    image_px_per_crop_px = np.hypot(to_image[:, 0, 0], to_image[:, 1, 0])
    box_side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    box_side = np.tile(box_side, len(frames))
    return PoseAgreement(
        ratio=reference.pruning_ratio, windows=len(distance),
        max_crop_px=float((distance / image_px_per_crop_px[:, None]).max()),
        max_box_fraction=float((distance / box_side[:, None]).max()),
        max_score=float(np.abs(scores_a - scores_b).max()),
    )


def detector_agreement(reference: PersonDetector, other: PersonDetector, frames: list[np.ndarray]
                       ) -> DetectorAgreement:
    """Boxes of two detectors (``PersonDetector``) on the same frames, matched by IoU >= 0.5."""
    from ftppose_cli.evaluation.end_to_end import box_iou

    boxes = unmatched = 0
    worst_box = worst_score = 0.0
    for frame in frames:
        (boxes_a, scores_a), = reference.predict_raw([frame])
        (boxes_b, scores_b), = other.predict_raw([frame])
        boxes += len(boxes_a)
        if len(boxes_a) == 0 or len(boxes_b) == 0:
            unmatched += len(boxes_a) + len(boxes_b)
            continue
        iou = box_iou(boxes_a, boxes_b)
        best = iou.argmax(axis=1)
        matched = iou[np.arange(len(boxes_a)), best] >= 0.5
        unmatched += int((~matched).sum()) + len(boxes_b) - len(set(best[matched].tolist()))
        if matched.any():
            worst_box = max(worst_box, float(np.abs(boxes_a[matched] - boxes_b[best[matched]]).max()))
            worst_score = max(worst_score, float(np.abs(scores_a[matched] - scores_b[best[matched]]).max()))
    return DetectorAgreement(len(frames), boxes, unmatched, worst_box, worst_score)


def _people(path: Path) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    try:
        document = json.loads(Path(path).read_text())
        people = {}
        for annotation in document["annotations"]:
            keypoints = np.asarray(annotation["keypoints"], np.float64).reshape(-1, 3)[:, :2]
            scores = np.asarray(annotation.get("scores", []), np.float64)
            people[(int(annotation["image_id"]), int(annotation["track_id"]))] = (keypoints, scores)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(path, f"not a PoseTrack file ftppose wrote ({error})") from None
    return people


def file_agreement(a: str | Path, b: str | Path) -> FileAgreement:
    """Compare two PoseTrack files of the same input (``annotate``'s JSON from two backends)."""
    people_a, people_b = _people(Path(a)), _people(Path(b))
    common = sorted(set(people_a) & set(people_b))
    max_px = max((float(np.abs(people_a[k][0] - people_b[k][0]).max()) for k in common), default=0.0)
    max_score = max((float(np.abs(people_a[k][1] - people_b[k][1]).max()) for k in common
                     if len(people_a[k][1]) and len(people_b[k][1])), default=0.0)
    return FileAgreement((len(people_a), len(people_b)), set(people_a) == set(people_b), max_px, max_score)


@dataclass(frozen=True)
class ExportCheck:
    """``ftppose export``'s validation: the exported files against the PyTorch models on real frames."""

    sample: str
    frames: int
    people: int
    poses: list[PoseAgreement]
    detector: DetectorAgreement | None

    @property
    def max_crop_px(self) -> float:
        return max(p.max_crop_px for p in self.poses)

    def to_dict(self) -> dict:
        return {"sample": self.sample, "frames": self.frames, "people": self.people,
                "poses": [p.to_dict() for p in self.poses],
                "detector": None if self.detector is None else self.detector.to_dict()}


def check_export(pose_frames: Path, pose_window: Path, detector_onnx: Path | None, pose_weights: Path,
                 detector_weights: Path, sample: Path, ratios: tuple[float, ...] = (0.0, 0.5, 0.9),
                 frames: int = 8, threads: int | None = None) -> ExportCheck:
    """Run the exported files and the PyTorch checkpoints on the first ``frames`` frames of ``sample``.

    The people are the PyTorch detector's in the first frame; each ratio's
    keypoints are compared window by window (:func:`pose_agreement`), and the
    two detectors' boxes frame by frame (:func:`detector_agreement`).
    """
    from ftppose_cli.detection.detector import PersonDetector
    from ftppose_cli.models.ftppose import load_model
    from ftppose_cli.onnx_backend import OnnxPoseModel, load_detector

    images = sample_frames(sample, frames)
    reference_detector = PersonDetector.from_checkpoint(detector_weights)
    boxes = first_frame_people(reference_detector.predict_raw, images, sample)
    reference = PoseEstimator(load_model(pose_weights))
    exported = PoseEstimator(OnnxPoseModel(pose_frames, pose_window, threads))
    poses = []
    for ratio in ratios:
        reference.pruning_ratio = exported.pruning_ratio = ratio
        poses.append(pose_agreement(reference, exported, images, boxes))
    detector = None
    if detector_onnx is not None:
        detector = detector_agreement(reference_detector, load_detector(detector_onnx, threads=threads), images)
    return ExportCheck(str(sample), len(images), len(boxes), poses, detector)
