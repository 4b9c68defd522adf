"""Both shipped models on ../shared/data/heldout in one run: pose PCK / PCKh and ms per crop, then detector
recall / precision at IoU 0.5 and ms per 640x480 frame.

    python benchmarks/measure_heldout.py                 # weights/, 1 thread
    python benchmarks/measure_heldout.py --threads 2 --pose-weights runs/x/best.safetensors

Each part is its own script (``measure_pose.py``, ``measure_detector.py``) with more options; this one
runs them one after the other with the same thread count, so the figures of a weights/README.md update
come from one command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE.parent / "weights"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pose-weights", type=Path, default=WEIGHTS / "pose.safetensors")
    parser.add_argument("--detector-weights", type=Path, default=WEIGHTS / "detector.safetensors")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    threads = ["--threads", str(args.threads)]
    runs = [
        [HERE / "measure_pose.py", "--weights", args.pose_weights, "--ratios", "0,0.5,0.9", "--per-joint", *threads],
        [HERE / "measure_detector.py", "--weights", args.detector_weights, *threads],
    ]
    for run in runs:
        print(f"\n$ {' '.join(str(part) for part in run)}", flush=True)
        code = subprocess.call([sys.executable, *map(str, run)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
