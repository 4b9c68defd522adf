"""CLEAR-MOT counting that reproduces py-motmetrics 1.4 (``MOTAccumulator``) event for event.

poseval feeds one ``motmetrics.MOTAccumulator`` per joint and sequence and
reads five counts from it plus ``events['D'].sum()``. motmetrics builds a
pandas event table per update and per ``compute``; over a PoseTrack val set
that is ~80,000 updates and ~2,500 computes, i.e. minutes. This accumulator
keeps only what those numbers need and follows motmetrics' update algorithm
step by step, so the counts are the same integers and the distance sum the
same float (``tests/evaluation/test_mot.py`` checks it against motmetrics on
random sequences):

1. Objects matched to a hypothesis before keep it when their distance is
   finite (objects in input order, first free hypothesis with that id).
2. The rest are assigned by the minimum-cost matching motmetrics computes
   with SciPy (NaN edges replaced by its "expensive edge" constant). When no
   object or hypothesis has two candidate partners the answer is forced, so
   SciPy is only called for real conflicts.
3. A match is a switch when the object's previous hypothesis differs.
4. Unmatched objects are misses, unmatched hypotheses false positives.

``distance_sum`` is what poseval's MOTP uses: with motmetrics 1.4 the event
table it sums also holds the RAW rows (every finite distance once more) and
the TRANSFER / ASCEND / MIGRATE rows, so it is recorded in that order, with
0 for rows without a distance, and summed the way pandas sums a column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class MotCounts:
    """CLEAR-MOT counts per joint, (J,) arrays; counts of several sequences add up."""

    objects: np.ndarray
    misses: np.ndarray
    false_positives: np.ndarray
    switches: np.ndarray
    detections: np.ndarray  # matches + switches (motmetrics' num_detections)
    distance_sum: np.ndarray  # poseval's sumD (see the module docstring)

    @classmethod
    def zeros(cls, joints: int) -> MotCounts:
        return cls(*(np.zeros(joints, np.int64) for _ in range(5)), np.zeros(joints))

    def __add__(self, other: MotCounts) -> MotCounts:
        return MotCounts(self.objects + other.objects, self.misses + other.misses,
                         self.false_positives + other.false_positives, self.switches + other.switches,
                         self.detections + other.detections, self.distance_sum + other.distance_sum)


@dataclass
class ClearMotAccumulator:
    """One object/hypothesis stream (one joint of one sequence), updated frame by frame."""

    objects: int = 0
    misses: int = 0
    false_positives: int = 0
    switches: int = 0
    matches: int = 0
    _hyp_of_object: dict = field(default_factory=dict)  # motmetrics' m
    _object_of_hyp: dict = field(default_factory=dict)  # motmetrics' res_m
    _matched_objects: set = field(default_factory=set)  # motmetrics' last_match keys
    _matched_hyps: set = field(default_factory=set)  # motmetrics' hypHistory keys
    _event_distances: list = field(default_factory=list)

    def update(self, object_ids: Sequence, hypothesis_ids: Sequence, distances: np.ndarray) -> None:
        """One frame: ``distances (len(object_ids), len(hypothesis_ids))``, NaN where a pair may not match."""
        cost = np.asarray(distances, dtype=np.float64).reshape(len(object_ids), len(hypothesis_ids))
        rows, cols = np.nonzero(np.isfinite(cost))
        self.update_pairs(list(object_ids), list(hypothesis_ids), rows.tolist(), cols.tolist(),
                          cost[rows, cols].tolist())

    def update_pairs(self, oids: list, hids: list, pair_rows: list[int], pair_cols: list[int],
                     pair_distances: list[float]) -> None:
        """One frame given only the pairs that may match, in row-major order (object, then hypothesis).

        Plain Python on purpose: frames have a handful of people, where numpy's
        per-call overhead would dominate.
        """
        n_obj, n_hyp = len(oids), len(hids)
        events = self._event_distances
        # RAW rows: the frame marker, every finite distance, then objects / hypotheses without one.
        events.append(0.0)
        events.extend(pair_distances)
        events.extend([0.0] * (n_obj - len(set(pair_rows)) + n_hyp - len(set(pair_cols))))
        obj_done = [False] * n_obj
        hyp_done = [False] * n_hyp
        if pair_rows:
            candidates = dict(zip(zip(pair_rows, pair_cols), pair_distances))
            self._carry_forward(oids, hids, candidates, obj_done, hyp_done)
            for i, j in self._assign(n_obj, n_hyp, candidates, obj_done, hyp_done):
                self._record_match(oids[i], hids[j], candidates[i, j])
                obj_done[i] = hyp_done[j] = True
        unmatched = obj_done.count(False), hyp_done.count(False)
        self.misses += unmatched[0]
        self.false_positives += unmatched[1]
        events.extend([0.0] * (unmatched[0] + unmatched[1]))
        self.objects += n_obj

    def _carry_forward(self, oids: list, hids: list, candidates: dict, obj_done: list[bool],
                       hyp_done: list[bool]) -> None:
        first_free = None if len(set(hids)) < len(hids) else {hid: j for j, hid in enumerate(hids)}
        for i, oid in enumerate(oids):
            if oid not in self._hyp_of_object:
                continue
            previous = self._hyp_of_object[oid]
            if first_free is not None:  # unique ids (always, for validated predictions): a lookup
                j = first_free.get(previous)
                j = None if j is None or hyp_done[j] else j
            else:
                j = next((j for j, hid in enumerate(hids) if not hyp_done[j] and hid == previous), None)
            if j is None or (i, j) not in candidates:
                continue
            obj_done[i] = hyp_done[j] = True
            self.matches += 1
            self._event_distances.append(candidates[i, j])
            self._matched_objects.add(oid)
            self._matched_hyps.add(previous)

    @staticmethod
    def _assign(n_obj: int, n_hyp: int, candidates: dict, obj_done: list[bool],
                hyp_done: list[bool]) -> list[tuple[int, int]]:
        open_pairs = [(i, j) for i, j in candidates if not obj_done[i] and not hyp_done[j]]
        if not open_pairs:
            return []
        rows = [i for i, _ in open_pairs]
        cols = [j for _, j in open_pairs]
        if len(set(rows)) == len(rows) and len(set(cols)) == len(cols):
            # Disjoint candidate pairs: every optimum takes all of them (motmetrics' expensive
            # edges make a lost finite pair cost more than any finite one), in row order.
            return open_pairs
        masked = np.full((n_obj, n_hyp), np.nan)
        masked[rows, cols] = [candidates[pair] for pair in open_pairs]
        assigned_rows, assigned_cols = linear_sum_assignment(_expensive_edges(masked))
        return [(i, j) for i, j in zip(assigned_rows.tolist(), assigned_cols.tolist()) if (i, j) in candidates
                and not obj_done[i] and not hyp_done[j]]

    def _record_match(self, oid: object, hid: object, distance: float) -> None:
        events = self._event_distances
        is_switch = oid in self._hyp_of_object and self._hyp_of_object[oid] != hid
        if is_switch and hid not in self._matched_hyps:
            events.append(distance)  # ASCEND row
        if hid in self._object_of_hyp and self._object_of_hyp[hid] != oid:
            if oid not in self._matched_objects:
                events.append(distance)  # MIGRATE row
            events.append(distance)  # TRANSFER row
        self._matched_hyps.add(hid)
        self._matched_objects.add(oid)
        events.append(distance)  # MATCH or SWITCH row
        if is_switch:
            self.switches += 1
        else:
            self.matches += 1
        self._hyp_of_object[oid] = hid
        self._object_of_hyp[hid] = oid

    @property
    def detections(self) -> int:
        return self.matches + self.switches

    @property
    def distance_sum(self) -> float:
        """``events['D'].sum()`` of the motmetrics accumulator (pandas fills NaN with 0, then sums)."""
        return float(np.sum(np.asarray(self._event_distances, dtype=np.float64)))


def _expensive_edges(cost: np.ndarray) -> np.ndarray:
    """motmetrics' ``add_expensive_edges``: NaN edges get a cost no optimum would pick over a finite one."""
    valid = np.isfinite(cost)
    if valid.all():
        return cost.copy()
    if not valid.any():
        return np.zeros_like(cost)
    rank = min(cost.shape)
    largest = np.abs(cost[valid]).max() + 1
    return np.where(valid, cost, 2 * rank * largest + 1)


def counts_of(accumulators: Sequence[ClearMotAccumulator]) -> MotCounts:
    """Counts of per-joint accumulators, in joint order."""
    return MotCounts(
        objects=np.array([a.objects for a in accumulators], np.int64),
        misses=np.array([a.misses for a in accumulators], np.int64),
        false_positives=np.array([a.false_positives for a in accumulators], np.int64),
        switches=np.array([a.switches for a in accumulators], np.int64),
        detections=np.array([a.detections for a in accumulators], np.int64),
        distance_sum=np.array([a.distance_sum for a in accumulators], np.float64),
    )


@dataclass(frozen=True)
class MotScores:
    """poseval's per-joint MOT numbers in percent, (J,) arrays; NaN where undefined."""

    mota: np.ndarray
    motp: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


def mot_scores(counts: MotCounts) -> MotScores:
    """MOTA = 1 - (FN + IDSW + FP) / GT, Precision = det / (det + FP), Recall = det / GT, as poseval.

    MOTP follows poseval too: 1 - sumD / det, and 0 (not NaN) without detections.
    """
    objects = counts.objects.astype(np.float64)
    objects = np.where(objects > 0, objects, np.nan)
    errors = (counts.misses.astype(np.float64) + counts.switches.astype(np.float64)
              + counts.false_positives.astype(np.float64))
    detections = counts.detections.astype(np.float64)
    claimed = counts.false_positives.astype(np.float64) + detections
    claimed = np.where(claimed > 0, claimed, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        mota = 100 * (1.0 - errors / objects)
        motp = np.where((detections == 0) | np.isnan(counts.distance_sum), 0.0,
                        100 * (1.0 - counts.distance_sum / detections))
        precision = 100 * (detections / claimed)
        recall = 100 * (detections / objects)
    return MotScores(mota, motp, precision, recall)


def nan_skipping_mean(values: np.ndarray) -> float:
    """poseval's "total" over joints: the mean of the joints that are not NaN (NaN when none is)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
