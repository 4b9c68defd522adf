"""Pose accuracy on held-out annotated still images with ground-truth boxes.

The teacher-labelled validation split shares cameras and scenes with
training; this module scores a model on human-annotated images it has never
seen (COCO-keypoint and PoseTrack18 JSON). Boxes come from the ground truth,
so the number measures the pose model alone, not the detector.

Two formats are read, told apart by the joint names of their ``categories``
entry (not by file names, so any folder of such files works):

* COCO keypoints: the 17 COCO joints mapped onto ours with
  :data:`COCO_TO_POSETRACK`; only joints both sets have are scored (the eyes
  have no PoseTrack joint; head_bottom and head_top no COCO joint).
* PoseTrack18: our own joint order; every joint is scored except the ears,
  which PoseTrack never annotates. ``bbox_head`` gives PCKh.

Every person is cropped exactly as the video pipeline crops it and run on a
K-frame window made by repeating the still (:meth:`PoseEstimator.estimate_stills`),
so window-3 models are scored with the same code as single-frame ones.

The same person often appears in several files of a dataset folder (mmpose's
test data ships COCO, COCO-WholeBody and a partition-metric copy of the same
people; PoseTrack ships one file per sequence plus a merged one), so people
are de-duplicated by image, box and keypoints.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.pck import pck, per_joint_pck, side_agnostic_pck
from ftppose_cli.formats.joints import (
    COCO_JOINTS, COCO_TO_POSETRACK, JOINT_INDEX, NUM_JOINTS, POSETRACK_JOINTS, flip_permutation,
)
from ftppose_cli.models.ftppose import FTPPose
from ftppose_cli.pipeline.crops import box_to_center_scale
from ftppose_cli.pipeline.estimator import PoseEstimator

PCK_THRESHOLDS: tuple[float, ...] = (0.05, 0.1, 0.2)
DIAGNOSTIC_THRESHOLD = 0.2  # per-joint and side-agnostic PCK
PCKH_THRESHOLD = 0.5
# MPII / PoseTrack convention: the head size is 60% of the head box diagonal.
HEAD_SIZE_FACTOR = 0.6
OVERALL = "overall"

_POSETRACK_UNSCORED = (JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"])


@dataclass(frozen=True)
class HeldoutPerson:
    """One annotated person, with joints already in our (PoseTrack 17) order.

    ``scored`` marks the joints that are labelled and belong to the scored set
    of the person's format; ``head_size`` is None where there is no head box.
    """

    dataset: str
    image: Path
    box_xyxy: np.ndarray  # (4,)
    keypoints: np.ndarray  # (J, 2)
    scored: np.ndarray  # (J,) bool
    head_size: float | None

    @property
    def reference(self) -> float:
        """The PCK reference length: the box's longer side."""
        return float(max(self.box_xyxy[2] - self.box_xyxy[0], self.box_xyxy[3] - self.box_xyxy[1]))


@dataclass
class HeldoutSet:
    """The people of a data folder, with their images loaded once and reused across ratios."""

    root: Path
    people: list[HeldoutPerson]
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
        }


@dataclass(frozen=True)
class HeldoutResult:
    """Scores per dataset plus ``"overall"`` (pooled over all joints, not a mean of datasets)."""

    method: str
    scores: dict[str, PCKScores]
    epsilon: float | None = None
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
            "epsilon": self.epsilon,
            "flip_test": self.flip_test,
            "crops": self.crops,
            "ms_per_crop": self.ms_per_crop,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
        }


# --------------------------------------------------------------------------- reading


def _joint_format(document: dict) -> str | None:
    """``"coco"`` or ``"posetrack18"`` from the person category's joint names; None for anything else."""
    for category in document.get("categories", []):
        names = tuple(category.get("keypoints", ()))
        if names[: len(COCO_JOINTS)] == COCO_JOINTS and len(names) == len(COCO_JOINTS):
            return "coco"
        if names == POSETRACK_JOINTS:
            return "posetrack18"
    return None


def _resolve_image(file_name: str, json_path: Path, root: Path) -> Path | None:
    """Image paths are relative to the JSON's folder (COCO) or to a dataset root above it (PoseTrack)."""
    folder = json_path.parent
    while True:
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
        if folder == root or folder == folder.parent or root not in folder.parents:
            return None
        folder = folder.parent


def _xywh_to_xyxy(box) -> np.ndarray | None:
    if box is None or len(box) != 4:
        return None
    x, y, w, h = (float(v) for v in box)
    if w <= 0 or h <= 0:
        return None
    return np.array([x, y, x + w, y + h], dtype=np.float32)


def _person(annotation: dict, fmt: str, dataset: str, image: Path) -> HeldoutPerson | None:
    raw = annotation.get("keypoints")
    if annotation.get("iscrowd") or not raw or len(raw) != 3 * NUM_JOINTS:
        return None
    source = np.asarray(raw, dtype=np.float32).reshape(-1, 3)
    keypoints = np.zeros((NUM_JOINTS, 2), np.float32)
    scored = np.zeros(NUM_JOINTS, bool)
    if fmt == "coco":
        for c, p in COCO_TO_POSETRACK.items():
            keypoints[p] = source[c, :2]
            scored[p] = source[c, 2] > 0
    else:
        keypoints[:] = source[:, :2]
        scored[:] = source[:, 2] > 0
        scored[list(_POSETRACK_UNSCORED)] = False
    if not scored.any():
        return None
    box = _xywh_to_xyxy(annotation.get("bbox"))
    if box is None:  # no box: the tight box around the labelled joints
        pts = keypoints[scored]
        box = np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float32)
    if max(box[2] - box[0], box[3] - box[1]) < 1.0:
        return None
    head = _xywh_to_xyxy(annotation.get("bbox_head"))
    head_size = None if head is None else float(HEAD_SIZE_FACTOR * np.hypot(head[2] - head[0], head[3] - head[1]))
    return HeldoutPerson(dataset, image, box, keypoints, scored, head_size)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not readable JSON ({exc})") from None


def load_heldout(data: str | Path) -> HeldoutSet:
    """Annotated people of every COCO/PoseTrack keypoint JSON under ``data`` (a folder or one JSON file).

    The dataset name of a person is the first folder of its JSON under
    ``data`` (e.g. ``mmpose_coco``), or the format name for a JSON directly in it.
    """
    data = Path(data)
    if not data.exists():
        raise InputError(data, "no such file or folder")
    root = data if data.is_dir() else data.parent
    files = sorted(data.rglob("*.json")) if data.is_dir() else [data]
    people: list[HeldoutPerson] = []
    seen: set[tuple] = set()
    for path in files:
        document = _read_json(path)
        if not isinstance(document, dict) or not {"images", "annotations"} <= set(document):
            continue  # detections, results and other JSON that hold no ground truth
        fmt = _joint_format(document)
        if fmt is None:
            continue
        relative = path.relative_to(root).parts
        dataset = relative[0] if len(relative) > 1 else fmt
        images = {img["id"]: img for img in document["images"] if "id" in img and "file_name" in img}
        resolved: dict[object, Path] = {}
        for annotation in document["annotations"]:
            image_entry = images.get(annotation.get("image_id"))
            if image_entry is None:
                continue
            image_id = image_entry["id"]
            if image_id not in resolved:
                found = _resolve_image(image_entry["file_name"], path, root)
                if found is None:
                    raise InputError(path, f"image {image_entry['file_name']!r} not found beside it or above it")
                resolved[image_id] = found.resolve()
            person = _person(annotation, fmt, dataset, resolved[image_id])
            if person is None:
                continue
            key = (person.image, tuple(np.round(person.box_xyxy, 1)), np.round(person.keypoints, 1).tobytes())
            if key in seen:
                continue
            seen.add(key)
            people.append(person)
    if not people:
        raise InputError(data, "no annotated people found (expected COCO or PoseTrack18 keypoint JSON)")
    return HeldoutSet(root, people)


# --------------------------------------------------------------------------- scoring


def _group_scores(people: list[HeldoutPerson], pred: np.ndarray) -> PCKScores:
    gt = np.stack([p.keypoints for p in people])
    scored = np.stack([p.scored for p in people])
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
    return PCKScores(len(people), int(scored.sum()), values, int(head.sum()), head_joints, pckh, per_joint,
                     side_agnostic)


def score_predictions(people: list[HeldoutPerson], pred: np.ndarray) -> dict[str, PCKScores]:
    """PCK per dataset and overall for predictions ``(n, J, 2)`` aligned with ``people``."""
    pred = np.asarray(pred, dtype=np.float64)
    scores: dict[str, PCKScores] = {}
    for name in sorted({p.dataset for p in people}):
        index = [i for i, p in enumerate(people) if p.dataset == name]
        scores[name] = _group_scores([people[i] for i in index], pred[index])
    scores[OVERALL] = _group_scores(people, pred)
    return scores


def predict_people(heldout: HeldoutSet, estimator: PoseEstimator) -> tuple[np.ndarray, float]:
    """Image-pixel predictions ``(n, J, 2)`` for every person, and the seconds spent in the model."""
    by_image: dict[Path, list[int]] = {}
    for i, person in enumerate(heldout.people):
        by_image.setdefault(person.image, []).append(i)
    pred = np.zeros((len(heldout.people), NUM_JOINTS, 2), np.float32)
    seconds = 0.0
    for path, index in by_image.items():
        image = heldout.image(path)
        boxes = np.stack([heldout.people[i].box_xyxy for i in index])
        start = time.perf_counter()
        ((xy, _),) = estimator.estimate_stills([image], [boxes])
        seconds += time.perf_counter() - start
        pred[index] = xy
    return pred, seconds


def evaluate_heldout(
    model: FTPPose,
    data: HeldoutSet | str | Path,
    epsilon: float = 0.0,
    flip_test: bool = False,
    device: torch.device | str = "cpu",
    half: bool = False,
) -> HeldoutResult:
    """PCK@0.05/0.1/0.2 (box's longer side) and PCKh@0.5 of ``model`` at pruning ratio ``epsilon``."""
    heldout = data if isinstance(data, HeldoutSet) else load_heldout(data)
    estimator = PoseEstimator(model, device=device, epsilon=epsilon, half=half, flip_test=flip_test)
    pred, seconds = predict_people(heldout, estimator)
    return HeldoutResult("model", score_predictions(heldout.people, pred), epsilon, flip_test,
                         crops=len(heldout.people), seconds=seconds)


def average_pose_predictions(people: list[HeldoutPerson]) -> np.ndarray:
    """Leave-one-out mean pose of the other people, placed in each person's box.

    Poses are normalised by the crop the model would see (box centre and the
    aspect-padded crop size), averaged per joint over the other people of the
    same dataset (box conventions differ between datasets), falling back to
    all other people, then to the crop centre, where a joint has no sample.
    It is the score of a model that ignores the image: a trained model that
    does not clearly beat it has not learned much.
    """
    centers, sizes = box_to_center_scale(np.stack([p.box_xyxy for p in people]))
    norm = (np.stack([p.keypoints for p in people]) - centers[:, None]) / sizes[:, None]
    weight = np.stack([p.scored for p in people]).astype(np.float64)[..., None]
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
    return (pred * sizes[:, None] + centers[:, None]).astype(np.float32)


def average_pose_baseline(data: HeldoutSet | str | Path) -> HeldoutResult:
    """The average-pose reference line (see :func:`average_pose_predictions`)."""
    heldout = data if isinstance(data, HeldoutSet) else load_heldout(data)
    return HeldoutResult("average pose", score_predictions(heldout.people, average_pose_predictions(heldout.people)))
