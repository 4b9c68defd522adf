"""Many inputs over several processes: `torchrun --nproc_per_node N -m ftppose_cli annotate ...`.

torchrun starts N copies of the command and tells each its place
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``). Every copy expands the same
inputs the same way, takes its share (:func:`shard`), runs on its own device
(``cuda:LOCAL_RANK``, or the CPU) and writes the outputs of its share alone,
so each input is written by exactly one process. At the end the reports
travel to rank 0 (:meth:`Ranks.gather`), which prints and writes the one
merged report. Without torchrun this is one rank of one, and nothing here
imports torch.

Only Python objects are exchanged, so the process group always uses gloo,
on GPU machines too; its timeout is long because the ranks wait for the
slowest one's last video.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")
# A rank waits at the gather until the slowest rank has finished all of its inputs.
_GATHER_TIMEOUT = timedelta(days=7)


@dataclass(frozen=True)
class Ranks:
    """This process's place among those torchrun started (rank 0 of 1 when run on its own)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Ranks:
        """torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``; rank 0 of 1 without them."""
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            return cls()
        return cls(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, name: str) -> str:
        """The device of this rank: ``auto`` or ``cuda`` become ``cuda:LOCAL_RANK`` under torchrun if CUDA exists.

        One GPU per rank. Without CUDA, ``auto`` stays ``auto`` (the CPU, or
        Apple's MPS). An explicit ``cuda:N`` is left alone.
        """
        if not self.distributed or name not in ("auto", "cuda"):
            return name
        import torch

        if torch.cuda.is_available():
            return f"cuda:{self.local_rank % torch.cuda.device_count()}"
        return name

    def gather(self, value: T) -> list[T] | None:
        """Every rank's ``value``, in rank order, on rank 0 (``None`` on the others); a no-op on one rank."""
        if not self.distributed:
            return [value]
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo", timeout=_GATHER_TIMEOUT)
        gathered: list[Any] | None = [None] * self.world if self.main else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def close(self) -> None:
        """Leave the process group (if one was made), so the process exits without a warning."""
        if self.distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def shard(items: Sequence[T], sizes: Sequence[int], ranks: Ranks) -> list[T]:
    """This rank's share of ``items``, balanced by ``sizes`` (e.g. bytes), in the items' own order.

    Largest first, each to the rank with the least so far (ties to the lower
    rank): every rank computes the same split from the same list, with no
    message exchanged, and no input is left out or done twice.
    """
    if len(items) != len(sizes):
        raise ValueError("one size per item")
    if not ranks.distributed:
        return list(items)
    load = [0] * ranks.world
    owner = [0] * len(items)
    for index in sorted(range(len(items)), key=lambda i: (-sizes[i], i)):
        rank = min(range(ranks.world), key=lambda r: (load[r], r))
        owner[index] = rank
        load[rank] += max(1, sizes[index])
    return [item for item, rank in zip(items, owner) if rank == ranks.rank]
