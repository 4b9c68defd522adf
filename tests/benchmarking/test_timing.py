"""Round-robin timing: every callable once a round; shuffled rounds change who runs after whom."""

from __future__ import annotations

from ftppose_cli.benchmarking.timing import time_interleaved


def _recorder(calls: list[str], name: str):
    return lambda: calls.append(name)


def test_rounds_run_each_callable_once_in_a_fixed_or_shuffled_order() -> None:
    for seed in (None, 0):
        calls: list[str] = []
        fns = {name: _recorder(calls, name) for name in "abcd"}
        timings = time_interleaved(fns, warmup=0, repeats=12, shuffle_seed=seed)
        assert all(len(t.samples_ms) == 12 for t in timings.values())
        rounds = [tuple(calls[i:i + 4]) for i in range(0, len(calls), 4)]
        assert all(sorted(r) == list("abcd") for r in rounds)
        if seed is None:
            assert set(rounds) == {tuple("abcd")}
        else:  # a always ran first in the fixed order; shuffled, others precede it too
            assert len(set(rounds)) > 1 and any(r[0] != "a" for r in rounds)
