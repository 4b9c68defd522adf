"""End-to-end pose accuracy: a detector finds the people, the pose model runs on its boxes.

The held-out PCK of :mod:`ftppose_cli.evaluation.heldout` hands the pose model the ground-truth
boxes, so it measures the pose model alone. A user's skeletons also depend on the detector:
who it finds, and how its boxes sit on them. This module scores the pair.

* Each image's detections are matched one-to-one to its annotated people, greedily by detection
  score (the rule of the detector's own held-out measurement): a detection takes the
  still-unmatched person whose ground-truth box it overlaps most, if that IoU is at least 0.5.
* The pose model runs on the matched detection boxes
  (:func:`ftppose_cli.benchmarking.heldout.predict_end_to_end`, which uses :func:`match_people`).
* PCK counts every labelled joint of every annotated person, against the ground-truth box's
  longer side as in the held-out figures: the joints of a person no detection matched are misses.
  Detections that match nobody (false positives, unannotated people) cost nothing here; the
  detector's precision is measured by ``benchmarks/measure_detector.py``.

Matching and scoring only: no model runs here and torch is never imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ftppose_cli.evaluation.bootstrap import ratio_interval
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson

MATCH_IOU = 0.5
E2E_THRESHOLDS: tuple[float, ...] = (0.1, 0.2)
OVERALL = "overall"


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
