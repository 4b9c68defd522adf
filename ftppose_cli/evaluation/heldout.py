"""Pose accuracy on held-out annotated still images with ground-truth boxes.

The teacher-labelled validation split shares cameras and scenes with
training; this module scores a model on human-annotated images it has never
seen (COCO-keypoint and PoseTrack18 JSON). Boxes come from the ground truth,
so the number measures the pose model alone, not the detector.

The files are read by :mod:`ftppose_cli.formats.keypoint_annotations`: the
joints a person's layout labels are the joints scored (COCO people are not
scored on head_bottom / head_top, PoseTrack people never on the ears), and
PoseTrack's ``bbox_head`` gives PCKh.

This module scores predictions and image-blind baselines; it runs no model
and imports no torch. Running the pose model on these people is
:mod:`ftppose_cli.benchmarking.heldout`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.crops import normalise_poses, place_poses
from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.pck import facing_calls, pck, pck_interval, per_joint_pck, side_agnostic_pck
from ftppose_cli.formats.joints import JOINT_INDEX, POSETRACK_JOINTS, flip_permutation
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson, load_annotated_people

PCK_THRESHOLDS: tuple[float, ...] = (0.05, 0.1, 0.2)
DIAGNOSTIC_THRESHOLD = 0.2  # per-joint and side-agnostic PCK
PCKH_THRESHOLD = 0.5
OVERALL = "overall"


@dataclass
class HeldoutSet:
    """The people of a data folder, with their images loaded once and reused across ratios."""

    root: Path
    people: list[AnnotatedPerson]
    _images: dict[Path, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def datasets(self) -> list[str]:
        return sorted({p.dataset for p in self.people})

    def image(self, path: Path) -> np.ndarray:
        if path not in self._images:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise InputError(path, "image could not be read")
            self._images[path] = image
        return self._images[path]


@dataclass(frozen=True)
class PCKScores:
    """PCK of one group of people, with the counts it rests on."""

    people: int
    joints: int
    pck: dict[float, float]
    head_people: int
    head_joints: int
    pckh: float | None
    per_joint: dict[str, float | None] = field(default_factory=dict)  # PCK@DIAGNOSTIC_THRESHOLD per joint
    side_agnostic: float | None = None  # PCK@DIAGNOSTIC_THRESHOLD accepting the mirrored joint
    facing: dict[str, int] = field(default_factory=dict)  # see evaluation.pck.facing_calls
    pck_interval: dict[float, tuple[float, float]] = field(default_factory=dict)  # 95 % bootstrap over people

    def to_dict(self) -> dict:
        t = f"{DIAGNOSTIC_THRESHOLD:g}"
        return {
            "people": self.people,
            "joints": self.joints,
            **{f"pck@{t:g}": v for t, v in self.pck.items()},
            "head_people": self.head_people,
            "head_joints": self.head_joints,
            f"pckh@{PCKH_THRESHOLD:g}": self.pckh,
            f"per_joint_pck@{t}": self.per_joint,
            f"side_agnostic_pck@{t}": self.side_agnostic,
            "facing": self.facing,
            **{f"pck@{t:g}_interval95": list(v) for t, v in self.pck_interval.items()},
        }


@dataclass(frozen=True)
class HeldoutResult:
    """Scores per dataset plus ``"overall"`` (pooled over all joints, not a mean of datasets)."""

    method: str
    scores: dict[str, PCKScores]
    pruning_ratio: float | None = None
    flip_test: bool = False
    crops: int = 0
    seconds: float = 0.0

    @property
    def overall(self) -> PCKScores:
        return self.scores[OVERALL]

    @property
    def ms_per_crop(self) -> float | None:
        """Model time per person crop (crop, backbone, windows, decoding); image loading excluded."""
        return 1000.0 * self.seconds / self.crops if self.crops else None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "pruning_ratio": self.pruning_ratio,
            "flip_test": self.flip_test,
            "crops": self.crops,
            "ms_per_crop": self.ms_per_crop,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
        }


def load_heldout(data: str | Path) -> HeldoutSet:
    """Annotated people of every COCO/PoseTrack keypoint JSON under ``data`` (a folder or one JSON file)."""
    data = Path(data)
    return HeldoutSet(data if data.is_dir() else data.parent, load_annotated_people(data))


# --------------------------------------------------------------------------- scoring


def _group_scores(people: list[AnnotatedPerson], pred: np.ndarray) -> PCKScores:
    gt = np.stack([p.keypoints for p in people])
    scored = np.stack([p.labelled for p in people])
    reference = np.array([p.reference for p in people])
    values = pck(pred, gt, scored, reference, PCK_THRESHOLDS)
    head = np.array([p.head_size is not None for p in people])
    pckh = None
    head_joints = int(scored[head].sum())
    if head.any():
        head_size = np.array([p.head_size for p in people if p.head_size is not None])
        pckh = pck(pred[head], gt[head], scored[head], head_size, (PCKH_THRESHOLD,))[PCKH_THRESHOLD]
    joints = per_joint_pck(pred, gt, scored, reference, DIAGNOSTIC_THRESHOLD)
    per_joint = {name: None if np.isnan(v) else float(v) for name, v in zip(POSETRACK_JOINTS, joints)}
    side_agnostic = side_agnostic_pck(pred, gt, scored, reference, flip_permutation(), DIAGNOSTIC_THRESHOLD)
    facing = facing_calls(pred, gt, scored, JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"])
    interval = {t: pck_interval(pred, gt, scored, reference, t) for t in PCK_THRESHOLDS}
    return PCKScores(len(people), int(scored.sum()), values, int(head.sum()), head_joints, pckh, per_joint,
                     side_agnostic, facing, interval)


def score_predictions(people: list[AnnotatedPerson], pred: np.ndarray) -> dict[str, PCKScores]:
    """PCK per dataset and overall for predictions ``(n, J, 2)`` aligned with ``people``."""
    pred = np.asarray(pred, dtype=np.float64)
    scores: dict[str, PCKScores] = {}
    for name in sorted({p.dataset for p in people}):
        index = [i for i, p in enumerate(people) if p.dataset == name]
        scores[name] = _group_scores([people[i] for i in index], pred[index])
    scores[OVERALL] = _group_scores(people, pred)
    return scores


def average_pose_predictions(people: list[AnnotatedPerson]) -> np.ndarray:
    """Leave-one-out mean pose of the other people, placed in each person's box.

    Poses are normalised by the crop the model would see (:func:`normalise_poses`),
    averaged per joint over the other people of the
    same dataset (box conventions differ between datasets), falling back to
    all other people, then to the crop centre, where a joint has no sample.
    It is the score of a model that ignores the image: a trained model that
    does not clearly beat it has not learned much. Being built from the other held-out
    people, it also knows what they share (on the PoseTrack frames: seated, seen from behind).
    """
    boxes = np.stack([p.box_xyxy for p in people])
    norm = normalise_poses(np.stack([p.keypoints for p in people]), boxes)
    weight = np.stack([p.labelled for p in people]).astype(np.float64)[..., None]
    contrib = norm * weight
    datasets = np.array([p.dataset for p in people])
    total_sum, total_count = contrib.sum(0), weight.sum(0)
    pred = np.zeros_like(norm)
    for name in np.unique(datasets):
        in_set = datasets == name
        set_sum, set_count = contrib[in_set].sum(0), weight[in_set].sum(0)
        for i in np.flatnonzero(in_set):
            loo_count = set_count - weight[i]
            mean = np.where(loo_count > 0, (set_sum - contrib[i]) / np.maximum(loo_count, 1), np.nan)
            all_count = total_count - weight[i]
            fallback = np.where(all_count > 0, (total_sum - contrib[i]) / np.maximum(all_count, 1), 0.0)
            pred[i] = np.where(np.isnan(mean), fallback, mean)
    return place_poses(pred, boxes)


def average_pose_baseline(data: HeldoutSet | str | Path) -> HeldoutResult:
    """The average-pose reference line (see :func:`average_pose_predictions`)."""
    heldout = data if isinstance(data, HeldoutSet) else load_heldout(data)
    return HeldoutResult("average pose", score_predictions(heldout.people, average_pose_predictions(heldout.people)))


def fixed_pose_baseline(data: HeldoutSet | str | Path, pose: np.ndarray,
                        method: str = "training mean pose") -> HeldoutResult:
    """One normalised pose ``(17, 2)`` (:func:`normalise_poses`) placed in every person's box.

    With the mean pose of a model's training people (``CropCache.mean_pose``) this is an
    image-blind model that knows only what the trained model could know, unlike the leave-one-out
    line of :func:`average_pose_baseline`, which also knows the held-out people's own poses.
    """
    heldout = data if isinstance(data, HeldoutSet) else load_heldout(data)
    boxes = np.stack([p.box_xyxy for p in heldout.people])
    return HeldoutResult(method, score_predictions(heldout.people, place_poses(pose, boxes)))
