"""End-to-end pose accuracy: a detector finds the people, the pose model runs on its boxes.

The held-out PCK of :mod:`ftppose_cli.evaluation.heldout` hands the pose model the ground-truth
boxes, so it measures the pose model alone. A user's skeletons also depend on the detector:
who it finds, and how its boxes sit on them. This module scores the pair.

* Each image's detections are matched one-to-one to its annotated people, greedily by detection
  score (the rule of the detector's own held-out measurement): a detection takes the
  still-unmatched person whose ground-truth box it overlaps most, if that IoU is at least 0.5.
* The pose model runs on the matched detection boxes.
* PCK counts every labelled joint of every annotated person, against the ground-truth box's
  longer side as in the held-out figures: the joints of a person no detection matched are misses.
  Detections that match nobody (false positives, unannotated people) cost nothing here; the
  detector's precision is measured by ``benchmarks/measure_detector.py``.

It imports neither torch nor a model: the detector and the pose model come in as callables, so
the benchmark runs ours and the teachers through the same code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ftppose_cli.evaluation.bootstrap import ratio_interval
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson

MATCH_IOU = 0.5
E2E_THRESHOLDS: tuple[float, ...] = (0.1, 0.2)
OVERALL = "overall"

# image -> (boxes (n, 4) xyxy, scores (n,)) in image pixels
Detect = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# image, boxes (k, 4) -> joints (k, J, 2) in image pixels
Estimate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m)`` IoU of xyxy boxes ``a (n, 4)`` and ``b (m, 4)``."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_people(gt_boxes: np.ndarray, det_boxes: np.ndarray, det_scores: np.ndarray,
                 iou_threshold: float = MATCH_IOU) -> np.ndarray:
    """For each ground-truth box, the index of the detection matched to it, or -1.

    Greedy by detection score, one-to-one: in order of falling score, each detection takes the
    unmatched ground-truth box it overlaps most, if that IoU is at least ``iou_threshold``.
    """
    gt_boxes = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    det_boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)
    matched = np.full(len(gt_boxes), -1, np.int64)
    if not len(gt_boxes) or not len(det_boxes):
        return matched
    ious = box_iou(det_boxes, gt_boxes)
    for d in np.argsort(-np.asarray(det_scores, np.float64), kind="stable"):
        candidates = np.where(matched < 0, ious[d], -1.0)
        g = int(candidates.argmax())
        if candidates[g] >= iou_threshold:
            matched[g] = d
    return matched


@dataclass(frozen=True)
class EndToEndPredictions:
    """Joints ``(n, J, 2)`` for the annotated people (NaN where not found), whether each was found,
    the matched detection box ``(n, 4)`` (NaN where not found) and the number of detections per image."""

    pred: np.ndarray
    found: np.ndarray
    boxes: np.ndarray
    detections: dict[Path, int]
    seconds_detect: float = 0.0
    seconds_pose: float = 0.0


def predict_end_to_end(people: list[AnnotatedPerson], image: Callable[[Path], np.ndarray], detect: Detect,
                       estimate: Estimate, iou_threshold: float = MATCH_IOU) -> EndToEndPredictions:
    """Detect on every image of ``people``, match, and run ``estimate`` on the matched detection boxes."""
    n = len(people)
    joints = people[0].keypoints.shape[0] if n else 0
    pred = np.full((n, joints, 2), np.nan, np.float64)
    found = np.zeros(n, bool)
    boxes = np.full((n, 4), np.nan, np.float64)
    by_image: dict[Path, list[int]] = {}
    for i, person in enumerate(people):
        by_image.setdefault(person.image, []).append(i)
    detections: dict[Path, int] = {}
    seconds_detect = seconds_pose = 0.0
    for path, index in by_image.items():
        picture = image(path)
        start = time.perf_counter()
        det_boxes, det_scores = detect(picture)
        seconds_detect += time.perf_counter() - start
        det_boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)
        detections[path] = len(det_boxes)
        matched = match_people(np.stack([people[i].box_xyxy for i in index]), det_boxes, det_scores, iou_threshold)
        hit = [(i, d) for i, d in zip(index, matched) if d >= 0]
        if not hit:
            continue
        given = np.stack([det_boxes[d] for _, d in hit])
        start = time.perf_counter()
        xy = np.asarray(estimate(picture, given), np.float64)
        seconds_pose += time.perf_counter() - start
        for k, (i, _) in enumerate(hit):
            pred[i], found[i], boxes[i] = xy[k], True, given[k]
    return EndToEndPredictions(pred, found, boxes, detections, seconds_detect, seconds_pose)


@dataclass(frozen=True)
class EndToEndScores:
    """PCK of one group over all labelled joints, with the people found and the counts it rests on."""

    people: int
    found: int
    joints: int
    pck: dict[float, float]
    pck_interval: dict[float, tuple[float, float]] = field(default_factory=dict)  # 95 % bootstrap over people

    def to_dict(self) -> dict:
        return {"people": self.people, "found": self.found, "joints": self.joints,
                **{f"pck@{t:g}": v for t, v in self.pck.items()},
                **{f"pck@{t:g}_interval95": list(v) for t, v in self.pck_interval.items()}}


def _group(people: list[AnnotatedPerson], pred: np.ndarray, found: np.ndarray,
           thresholds: tuple[float, ...]) -> EndToEndScores:
    gt = np.stack([p.keypoints for p in people]).astype(np.float64)
    labelled = np.stack([p.labelled for p in people])
    reference = np.array([p.reference for p in people], np.float64)
    dist = np.linalg.norm(pred - gt, axis=-1) / reference[:, None]
    dist = np.where(found[:, None] & np.isfinite(dist), dist, np.inf)  # not found: every joint missed
    total = labelled.sum(1)
    values, intervals = {}, {}
    for t in thresholds:
        hits = ((dist <= t) & labelled).sum(1)
        values[t] = float(hits.sum() / max(int(total.sum()), 1))
        intervals[t] = ratio_interval(hits, total)
    return EndToEndScores(len(people), int(found.sum()), int(total.sum()), values, intervals)


def score_end_to_end(people: list[AnnotatedPerson], pred: np.ndarray, found: np.ndarray,
                     thresholds: tuple[float, ...] = E2E_THRESHOLDS) -> dict[str, EndToEndScores]:
    """End-to-end PCK per dataset and ``"overall"`` (pooled joints); people not ``found`` score 0."""
    pred, found = np.asarray(pred, np.float64), np.asarray(found, bool)
    scores: dict[str, EndToEndScores] = {}
    for name in sorted({p.dataset for p in people}):
        index = [i for i, p in enumerate(people) if p.dataset == name]
        scores[name] = _group([people[i] for i in index], pred[index], found[index], thresholds)
    scores[OVERALL] = _group(people, pred, found, thresholds)
    return scores
