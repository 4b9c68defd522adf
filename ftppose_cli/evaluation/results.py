"""What `eval` reports: AP, MOTA and keypoint HOTA tables per joint, per group, per sequence and in total.

Frozen dataclasses of numpy arrays, one per metric set, each with a
``to_dict`` that is JSON-ready (NaN becomes null); the CLI prints them and
writes them as given. Computing them is :mod:`ftppose_cli.evaluation.scoring`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ftppose_cli.evaluation.ap import NUM_SCORED, SCORED_JOINT_INDEX, SCORED_JOINTS, group_means
from ftppose_cli.evaluation.hota import FIELDS as HOTA_FIELDS
from ftppose_cli.evaluation.hota import HotaCounts, combine
from ftppose_cli.evaluation.mot import MotCounts, MotScores, nan_skipping_mean

# The PoseTrack21 kit's joint columns (file order, ears left out) as positions in SCORED_JOINTS.
KIT_COLUMNS = np.argsort(SCORED_JOINT_INDEX)


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
