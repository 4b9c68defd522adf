"""Keypoint HOTA as the PoseTrack21 kit computes it, on cases small enough to work out by hand.

Similarity = max(0, 1 - d / 0.5001) with d in head sizes; alpha runs over
0.05 ... 0.95 (19 values) and every figure is a mean over alpha, in percent.
The kit's own numbers on random cases are checked in test_official_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from ftppose_cli.evaluation.hota import ALPHAS, combine, sequence_counts

J = 15


def _sequence(distances: list[list[list[float]]], pred_count: list[int] | None = None,
              pred_ids: list[list[int]] | None = None) -> dict[str, np.ndarray]:
    """``distances[f][p][g]`` for every joint alike; every person has all 15 joints."""
    d = np.array(distances, dtype=float)  # (F, P, G)
    frames, preds, gts = d.shape
    pred_count = np.array(pred_count if pred_count is not None else [preds] * frames)
    pred_present = np.arange(preds)[None, :, None] < pred_count[:, None, None]
    return {"distances": np.repeat(d[..., None], J, axis=3), "gt_present": np.ones((frames, gts, J), bool),
            "pred_present": np.repeat(pred_present, J, axis=2), "gt_ids": np.tile(np.arange(gts), (frames, 1)),
            "pred_ids": np.array(pred_ids) if pred_ids is not None else np.tile(np.arange(preds), (frames, 1)),
            "gt_count": np.full(frames, gts), "pred_count": pred_count}


def _figures(*sequences: dict) -> dict[str, np.ndarray]:
    return combine([sequence_counts(**s) for s in sequences])


def test_exact_predictions_score_100_everywhere() -> None:
    figures = _figures(_sequence([[[0.0]], [[0.0]]]))
    for field in ("HOTA", "DetA", "AssA", "LocA"):
        assert figures[field] == pytest.approx(np.full(J + 1, 100.0))


def test_a_quarter_head_off_is_similar_for_the_first_ten_alphas() -> None:
    """Similarity 1 - 0.25 / 0.5001 = 0.50010: a true positive for alpha 0.05 ... 0.50, nothing above.

    DetA = AssA = HOTA = 10/19; LocA = (10 x 0.50010 + 9 x 1) / 19 (no true positive: LocA 1).
    """
    similarity = 1 - 0.25 / 0.5001
    assert (ALPHAS <= similarity).sum() == 10
    figures = _figures(_sequence([[[0.25]]]))
    assert figures["DetA"][0] == pytest.approx(100 * 10 / 19)
    assert figures["HOTA"][0] == pytest.approx(100 * 10 / 19)
    assert figures["LocA"][0] == pytest.approx(100 * (10 * similarity + 9) / 19)


def test_an_id_switch_halves_association() -> None:
    """One person, two frames, the prediction changes id: each id pair matches once out of 2 + 1 - 1 joints.

    AssA = 1/2 at every alpha, DetA = 1: HOTA = sqrt(1/2).
    """
    figures = _figures(_sequence([[[0.0]], [[0.0]]], pred_ids=[[0], [1]]))
    assert figures["AssA"][0] == pytest.approx(50.0)
    assert figures["DetA"][0] == pytest.approx(100.0)
    assert figures["HOTA"][0] == pytest.approx(100 * np.sqrt(0.5))


def test_hungarian_matching_takes_the_best_total_not_the_greedy_pair() -> None:
    """Prediction 0 is closest to person 0 (d 0.0 vs 0.1), but only it reaches person 1 (d 0.1): the kit's
    matching pairs p0-g1 and p1-g0 (similarities 0.80 + 0.40 beat 1.0 + 0). With m of them similar enough
    at an alpha, TP = m and FN = FP = 2 - m: DetA = m / (4 - m)."""
    figures = _figures(_sequence([[[0.0, 0.1], [0.3, 0.6]]]))
    matched = np.array([1 - 0.1 / 0.5001, 1 - 0.3 / 0.5001])
    hits = np.array([(matched >= alpha - np.finfo(float).eps).sum() for alpha in ALPHAS])
    detection = hits / (4 - hits)
    assert figures["DetA"][0] == pytest.approx(100 * detection.mean())


def test_a_frame_without_predictions_misses_the_whole_sequence() -> None:
    """The kit's quirk: frame 1 has no prediction, and adds every ground-truth joint of the sequence (2 per
    joint) as misses. TP 1, FN 2: DetA 1/3; AssA = 1 x 1 / (2 + 1 - 1) = 1/2."""
    figures = _figures(_sequence([[[0.0]], [[np.inf]]], pred_count=[1, 0]))
    assert figures["DetA"][0] == pytest.approx(100 / 3)
    assert figures["AssA"][0] == pytest.approx(50.0)
    assert figures["HOTA"][0] == pytest.approx(100 * np.sqrt(1 / 6))


def test_a_sequence_without_predictions_has_hota_0_and_loca_1() -> None:
    figures = _figures(_sequence([[[np.inf]]], pred_count=[0]))
    assert figures["HOTA"][0] == 0.0 and figures["LocA"][0] == pytest.approx(100.0)


def test_total_column_weights_sequences_by_true_positives() -> None:
    """Sequences combine by summed counts and TP-weighted AssA: an exact sequence and a missed one give
    DetA 1/2 (TP 1, FN 1) with AssA 1, so HOTA sqrt(1/2), in every joint column and the Total."""
    figures = _figures(_sequence([[[0.0]]]), _sequence([[[np.inf]]], pred_count=[0]))
    assert figures["DetA"] == pytest.approx(np.full(J + 1, 50.0))
    assert figures["HOTA"] == pytest.approx(np.full(J + 1, 100 * np.sqrt(0.5)))
