"""Score a folder of PoseTrack predictions against the ground truth with the official tools' rules.

``--version 2017`` and ``2018`` are poseval's metric set, AP and MOTA
(``load_data_dir`` / ``cleanupData`` / ``removeIgnoredPoints`` /
``assignGTmulti`` / ``evaluateTracking``); ``--version 21`` is the
PoseTrack21 kit's, mAP and keypoint HOTA (``datasets/posetrack.py``,
``metrics/map.py``, ``metrics/hota_pose.py``; HOTA itself is
:mod:`ftppose_cli.evaluation.hota`). Without a version the ground truth
decides (:func:`detect_version`).

poseval rules (2017 / 2018):

* Scored frames: ground-truth frames that list at least one person (the
  ``is_labeled`` flag is not read); the paired prediction frame goes with
  it, predictions on other frames are ignored.
* A joint exists when the file lists it (2018: anything but ``[0, 0, 0]``).
* Ignore regions (of the ground-truth frame) remove the joints strictly
  inside them from ground truth and predictions; on such a frame a person
  left without joints is removed, also one that had none to begin with.
* MOT, per joint and sequence: ground-truth people with the joint are the
  objects, predicted people with it the hypotheses, pairs farther than 0.5
  head sizes cannot match. A frame whose ground truth or prediction has
  nobody left counts as one object and one hypothesis that cannot match
  (one miss and one false positive per joint, however many people the
  ground truth has): poseval's stand-in, kept so the numbers agree. The
  last scored frame of each sequence is left out (``imgidxs[:-1]``), so a
  sequence with one scored frame has no MOT (poseval itself stops with an
  IndexError there). Counts add up over sequences; MOTA, precision and
  recall are computed per joint, and "Total" is the mean over joints.

PoseTrack21 rules (``--version 21``): scored frames are the ground-truth
frames with ``is_labeled``; a joint exists when x > 0 and y > 0 (ground
truth and prediction alike); an ignore region zeroes the joints inside it
and removes a person whose joints are then all at x <= 0 and y <= 0; recall
divides by max(n, 1); sequences are combined in sorted file-name order (the
kit's, which decides how tied scores rank). The kit reads a prediction frame
whose keypoints are all JSON integers into an integer array and writes the
scores into it, so their fractions are cut off there (0.93 ranks as 0); so
here. The kit crashes on a labelled frame without a ground-truth person (no
head sizes to read, and a typo in its mAP "no gt" branch); here its
predictions are false positives, which is what that branch was written to do.

poseval concatenates sequences in the order ``glob`` lists them, and so
does this; detections of a joint are ranked over that
concatenation in the order poseval's unstable ``argsort`` gives on the numpy
it was written for (:mod:`ftppose_cli.evaluation.ranking`), so tied scores
rank as they do there. Ignore regions use the even-odd rule with points on the
boundary outside, as Shapely's ``contains``; a region with fewer than three
corners contains nothing (Shapely refuses to build it and poseval stops).

Files are paired by :mod:`.pairs`, each kit's rules pick what is scored in
:mod:`.rules`, and the tables reported are :mod:`.results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ftppose_cli.evaluation.ap import (
    NUM_SCORED,
    JointAP,
    assign_people,
    average_precision,
    group_means,
    normalized_distances,
)
from ftppose_cli.evaluation.hota import HotaCounts, sequence_counts
from ftppose_cli.evaluation.mot import ClearMotAccumulator, MotCounts, counts_of, mot_scores
from ftppose_cli.evaluation.pairs import SequencePair, check_pairing, detect_version, load_sequence_pairs
from ftppose_cli.evaluation.results import (
    KIT_COLUMNS,
    APResult,
    EvaluationResult,
    HOTAResult,
    MOTResult,
    SequenceResult,
)
from ftppose_cli.evaluation.rules import POSETRACK21, POSEVAL, Rules, ScoredFrames, prepare

Version = Literal["2017", "2018", "21"]
VERSIONS: tuple[str, ...] = ("2017", "2018", "21")


def evaluate_folders(gt_dir: str | Path, pred_dir: str | Path, version: Version | str | None = "2018"
                     ) -> EvaluationResult:
    """Scores of the predictions in ``pred_dir`` against the ground truth in ``gt_dir``.

    ``version`` None picks the rules from the ground truth (:func:`detect_version`).
    """
    if version is not None:
        _check_version(version)
    pairs = load_sequence_pairs(gt_dir, pred_dir)
    return evaluate_sequences(pairs, detect_version(pairs) if version is None else version)


def evaluate_sequences(pairs: list[SequencePair], version: Version | str = "2018") -> EvaluationResult:
    """Score sequences already in memory (the annotate pipeline hands its own output here)."""
    _check_version(version)
    for pair in pairs:
        check_pairing(pair)
    if version == "21":
        return _evaluate_posetrack21(pairs)
    parts = [_score_detections(prepare(pair, POSEVAL)) for pair in pairs]
    mot_counts = [_sequence_mot(part) for part in parts]
    sequences = tuple(sorted(
        (SequenceResult(pair.name, part.frames.num_frames, _ap_result([part], POSEVAL),
                        None if counts is None else _mot_result(counts))
         for pair, part, counts in zip(pairs, parts, mot_counts) if part.frames.num_frames),
        key=lambda result: result.name))
    total_counts = MotCounts.zeros(NUM_SCORED)
    for counts in mot_counts:  # in sequence order, as poseval adds its distance sums
        if counts is not None:
            total_counts = total_counts + counts
    return EvaluationResult(version=str(version), ap=_ap_result(parts, POSEVAL), mot=_mot_result(total_counts),
                            sequences=sequences, frames_scored=sum(part.frames.num_frames for part in parts))


def _evaluate_posetrack21(pairs: list[SequencePair]) -> EvaluationResult:
    """The PoseTrack21 kit's metric set: mAP and keypoint HOTA, sequences in its (sorted file name) order."""
    pairs = sorted(pairs, key=lambda pair: pair.gt_path.name)
    parts = [_score_detections(prepare(pair, POSETRACK21)) for pair in pairs]
    hota_counts = [_sequence_hota(part) for part in parts]
    sequences = tuple(sorted(
        (SequenceResult(pair.name, part.frames.num_frames, _ap_result([part], POSETRACK21), None,
                        HOTAResult.from_counts([counts]))
         for pair, part, counts in zip(pairs, parts, hota_counts) if part.frames.num_frames),
        key=lambda result: result.name))
    return EvaluationResult(version="21", ap=_ap_result(parts, POSETRACK21), mot=None, sequences=sequences,
                            frames_scored=sum(part.frames.num_frames for part in parts),
                            hota=HOTAResult.from_counts(hota_counts))


def _check_version(version: str) -> None:
    if str(version) not in VERSIONS:
        raise ValueError(f"unknown PoseTrack version {version!r}; expected one of {', '.join(VERSIONS)}")


@dataclass
class _Detections:
    """One sequence's ranked detections per joint, in poseval's gathering order."""

    frames: ScoredFrames
    distances: np.ndarray  # (F, P, G, 15) in head sizes, inf where either joint is missing
    hit_distances: np.ndarray  # (F, P, G, 15): distance where the joint hits, else NaN (MOT's input)
    scores: list[np.ndarray]
    labels: list[np.ndarray]
    num_ground_truth: np.ndarray  # (15,)


def _score_detections(frames: ScoredFrames) -> _Detections:
    distances = normalized_distances(frames.gt_xy, frames.gt_present, frames.gt_head, frames.pred_xy,
                                     frames.pred_present)
    assignment = assign_people(distances, frames.gt_present)
    labels = assignment.detection_labels()
    # Row-major masking keeps poseval's order: frames in order, people in file order.
    scores = [frames.pred_scores[..., j][frames.pred_present[..., j]] for j in range(NUM_SCORED)]
    label_lists = [labels[..., j][frames.pred_present[..., j]] for j in range(NUM_SCORED)]
    num_gt = frames.gt_present.sum(axis=(0, 1)).astype(np.int64)
    return _Detections(frames, distances, np.where(assignment.hits, distances, np.nan), scores, label_lists, num_gt)


def _ap_result(parts: list[_Detections], rules: Rules) -> APResult:
    results: list[JointAP] = []
    num_gt = np.zeros(NUM_SCORED, np.int64)
    for part in parts:
        num_gt += part.num_ground_truth
    for j in range(NUM_SCORED):
        scores = np.concatenate([part.scores[j] for part in parts]) if parts else np.zeros(0)
        labels = np.concatenate([part.labels[j] for part in parts]) if parts else np.zeros(0, bool)
        results.append(average_precision(scores, labels, float(num_gt[j]), rules.recall_floor_one))
    ap = np.array([r.ap for r in results])
    return APResult(ap=ap, precision=np.array([r.precision for r in results]),
                    recall=np.array([r.recall for r in results]), num_ground_truth=num_gt,
                    groups=group_means(ap, total_in_file_order=rules.recall_floor_one))


def _sequence_mot(detections: _Detections) -> MotCounts | None:
    """poseval's per-sequence MOT counts, or None with fewer than two scored frames.

    The objects, hypotheses and candidate pairs of every (frame, joint) are
    extracted with a few array operations for the whole sequence, then fed to
    the per-joint accumulators as plain lists.
    """
    frames = detections.frames
    if frames.num_frames < 2:
        return None
    used = frames.num_frames - 1  # poseval leaves the last scored frame out
    groups = used * NUM_SCORED
    gt_present = frames.gt_present[:used].transpose(0, 2, 1)  # (F, J, G)
    pred_present = frames.pred_present[:used].transpose(0, 2, 1)  # (F, J, P)
    gt_f, gt_j, gt_g = np.nonzero(gt_present)
    pred_f, pred_j, pred_p = np.nonzero(pred_present)
    hit_distances = detections.hit_distances[:used].transpose(0, 3, 2, 1)  # (F, J, G, P)
    hit_f, hit_j, hit_g, hit_p = np.nonzero(~np.isnan(hit_distances))
    # Position of a person among those with the joint: the row / column index motmetrics sees.
    gt_rank = np.cumsum(gt_present, axis=2) - 1
    pred_rank = np.cumsum(pred_present, axis=2) - 1

    def split(keys_f: np.ndarray, keys_j: np.ndarray, *columns: np.ndarray) -> tuple[list[int], list[list]]:
        bounds = np.searchsorted(keys_f * NUM_SCORED + keys_j, np.arange(groups + 1)).tolist()
        return bounds, [column.tolist() for column in columns]

    gt_bounds, (gt_ids,) = split(gt_f, gt_j, frames.gt_tracks[gt_f, gt_g])
    pred_bounds, (pred_ids,) = split(pred_f, pred_j, frames.pred_tracks[pred_f, pred_p])
    hit_bounds, (rows, cols, distances) = split(
        hit_f, hit_j, gt_rank[hit_f, hit_j, hit_g], pred_rank[hit_f, hit_j, hit_p],
        hit_distances[hit_f, hit_j, hit_g, hit_p])
    stand_in_frame = ((frames.gt_count == 0) | (frames.pred_count == 0)).tolist()

    accumulators = [ClearMotAccumulator() for _ in range(NUM_SCORED)]
    for f in range(used):
        if stand_in_frame[f]:  # nobody left on one side: poseval's one-object-one-hypothesis stand-in
            for accumulator in accumulators:
                accumulator.update_pairs([0], [0], [], [], [])
            continue
        for j, accumulator in enumerate(accumulators):
            k = f * NUM_SCORED + j
            a, b = hit_bounds[k], hit_bounds[k + 1]
            accumulator.update_pairs(gt_ids[gt_bounds[k]:gt_bounds[k + 1]], pred_ids[pred_bounds[k]:pred_bounds[k + 1]],
                                     rows[a:b], cols[a:b], distances[a:b])
    return counts_of(accumulators)


def _sequence_hota(detections: _Detections) -> HotaCounts:
    """The kit's keypoint HOTA counts of one sequence, its joints in the kit's column order."""
    frames, kit = detections.frames, KIT_COLUMNS
    return sequence_counts(detections.distances[..., kit], frames.gt_present[..., kit],
                           frames.pred_present[..., kit], frames.gt_tracks, frames.pred_tracks, frames.gt_count,
                           frames.pred_count)


def _mot_result(counts: MotCounts) -> MOTResult:
    scores = mot_scores(counts)
    return MOTResult(counts=counts, scores=scores, mota_groups=group_means(scores.mota))
