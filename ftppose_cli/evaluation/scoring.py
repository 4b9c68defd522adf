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
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.ap import (MISSING_SCORE, SCORED_JOINT_INDEX, SCORED_JOINTS, JointAP, assign_people,
                                       average_precision, group_means, head_sizes, normalized_distances)
from ftppose_cli.evaluation.hota import FIELDS as HOTA_FIELDS
from ftppose_cli.evaluation.hota import HotaCounts, combine, sequence_counts
from ftppose_cli.evaluation.mot import (ClearMotAccumulator, MotCounts, MotScores, counts_of, mot_scores,
                                        nan_skipping_mean)
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import read_sequence

Version = Literal["2017", "2018", "21"]
VERSIONS: tuple[str, ...] = ("2017", "2018", "21")
MAX_TRACK_ID = 10000  # poseval offsets track ids by sequence index x 10000 and asserts they stay below
OUTSIDE_IMAGE_MARGIN = 0.5  # x image size: beyond this a joint is in another coordinate system, not off-screen
NUM_SCORED = len(SCORED_JOINTS)
# The PoseTrack21 kit's joint columns (file order, ears left out) as positions in SCORED_JOINTS.
KIT_COLUMNS = np.argsort(SCORED_JOINT_INDEX)


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class APResult:
    """Per-joint AP, precision and recall (percent, :data:`SCORED_JOINTS` order) and the reported groups."""

    ap: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    num_ground_truth: np.ndarray
    groups: dict[str, float]

    @property
    def total(self) -> float:
        return self.groups["Total"]

    def per_joint(self) -> dict[str, float]:
        return dict(zip(SCORED_JOINTS, self.ap.tolist()))

    def to_dict(self) -> dict[str, Any]:
        return {"groups": _clean(self.groups), "ap": _clean(self.per_joint()),
                "precision": _clean(dict(zip(SCORED_JOINTS, self.precision.tolist()))),
                "recall": _clean(dict(zip(SCORED_JOINTS, self.recall.tolist()))),
                "ground_truth_joints": dict(zip(SCORED_JOINTS, self.num_ground_truth.tolist()))}


@dataclass(frozen=True)
class MOTResult:
    """CLEAR-MOT counts and scores per joint, MOTA per group, and the totals poseval prints."""

    counts: MotCounts
    scores: MotScores
    mota_groups: dict[str, float]

    @property
    def totals(self) -> dict[str, float]:
        return {"mota": self.mota_groups["Total"], "motp": nan_skipping_mean(self.scores.motp),
                "precision": nan_skipping_mean(self.scores.precision),
                "recall": nan_skipping_mean(self.scores.recall)}

    def to_dict(self) -> dict[str, Any]:
        per_joint = {name: {"mota": self.scores.mota[j], "motp": self.scores.motp[j],
                            "precision": self.scores.precision[j], "recall": self.scores.recall[j],
                            "objects": int(self.counts.objects[j]), "misses": int(self.counts.misses[j]),
                            "false_positives": int(self.counts.false_positives[j]),
                            "switches": int(self.counts.switches[j])}
                     for j, name in enumerate(SCORED_JOINTS)}
        return {"totals": _clean(self.totals), "mota_groups": _clean(self.mota_groups),
                "joints": {name: _clean(values) for name, values in per_joint.items()}}


@dataclass(frozen=True)
class HOTAResult:
    """PoseTrack21 keypoint HOTA, DetA, AssA and LocA in percent: per joint, the kit's Total, and groups.

    ``joints[field]`` is (15,) in :data:`SCORED_JOINTS` order. The kit reports
    joints and Total; the groups (Head ... Ankle) are plain means of their
    joints, the same summary the AP table gives.
    """

    joints: dict[str, np.ndarray]
    totals: dict[str, float]

    @classmethod
    def from_counts(cls, sequences: list[HotaCounts]) -> HOTAResult:
        combined = combine(sequences)
        joints = {}
        for field, values in combined.items():
            joints[field] = np.empty(NUM_SCORED)
            joints[field][KIT_COLUMNS] = values[:NUM_SCORED]
        return cls(joints, {field: float(values[NUM_SCORED]) for field, values in combined.items()})

    def per_joint(self, field: str) -> dict[str, float]:
        return dict(zip(SCORED_JOINTS, self.joints[field].tolist()))

    def groups(self, field: str) -> dict[str, float]:
        groups = group_means(self.joints[field])
        groups["Total"] = self.totals[field]
        return groups

    def to_dict(self) -> dict[str, Any]:
        return {field: {"groups": _clean(self.groups(field)), "joints": _clean(self.per_joint(field))}
                for field in HOTA_FIELDS}


@dataclass(frozen=True)
class SequenceResult:
    name: str
    frames_scored: int
    ap: APResult
    mot: MOTResult | None  # None: PoseTrack21 rules, or fewer than two scored frames
    hota: HOTAResult | None = None  # PoseTrack21 rules only

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "frames_scored": self.frames_scored, "ap": self.ap.to_dict(),
                "mot": None if self.mot is None else self.mot.to_dict(),
                "hota": None if self.hota is None else self.hota.to_dict()}


@dataclass(frozen=True)
class EvaluationResult:
    """Everything ``ftppose eval`` reports; ``sequences`` are sorted by name.

    poseval's metric set (2017 / 2018) is AP and MOTA: ``hota`` is None; the
    PoseTrack21 kit's is mAP and keypoint HOTA: ``mot`` is None.
    """

    version: str
    ap: APResult
    mot: MOTResult | None
    sequences: tuple[SequenceResult, ...]
    frames_scored: int
    hota: HOTAResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes null)."""
        return {"version": self.version, "sequences_scored": len(self.sequences),
                "frames_scored": self.frames_scored, "ap": self.ap.to_dict(),
                "mot": None if self.mot is None else self.mot.to_dict(),
                "hota": None if self.hota is None else self.hota.to_dict(),
                "per_sequence": [s.to_dict() for s in self.sequences]}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and np.isnan(v) else float(v) if isinstance(v, (float, np.floating))
                else v) for k, v in values.items()}


# ------------------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class SequencePair:
    """A ground-truth sequence and the prediction for it; the paths name them in errors."""

    name: str
    ground_truth: PoseTrackSequence
    prediction: PoseTrackSequence
    gt_path: Path
    pred_path: Path


def load_sequence_pairs(gt_dir: str | Path, pred_dir: str | Path) -> list[SequencePair]:
    """Read every ``*.json`` of ``gt_dir`` and the file of the same name in ``pred_dir``."""
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    for folder, what in ((gt_dir, "ground-truth"), (pred_dir, "prediction")):
        if folder.is_file():
            raise InputError(folder, f"is a file; the {what} must be a folder of per-sequence *.json files")
        if not folder.is_dir():
            raise InputError(folder, f"{what} folder does not exist")
    # glob lists in directory order, as poseval's load_data_dir; that order decides tie ranks.
    gt_files = [Path(p) for p in glob.glob(os.path.join(glob.escape(str(gt_dir)), "*.json"))]
    if not gt_files:
        raise InputError(gt_dir, "no ground-truth *.json files")
    pairs = []
    for gt_path in gt_files:
        pred_path = pred_dir / gt_path.name
        if not pred_path.is_file():
            raise InputError(pred_path, f"the prediction for sequence {gt_path.stem} is missing")
        pairs.append(SequencePair(gt_path.stem, read_sequence(gt_path), read_sequence(pred_path), gt_path,
                                  pred_path))
    return pairs


def evaluate_folders(gt_dir: str | Path, pred_dir: str | Path, version: Version | str | None = "2018"
                     ) -> EvaluationResult:
    """Scores of the predictions in ``pred_dir`` against the ground truth in ``gt_dir``.

    ``version`` None picks the rules from the ground truth (:func:`detect_version`).
    """
    if version is not None:
        _check_version(version)
    pairs = load_sequence_pairs(gt_dir, pred_dir)
    return evaluate_sequences(pairs, detect_version(pairs) if version is None else version)


def detect_version(pairs: list[SequencePair]) -> str:
    """"21" when the ground truth carries PoseTrack21's ``person_id``, else its layout ("2017" / "2018")."""
    sequences = [pair.ground_truth for pair in pairs]
    if any((frame.people.person_ids >= 0).any() for sequence in sequences for frame in sequence.frames):
        return "21"
    return "2017" if all(sequence.layout == "2017" for sequence in sequences) else "2018"


def evaluate_sequences(pairs: list[SequencePair], version: Version | str = "2018") -> EvaluationResult:
    """Score sequences already in memory (the annotate pipeline hands its own output here)."""
    _check_version(version)
    for pair in pairs:
        _check_pairing(pair)
    if version == "21":
        return _evaluate_posetrack21(pairs)
    parts = [_score_detections(_prepare(pair, _POSEVAL)) for pair in pairs]
    mot_counts = [_sequence_mot(part) for part in parts]
    sequences = tuple(sorted(
        (SequenceResult(pair.name, part.frames.num_frames, _ap_result([part], _POSEVAL),
                        None if counts is None else _mot_result(counts))
         for pair, part, counts in zip(pairs, parts, mot_counts) if part.frames.num_frames),
        key=lambda result: result.name))
    total_counts = MotCounts.zeros(NUM_SCORED)
    for counts in mot_counts:  # in sequence order, as poseval adds its distance sums
        if counts is not None:
            total_counts = total_counts + counts
    return EvaluationResult(version=str(version), ap=_ap_result(parts, _POSEVAL), mot=_mot_result(total_counts),
                            sequences=sequences, frames_scored=sum(part.frames.num_frames for part in parts))


def _evaluate_posetrack21(pairs: list[SequencePair]) -> EvaluationResult:
    """The PoseTrack21 kit's metric set: mAP and keypoint HOTA, sequences in its (sorted file name) order."""
    pairs = sorted(pairs, key=lambda pair: pair.gt_path.name)
    parts = [_score_detections(_prepare(pair, _POSETRACK21)) for pair in pairs]
    hota_counts = [_sequence_hota(part) for part in parts]
    sequences = tuple(sorted(
        (SequenceResult(pair.name, part.frames.num_frames, _ap_result([part], _POSETRACK21), None,
                        HOTAResult.from_counts([counts]))
         for pair, part, counts in zip(pairs, parts, hota_counts) if part.frames.num_frames),
        key=lambda result: result.name))
    return EvaluationResult(version="21", ap=_ap_result(parts, _POSETRACK21), mot=None, sequences=sequences,
                            frames_scored=sum(part.frames.num_frames for part in parts),
                            hota=HOTAResult.from_counts(hota_counts))


def _check_version(version: str) -> None:
    if str(version) not in VERSIONS:
        raise ValueError(f"unknown PoseTrack version {version!r}; expected one of {', '.join(VERSIONS)}")


def _where(pair: SequencePair, position: int, frame: PoseTrackFrame) -> str:
    return f"sequence {pair.name}, frame {position} ({frame.file_name})"


def _check_pairing(pair: SequencePair) -> None:
    """Frames are paired by position, so a prediction must list the same frames in the same order."""
    gt, pred = pair.ground_truth.frames, pair.prediction.frames
    if len(gt) != len(pred):
        raise InputError(pair.pred_path, f"sequence {pair.name}: the prediction lists {len(pred)} frames, the ground "
                                         f"truth {len(gt)}; every frame must be listed, also empty ones")
    for position, (gt_frame, pred_frame) in enumerate(zip(gt, pred)):
        if os.path.basename(gt_frame.file_name) != os.path.basename(pred_frame.file_name):
            raise InputError(pair.pred_path, f"sequence {pair.name}, frame {position}: the prediction lists "
                                             f"{pred_frame.file_name}, the ground truth {gt_frame.file_name} "
                                             f"(frames must be in the same order)")
        tracks = pred_frame.people.track_ids
        if len(np.unique(tracks)) != len(tracks):
            raise InputError(pair.pred_path, f"{_where(pair, position, pred_frame)}: a track id is used twice")
    for path, frames in ((pair.gt_path, gt), (pair.pred_path, pred)):
        for position, frame in enumerate(frames):
            tracks = frame.people.track_ids
            if len(tracks) and tracks.max() >= MAX_TRACK_ID:
                raise InputError(path, f"{_where(pair, position, frame)}: track ids must be below {MAX_TRACK_ID}")


# ------------------------------------------------------------------------------------------ preparation


@dataclass(frozen=True)
class _Rules:
    """What differs between poseval and the PoseTrack21 kit."""

    name: str
    frames_by_flag: bool  # PoseTrack21: is_labeled; poseval: ground truth lists somebody
    joints_by_position: bool  # PoseTrack21: x > 0 and y > 0; poseval: listed in the file
    recall_floor_one: bool
    truncates_integer_frames: bool  # PoseTrack21: scores of an all-integer prediction frame lose their fraction


_POSEVAL = _Rules("poseval", frames_by_flag=False, joints_by_position=False, recall_floor_one=False,
                  truncates_integer_frames=False)
_POSETRACK21 = _Rules("posetrack21", frames_by_flag=True, joints_by_position=True, recall_floor_one=True,
                      truncates_integer_frames=True)


@dataclass
class _People:
    """Scored joints of the people left in one frame: xy (n, 15, 2), present (n, 15)."""

    xy: np.ndarray
    present: np.ndarray
    tracks: np.ndarray
    scores: np.ndarray
    heads: np.ndarray


@dataclass
class _Frames:
    """The scored frames of one sequence, people padded to the largest count (pads have no joints)."""

    gt_xy: np.ndarray  # (F, G, 15, 2)
    gt_present: np.ndarray  # (F, G, 15)
    gt_head: np.ndarray  # (F, G)
    gt_tracks: np.ndarray  # (F, G)
    gt_count: np.ndarray  # (F,) people left after ignore regions
    pred_xy: np.ndarray  # (F, P, 15, 2)
    pred_present: np.ndarray  # (F, P, 15)
    pred_scores: np.ndarray  # (F, P, 15), missing -> -9999
    pred_tracks: np.ndarray  # (F, P)
    pred_count: np.ndarray  # (F,)

    @property
    def num_frames(self) -> int:
        return len(self.gt_count)


def _prepare(pair: SequencePair, rules: _Rules) -> _Frames:
    gt_frames, pred_frames = pair.ground_truth.frames, pair.prediction.frames
    gts, preds = [], []
    for position, (gt_frame, pred_frame) in enumerate(zip(gt_frames, pred_frames)):
        scored = gt_frame.is_labeled if rules.frames_by_flag else len(gt_frame.people) > 0
        if not scored:
            continue
        gt = _scored_people(gt_frame.people, rules)
        pred = _scored_people(pred_frame.people, rules)
        if rules.truncates_integer_frames and pred_frame.integer_keypoints:
            pred.scores = np.trunc(pred.scores)
        _check_inside_image(pair, position, gt_frame, pred_frame, pred)
        if gt_frame.ignore_regions:
            gt = _apply_ignore_regions(gt, gt_frame.ignore_regions, rules)
            pred = _apply_ignore_regions(pred, gt_frame.ignore_regions, rules)
        missing_head = gt.present.any(axis=1) & ~np.isfinite(gt.heads)
        if missing_head.any():
            track = gt.tracks[np.flatnonzero(missing_head)[0]]
            raise InputError(pair.gt_path, f"{_where(pair, position, gt_frame)}: track {track} has joints but no "
                                           f"head box (bbox_head), which sizes the hit radius")
        gts.append(gt)
        preds.append(pred)
    gt_xy, gt_present, gt_head, gt_tracks = _pad(gts, "heads")
    pred_xy, pred_present, pred_scores, pred_tracks = _pad(preds, "scores")
    return _Frames(gt_xy, gt_present, gt_head, gt_tracks, np.array([len(g.tracks) for g in gts], np.int64),
                   pred_xy, pred_present, pred_scores, pred_tracks, np.array([len(p.tracks) for p in preds], np.int64))


def _scored_people(people: PoseTrackPeople, rules: _Rules) -> _People:
    """The 15 scored joints of the people with a pose; which joints exist depends on the rules."""
    if not people.has_pose.all():
        people = people.select(people.has_pose)
    xy = people.keypoints[:, SCORED_JOINT_INDEX]
    if rules.joints_by_position:
        present = (xy[..., 0] > 0) & (xy[..., 1] > 0)
    else:
        present = people.annotated[:, SCORED_JOINT_INDEX].copy()
    scores = people.scores[:, SCORED_JOINT_INDEX]
    scores = np.where(np.isnan(scores), MISSING_SCORE, scores)
    return _People(xy, present, people.track_ids, scores, head_sizes(people.head_boxes))


def _apply_ignore_regions(people: _People, regions: tuple[np.ndarray, ...], rules: _Rules) -> _People:
    inside = points_in_regions(people.xy.reshape(-1, 2), regions).reshape(people.present.shape)
    present = people.present & ~inside
    if rules.joints_by_position:
        # PoseTrack21 zeroes ignored joints, then drops a person whose joints are all at x <= 0 and y <= 0.
        xy = np.where(inside[..., None], 0.0, people.xy)
        keep = ~(inside | ((xy[..., 0] <= 0) & (xy[..., 1] <= 0))).all(axis=1)
    else:
        # poseval drops a person with no listed joint left (also one that had none).
        xy = people.xy
        keep = present.any(axis=1)
    return _People(xy[keep], present[keep], people.tracks[keep], people.scores[keep], people.heads[keep])


def points_in_regions(points: np.ndarray, regions: tuple[np.ndarray, ...]) -> np.ndarray:
    """(N,) true where a point is strictly inside any polygon (even-odd rule; the boundary is outside)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    inside_any = np.zeros(len(points), bool)
    if not len(points):
        return inside_any
    px, py = points[:, 0:1], points[:, 1:2]
    for polygon in regions:
        if len(polygon) < 3:
            continue
        x1, y1 = polygon[:, 0][None, :], polygon[:, 1][None, :]
        x2, y2 = np.roll(polygon[:, 0], -1)[None, :], np.roll(polygon[:, 1], -1)[None, :]
        side = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)  # > 0: point left of the edge
        upward = (y1 <= py) & (y2 > py)
        downward = (y2 <= py) & (y1 > py)
        crossings = ((upward & (side > 0)) | (downward & (side < 0))).sum(axis=1)
        on_edge = ((side == 0) & (px >= np.minimum(x1, x2)) & (px <= np.maximum(x1, x2))
                   & (py >= np.minimum(y1, y2)) & (py <= np.maximum(y1, y2))).any(axis=1)
        inside_any |= (crossings % 2 == 1) & ~on_edge
    return inside_any


def _check_inside_image(pair: SequencePair, position: int, gt_frame: PoseTrackFrame, pred_frame: PoseTrackFrame,
                        pred: _People) -> None:
    """Refuse predictions far outside the image: they are in another coordinate system, and would score 0."""
    width = gt_frame.width or pred_frame.width
    height = gt_frame.height or pred_frame.height
    if not width or not height or not pred.present.any():
        return
    xy = pred.xy
    low_x, high_x = -OUTSIDE_IMAGE_MARGIN * width, (1 + OUTSIDE_IMAGE_MARGIN) * width
    low_y, high_y = -OUTSIDE_IMAGE_MARGIN * height, (1 + OUTSIDE_IMAGE_MARGIN) * height
    outside = pred.present & ((xy[..., 0] < low_x) | (xy[..., 0] > high_x) | (xy[..., 1] < low_y)
                              | (xy[..., 1] > high_y))
    if outside.any():
        person, joint = (int(i[0]) for i in np.nonzero(outside))
        x, y = xy[person, joint]
        raise InputError(pair.pred_path, f"{_where(pair, position, pred_frame)}: {SCORED_JOINTS[joint]} of track "
                                         f"{pred.tracks[person]} is at ({x:g}, {y:g}), far outside the "
                                         f"{width}x{height} image")


def _pad(people: list[_People], extra: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frames = len(people)
    slots = max((len(p.tracks) for p in people), default=0)
    xy = np.zeros((frames, slots, NUM_SCORED, 2))
    present = np.zeros((frames, slots, NUM_SCORED), bool)
    tracks = np.full((frames, slots), -1, np.int64)
    values = np.full((frames, slots, NUM_SCORED) if extra == "scores" else (frames, slots), np.nan)
    for f, p in enumerate(people):
        n = len(p.tracks)
        xy[f, :n], present[f, :n], tracks[f, :n] = p.xy, p.present, p.tracks
        values[f, :n] = getattr(p, extra)
    return xy, present, values, tracks


# ---------------------------------------------------------------------------------------------- scoring


@dataclass
class _Detections:
    """One sequence's ranked detections per joint, in poseval's gathering order."""

    frames: _Frames
    distances: np.ndarray  # (F, P, G, 15) in head sizes, inf where either joint is missing
    hit_distances: np.ndarray  # (F, P, G, 15): distance where the joint hits, else NaN (MOT's input)
    scores: list[np.ndarray]
    labels: list[np.ndarray]
    num_ground_truth: np.ndarray  # (15,)


def _score_detections(frames: _Frames) -> _Detections:
    distances = normalized_distances(frames.gt_xy, frames.gt_present, frames.gt_head, frames.pred_xy,
                                     frames.pred_present)
    assignment = assign_people(distances, frames.gt_present)
    labels = assignment.detection_labels()
    # Row-major masking keeps poseval's order: frames in order, people in file order.
    scores = [frames.pred_scores[..., j][frames.pred_present[..., j]] for j in range(NUM_SCORED)]
    label_lists = [labels[..., j][frames.pred_present[..., j]] for j in range(NUM_SCORED)]
    num_gt = frames.gt_present.sum(axis=(0, 1)).astype(np.int64)
    return _Detections(frames, distances, np.where(assignment.hits, distances, np.nan), scores, label_lists, num_gt)


def _ap_result(parts: list[_Detections], rules: _Rules) -> APResult:
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
