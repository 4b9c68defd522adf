"""Keypoint HOTA (HOTA, DetA, AssA, LocA) exactly as the PoseTrack21 kit computes it.

The rules, from the kit's ``trackeval/metrics/hota_pose.py`` (``HOTAeypoints``)
and its sequence combination:

* Every joint is tracked on its own. Similarity of a ground-truth and a
  predicted joint = max(0, 1 - d / 0.5001), d in head sizes (0 where either is
  missing), so only hits within 0.5 head sizes are similar at all.
* Per labelled frame and joint, the kit's Hungarian matching
  (``scipy.optimize.linear_sum_assignment``, maximum total similarity) pairs
  people; for each alpha in 0.05, 0.10 ... 0.95 a pair with similarity >=
  alpha is a true positive, other ground-truth joints misses, other predicted
  joints false positives. LocA sums the similarities of the true positives.
* AssA: per (ground-truth id, predicted id) pair, matches / (joints of the
  ground-truth id + joints of the predicted id - matches) over the sequence,
  averaged over true positives. DetA = TP / (TP + FN + FP); HOTA =
  sqrt(DetA x AssA). Reported numbers are means over alpha, in percent.
* Sequences combine by summing TP / FN / FP and weighting AssA and LocA by
  TP. The kit's "Total" is not a mean of the joint columns: per sequence it
  appends a column (counts summed over joints, AssA and LocA averaged over
  joints) and combines that column like any joint, so Total HOTA =
  sqrt(DetA of all joints' counts x TP-weighted mean of per-sequence AssA).

Quirks kept so the numbers agree: a labelled frame with ground truth but no
predictions adds the whole sequence's ground-truth joints as misses (every
alpha), and a sequence without any prediction has HOTA 0 and LocA 1. The kit
stops on a labelled frame without ground-truth people (it reads head sizes
that are not there); here its predicted joints are false positives, which is
what the kit's branch for such a frame was written to do.
The kit's matching is only called where some joint has two candidates;
elsewhere every similar pair is in any optimum, so it is taken directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

ALPHAS = np.arange(0.05, 0.99, 0.05)  # the kit's thresholds, 0.05 ... 0.95 (19)
SIMILARITY_SLOPE = -1 / 0.5001  # the kit's distance2sim: similarity 0 just past 0.5 head sizes
EPS = np.finfo("float").eps
FIELDS = ("HOTA", "DetA", "AssA", "LocA")


@dataclass(frozen=True)
class HotaCounts:
    """One sequence's (or the combined) per-alpha arrays, (19, J + 1): J joints, then the kit's total column."""

    true_positives: np.ndarray
    misses: np.ndarray
    false_positives: np.ndarray
    association: np.ndarray  # AssA
    localisation: np.ndarray  # LocA


def sequence_counts(distances: np.ndarray, gt_present: np.ndarray, pred_present: np.ndarray, gt_ids: np.ndarray,
                    pred_ids: np.ndarray, gt_count: np.ndarray, pred_count: np.ndarray) -> HotaCounts:
    """The kit's ``eval_sequence`` for one sequence's labelled frames.

    ``distances (F, P, G, J)`` in head sizes (inf where either joint is
    missing), ``gt_present (F, G, J)``, ``pred_present (F, P, J)``, track ids
    ``(F, G)`` / ``(F, P)``; people beyond ``gt_count`` / ``pred_count`` in a
    frame are padding.
    """
    joints = distances.shape[3]
    alphas = len(ALPHAS)
    gt_joints = gt_present.sum(axis=(0, 1))  # (J,) whole sequence
    zeros = np.zeros((alphas, joints))
    if not pred_count.sum():
        return _with_total(zeros, zeros + gt_joints, zeros.copy(), zeros.copy(), np.ones((alphas, joints)))

    gt_real = np.arange(gt_ids.shape[1])[None, :] < gt_count[:, None]
    pred_real = np.arange(pred_ids.shape[1])[None, :] < pred_count[:, None]
    gt_labels, gt_index = np.unique(gt_ids[gt_real], return_inverse=True)
    pred_labels, pred_index = np.unique(pred_ids[pred_real], return_inverse=True)
    gt_slot = np.zeros(gt_ids.shape, np.int64)
    gt_slot[gt_real] = gt_index
    pred_slot = np.zeros(pred_ids.shape, np.int64)
    pred_slot[pred_real] = pred_index
    gt_id_joints = np.zeros((len(gt_labels), joints))
    np.add.at(gt_id_joints, gt_slot[gt_real], gt_present[gt_real])
    pred_id_joints = np.zeros((len(pred_labels), joints))
    np.add.at(pred_id_joints, pred_slot[pred_real], pred_present[pred_real])

    no_gt = gt_count == 0
    no_pred = ~no_gt & (pred_count == 0)
    matched = ~no_gt & ~no_pred
    misses = zeros + no_pred.sum() * gt_joints + gt_present[matched].sum(axis=(0, 1))
    false_positives = zeros + pred_present.sum(axis=(0, 1))

    similarity = np.maximum(SIMILARITY_SLOPE * distances.transpose(0, 2, 1, 3) + 1, 0)  # (F, G, P, J)
    frame, gt, pred, joint = _matched_pairs(similarity, matched, gt_count, pred_count)
    value = similarity[frame, gt, pred, joint]
    passes = value[None, :] >= ALPHAS[:, None] - EPS  # (A, M)
    true_positives = np.zeros((alphas, joints))
    localisation = np.zeros((alphas, joints))
    matches = np.zeros((alphas, len(gt_labels), len(pred_labels), joints))
    for a in range(alphas):
        keep = passes[a]
        true_positives[a] = np.bincount(joint[keep], minlength=joints)
        localisation[a] = np.bincount(joint[keep], weights=value[keep], minlength=joints)
        np.add.at(matches[a], (gt_slot[frame[keep], gt[keep]], pred_slot[frame[keep], pred[keep]], joint[keep]), 1)
    misses -= true_positives
    false_positives -= true_positives

    union = np.maximum(1, gt_id_joints[None, :, None, :] + pred_id_joints[None, None, :, :] - matches)
    association = np.sum(np.sum(matches * (matches / union), axis=1), axis=1) / np.maximum(1, true_positives)
    localisation = np.maximum(1e-10, localisation) / np.maximum(1e-10, true_positives)
    return _with_total(true_positives, misses, false_positives, association, localisation)


def _matched_pairs(similarity: np.ndarray, matched: np.ndarray, gt_count: np.ndarray,
                   pred_count: np.ndarray) -> tuple[np.ndarray, ...]:
    """(frame, gt, pred, joint) of the pairs the kit's per-joint Hungarian matching makes with similarity > 0.

    Where no person has two similar candidates every similar pair is in every
    optimum; elsewhere the kit's own call decides, on the same matrix it sees.
    """
    similar = (similarity > 0) & matched[:, None, None, None]
    conflict = (similar.sum(axis=2) > 1).any(axis=1) | (similar.sum(axis=1) > 1).any(axis=1)  # (F, J)
    frame, gt, pred, joint = np.nonzero(similar & ~conflict[:, None, None, :])
    parts = [(frame, gt, pred, joint)]
    for f, j in zip(*np.nonzero(conflict)):
        rows, cols = linear_sum_assignment(-similarity[f, :gt_count[f], :pred_count[f], j])
        keep = similarity[f, rows, cols, j] > 0
        rows, cols = rows[keep], cols[keep]
        parts.append((np.full(len(rows), f), rows, cols, np.full(len(rows), j)))
    return tuple(np.concatenate([part[k] for part in parts]).astype(np.int64) for k in range(4))


def _with_total(true_positives: np.ndarray, misses: np.ndarray, false_positives: np.ndarray,
                association: np.ndarray, localisation: np.ndarray) -> HotaCounts:
    """Append the kit's per-sequence total column: counts summed over joints, AssA and LocA averaged."""
    def summed(a: np.ndarray) -> np.ndarray:
        return np.append(a, a.sum(axis=1, keepdims=True), axis=1)

    def averaged(a: np.ndarray) -> np.ndarray:
        return np.append(a, a.mean(axis=1, keepdims=True), axis=1)

    return HotaCounts(summed(true_positives), summed(misses), summed(false_positives), averaged(association),
                      averaged(localisation))


def combine(sequences: list[HotaCounts]) -> dict[str, np.ndarray]:
    """The kit's ``combine_sequences`` and summary: HOTA, DetA, AssA, LocA per column, mean over alpha, percent.

    Every sequence has counts (one without labelled frames has zeros), so ``sequences`` is never empty.
    """
    true_positives = sum(s.true_positives for s in sequences)
    misses = sum(s.misses for s in sequences)
    false_positives = sum(s.false_positives for s in sequences)
    association = sum(s.association * s.true_positives for s in sequences) / np.maximum(1.0, true_positives)
    localisation = (np.maximum(1e-10, sum(s.localisation * s.true_positives for s in sequences))
                    / np.maximum(1e-10, true_positives))
    detection = true_positives / np.maximum(1, true_positives + misses + false_positives)
    hota = np.sqrt(detection * association)
    return {field: 100 * np.mean(values, axis=0)
            for field, values in zip(FIELDS, (hota, detection, association, localisation))}
