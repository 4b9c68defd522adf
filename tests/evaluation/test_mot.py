"""ClearMotAccumulator against py-motmetrics (what poseval runs), and poseval's MOT formulas by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from ftppose_cli.evaluation.mot import ClearMotAccumulator, MotCounts, counts_of, mot_scores, nan_skipping_mean

NAN = np.nan
POSEVAL_COUNTS = ["num_misses", "num_switches", "num_false_positives", "num_objects", "num_detections"]


def _motmetrics_numbers(frames: list[tuple[list, list, np.ndarray]]) -> tuple[dict, float]:
    """What poseval reads from a motmetrics accumulator: five counts and events['D'].sum()."""
    mm = pytest.importorskip("motmetrics")
    accumulator = mm.MOTAccumulator(auto_id=True)
    for oids, hids, distances in frames:
        accumulator.update(oids, hids, distances)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = mm.metrics.create().compute(accumulator, metrics=POSEVAL_COUNTS, return_dataframe=False, name="acc")
    return {k: int(v) for k, v in counts.items()}, float(accumulator.events["D"].sum())


def _accumulator(frames: list[tuple[list, list, np.ndarray]]) -> ClearMotAccumulator:
    accumulator = ClearMotAccumulator()
    for oids, hids, distances in frames:
        accumulator.update(oids, hids, distances)
    return accumulator


def _ours(frames: list[tuple[list, list, np.ndarray]]) -> tuple[dict, float]:
    accumulator = _accumulator(frames)
    counts = {"num_misses": accumulator.misses, "num_switches": accumulator.switches,
              "num_false_positives": accumulator.false_positives, "num_objects": accumulator.objects,
              "num_detections": accumulator.detections}
    return counts, accumulator.distance_sum


def test_two_people_swap_ids_by_hand() -> None:
    """Frame 0: A-a, B-b match. Frame 1: the tracker swaps ids (A-b, B-a): two switches.
    Frame 2: B vanishes, A-b again: no new switch (A was last matched to b). Frame 3: an extra
    hypothesis c far from everyone: one false positive.
    Objects 2+2+1+1 = 6, misses 0, switches 2, FP 1, detections (matches + switches) 6
    -> MOTA = 1 - (0 + 2 + 1)/6 = 50 %. Ids are numbers: motmetrics stores them in a float column."""
    a_obj, b_obj, a_hyp, b_hyp, c_hyp = 1, 2, 11, 12, 13
    frames = [
        ([a_obj, b_obj], [a_hyp, b_hyp], np.array([[0.1, NAN], [NAN, 0.2]])),
        ([a_obj, b_obj], [a_hyp, b_hyp], np.array([[NAN, 0.1], [0.3, NAN]])),
        ([a_obj], [b_hyp], np.array([[0.2]])),
        ([a_obj], [b_hyp, c_hyp], np.array([[0.1, NAN]])),
    ]
    counts, distance_sum = _ours(frames)
    assert counts == {"num_misses": 0, "num_switches": 2, "num_false_positives": 1, "num_objects": 6,
                      "num_detections": 6}
    assert 100 * (1 - (0 + 2 + 1) / 6) == mot_scores(counts_of([_accumulator(frames)])).mota[0] == 50.0
    # motmetrics 1.4 sums RAW rows (each finite distance once more) and TRANSFER rows (the two in frame 1)
    # into events['D']: matches 0.1+0.2+0.1+0.3+0.2+0.1, raw the same again, transfers 0.1+0.3.
    assert distance_sum == pytest.approx(2 * 1.0 + 0.4)
    assert (counts, distance_sum) == _motmetrics_numbers(frames)


def test_poseval_placeholder_frame_is_one_miss_and_one_false_positive() -> None:
    counts, _ = _ours([([0], [0], np.full((1, 1), NAN))])
    assert (counts["num_objects"], counts["num_misses"], counts["num_false_positives"]) == (1, 1, 1)


def _random_frames(rng: np.random.Generator, num_frames: int) -> list[tuple[list, list, np.ndarray]]:
    """Objects come and go, hypotheses are re-labelled now and then, several candidates per object, ties."""
    frames = []
    for _ in range(num_frames):
        oids = sorted(rng.choice(8, size=int(rng.integers(0, 7)), replace=False).tolist())
        hids = sorted(rng.choice(10, size=int(rng.integers(0, 7)), replace=False).tolist())
        rng.shuffle(hids)
        distances = np.round(rng.uniform(0, 0.5, size=(len(oids), len(hids))), 1)  # rounding makes ties
        distances[rng.random(distances.shape) < 0.6] = NAN
        frames.append((oids, hids, distances))
    return frames


@pytest.mark.parametrize("seed", range(40))
def test_matches_motmetrics_on_random_sequences(seed: int) -> None:
    frames = _random_frames(np.random.default_rng(seed), 12)
    ours_counts, ours_sum = _ours(frames)
    their_counts, their_sum = _motmetrics_numbers(frames)
    assert ours_counts == their_counts
    assert ours_sum == their_sum  # bit for bit: poseval's MOTP is computed from it


def test_conflicting_candidates_go_through_the_same_optimum_as_motmetrics() -> None:
    """Two objects both near two hypotheses: the minimum-cost pairing (A-b, B-a) must win."""
    frames = [([1, 2], [11, 12], np.array([[0.2, 0.1], [0.1, 0.4]]))]
    counts, distance_sum = _ours(frames)
    assert counts["num_detections"] == 2 and distance_sum == pytest.approx(2 * (0.1 + 0.1) + 0.2 + 0.4)
    assert (counts, distance_sum) == _motmetrics_numbers(frames)


def test_mot_scores_follow_poseval_formulas() -> None:
    """Joint 0: objects 10, misses 1, switches 1, FP 2, detections 8. Joint 1: nothing to find, 3 FP."""
    counts = MotCounts(objects=np.array([10, 0]), misses=np.array([1, 0]), false_positives=np.array([2, 3]),
                       switches=np.array([1, 0]), detections=np.array([8, 0]), distance_sum=np.array([2.0, 0.0]))
    scores = mot_scores(counts)
    assert scores.mota[0] == pytest.approx(100 * (1 - 4 / 10))
    assert scores.precision[0] == pytest.approx(100 * 8 / 10) and scores.recall[0] == pytest.approx(80.0)
    assert scores.motp[0] == pytest.approx(100 * (1 - 2.0 / 8))
    # No objects: MOTA and recall undefined (NaN, left out of the totals); no detections: MOTP 0 as poseval.
    assert math.isnan(scores.mota[1]) and math.isnan(scores.recall[1]) and scores.motp[1] == 0.0
    assert scores.precision[1] == 0.0
    assert nan_skipping_mean(scores.mota) == pytest.approx(60.0)


def test_counts_add_over_sequences() -> None:
    first, second = ClearMotAccumulator(), ClearMotAccumulator()
    first.update([1], [11], np.array([[0.1]]))
    second.update([1], [], np.zeros((1, 0)))
    total = counts_of([first]) + counts_of([second])
    assert total.objects.tolist() == [2] and total.misses.tolist() == [1] and total.detections.tolist() == [1]
