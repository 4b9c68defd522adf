"""DPC-KNN token selection against a plain brute-force reference."""

from __future__ import annotations

import math

import pytest
import torch

from ftppose_cli.models.pruning import dpc_knn_scores, keep_count, prune_tokens, select_tokens


def _reference(tokens: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Loop-by-loop DPC-KNN of one frame, written straight from the definition."""
    n, c = tokens.shape
    x = tokens.double()
    d = [[math.sqrt(float(((x[i] - x[j]) ** 2).sum())) / math.sqrt(c) for j in range(n)] for i in range(n)]
    rho = []
    for i in range(n):
        neighbours = sorted(d[i][j] for j in range(n) if j != i)[:k]
        rho.append(math.exp(-sum(v * v for v in neighbours) / k) + (n - i) * 1e-6 / n)
    delta = []
    for i in range(n):
        denser = [d[i][j] for j in range(n) if rho[j] > rho[i]]
        delta.append(min(denser) if denser else max(d[i]))
    score = [r * dl for r, dl in zip(rho, delta)]
    return (torch.tensor(rho, dtype=torch.float64), torch.tensor(delta, dtype=torch.float64),
            torch.tensor(score, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_and_kept_indices_match_brute_force(seed: int) -> None:
    torch.manual_seed(seed)
    tokens = torch.randn(3, 24, 8)
    rho, delta, score = dpc_knn_scores(tokens, k=5)
    keep = 10
    kept = select_tokens(tokens, keep, k=5)
    for b in range(tokens.shape[0]):
        ref_rho, ref_delta, ref_score = _reference(tokens[b], 5)
        torch.testing.assert_close(rho[b].double(), ref_rho, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(delta[b].double(), ref_delta, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(score[b].double(), ref_score, rtol=1e-5, atol=1e-6)
        ref_kept = sorted(torch.topk(ref_score, keep).indices.tolist())
        assert kept[b].tolist() == ref_kept


def test_equal_tokens_have_a_strict_order() -> None:
    tokens = torch.ones(1, 6, 4)
    rho, _, _ = dpc_knn_scores(tokens)
    assert torch.all(rho[0, :-1] > rho[0, 1:])


@pytest.mark.parametrize("epsilon,expected", [(0.0, 192), (0.25, 144), (0.5, 96), (0.75, 48), (0.9, 20)])
def test_kept_token_counts(epsilon: float, expected: int) -> None:
    assert keep_count(192, epsilon) == expected
    tokens = torch.randn(2, 192, 16)
    assert prune_tokens(tokens, keep_count(192, epsilon)).shape == (2, expected, 16)


def test_pruning_ratio_must_be_below_one() -> None:
    with pytest.raises(ValueError):
        keep_count(192, 1.0)


def test_kept_tokens_keep_their_original_order() -> None:
    tokens = torch.randn(4, 50, 8)
    index = select_tokens(tokens, 20)
    assert torch.all(index[:, 1:] > index[:, :-1])


def test_merge_averages_every_dropped_token_into_its_nearest_kept_token() -> None:
    torch.manual_seed(0)
    tokens = torch.randn(2, 30, 6)
    merged = prune_tokens(tokens, 10, merge=True)
    index = select_tokens(tokens, 10)
    for b in range(2):
        kept = tokens[b, index[b]]
        owner = torch.cdist(tokens[b], kept).argmin(dim=1)
        owner[index[b]] = torch.arange(10)
        for slot in range(10):
            torch.testing.assert_close(merged[b, slot], tokens[b, owner == slot].mean(dim=0))


@pytest.mark.parametrize("seed", [0, 1])
def test_the_first_keep_ranked_tokens_are_the_kept_ones_at_every_ratio(seed: int) -> None:
    from ftppose_cli.models.pruning import rank_tokens

    torch.manual_seed(seed)
    tokens = torch.randn(3, 40, 8)
    ranked = rank_tokens(tokens)
    for keep in (1, 7, 20, 39, 40):
        kept = prune_tokens(tokens, keep)
        for row in range(3):
            as_sets = [{tuple(t.tolist()) for t in frame} for frame in (ranked[row, :keep], kept[row])]
            assert as_sets[0] == as_sets[1]
    assert torch.equal(ranked.sort(dim=1).values, tokens.sort(dim=1).values)  # a permutation of each row
