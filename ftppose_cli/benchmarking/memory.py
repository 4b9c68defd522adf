"""Peak memory while a piece of work runs.

On a GPU, PyTorch's allocator knows its own peak (``max_memory_allocated``),
which is what decides whether a batch fits. On the CPU there is no allocator
counter, and ``getrusage``'s ``ru_maxrss`` only ever grows over the process's
life, so it cannot tell one pruning ratio from the next; a background thread
samples the resident set size instead. Sampling can miss a spike shorter than
its interval, so the CPU figure is a lower bound of the true peak.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType

import psutil
import torch


@dataclass(frozen=True)
class MemoryPeak:
    """``peak_bytes``: highest reading; ``kind``: what was read (``rss`` or ``cuda_allocated``)."""

    peak_bytes: int
    kind: str

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20


class PeakMemory:
    """Context manager measuring peak memory of the work inside it on ``device``.

    >>> with PeakMemory("cpu") as meter:
    ...     work()
    >>> meter.result.peak_mb
    """

    def __init__(self, device: torch.device | str = "cpu", interval_s: float = 0.002) -> None:
        self.device = torch.device(device)
        self.interval_s = interval_s
        self.result: MemoryPeak | None = None
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = psutil.Process()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._process.memory_info().rss)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._peak = self._process.memory_info().rss
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.result = MemoryPeak(int(torch.cuda.max_memory_allocated(self.device)), "cuda_allocated")
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._peak = max(self._peak, self._process.memory_info().rss)
        self.result = MemoryPeak(int(self._peak), "rss")
