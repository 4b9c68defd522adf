"""Start a temporal stage from a new single-frame model and an older model's temporal path.

``ftppose train --init-from`` takes one file. A temporal stage (``--temporal-only``) after a new
single-frame stage would otherwise start its temporal path (MGFE, fusion, the head's temporal entry)
from random weights with a zero entry; starting it from the previous release's trained temporal path
is a warm start: the spatial tensors come from the new single-frame checkpoint, every tensor it
lacks from the older K-frame one.

    python scripts/merge_temporal.py runs/p1/best.safetensors weights/pose.safetensors runs/p1_k3.safetensors
"""

from __future__ import annotations

import argparse

from safetensors.torch import load_file, save_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("single_frame", help="the new single-frame checkpoint (.safetensors)")
    parser.add_argument("temporal", help="a K-frame checkpoint whose temporal path to start from")
    parser.add_argument("out", help="the merged .safetensors to give --init-from")
    args = parser.parse_args()
    spatial, temporal = load_file(args.single_frame), load_file(args.temporal)
    merged = {**temporal, **spatial}
    save_file(merged, args.out)
    print(f"{len(spatial)} tensors from {args.single_frame}, {len(merged) - len(spatial)} from {args.temporal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
