"""Latency measurement: warm-up, repeats, median and 90th percentile.

Timings on a shared machine are noisy, so we report the median (robust to the
occasional slow repeat when another process takes the CPU) and p90 (how bad
the tail is), never the mean. On a GPU the kernels run asynchronously, so the
device is synchronised before the clock is read on both sides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one callable, in milliseconds."""

    samples_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return float(np.median(self.samples_ms))

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.samples_ms, 90))

    def to_dict(self) -> dict:
        return {"median_ms": self.median_ms, "p90_ms": self.p90_ms, "samples_ms": list(self.samples_ms)}


def synchronize(device: torch.device | str) -> None:
    """Wait for queued GPU work so the clock measures it; a no-op on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _once(fn: Callable[[], object], device: torch.device | str) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1000.0


@torch.inference_mode()
def time_callable(fn: Callable[[], object], device: torch.device | str = "cpu", warmup: int = 3,
                  repeats: int = 10) -> Timing:
    """Run ``fn`` ``warmup`` times untimed (allocator, kernels, compilation), then time ``repeats`` runs."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(max(0, warmup)):
        fn()
    return Timing(tuple(_once(fn, device) for _ in range(repeats)))


@torch.inference_mode()
def time_interleaved(fns: dict[str, Callable[[], object]], device: torch.device | str = "cpu", warmup: int = 3,
                     repeats: int = 10, shuffle_seed: int | None = None) -> dict[str, Timing]:
    """Time several callables in round-robin order.

    When a comparison (pruned vs unpruned) is the point, interleaving puts
    both under the same background load: a burst from another process slows
    one repeat of each instead of all repeats of one.

    ``shuffle_seed``: run each round in a fresh random order. Callables that use
    different thread pools (PyTorch's and ONNX Runtime's) disturb whichever runs
    next, while the other pool's threads wind down; in a fixed order the same
    callable would always pay for it.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(max(0, warmup)):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    for _ in range(repeats):
        for name in (names if rng is None else rng.permutation(names)):
            samples[name].append(_once(fns[name], device))
    return {name: Timing(tuple(values)) for name, values in samples.items()}
