"""Both shipped models on ../shared/data/heldout in one run: pose PCK / PCKh and ms per crop, end to end
(detector + pose model), then detector recall / precision at IoU 0.5 and ms per 640x480 frame.

    python benchmarks/measure_heldout.py                 # weights/, 1 thread
    python benchmarks/measure_heldout.py --threads 2 --pose-weights runs/x/best.safetensors
    python benchmarks/measure_heldout.py --teacher --lspet /work/cache/lspet   # + LSPet val, the teachers beside ours

``--teacher``, ``--teachers``, ``--lspet`` and ``--lspet-every`` are passed on to the scripts that take them
(``--lspet`` to the pose script only); the end-to-end figure uses ``--detector-weights``.

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
    parser.add_argument("--teacher", action="store_true", help="also the labelling teachers' figures (onnxruntime)")
    parser.add_argument("--teachers", type=Path, default=None, help="the teachers' ONNX folder")
    parser.add_argument("--lspet", type=Path, default=None, help="LSPet folder: also its validation split")
    parser.add_argument("--lspet-every", type=int, default=None, metavar="N")
    args = parser.parse_args()
    threads = ["--threads", str(args.threads)]
    teacher = (["--teacher"] if args.teacher else []) + (["--teachers", args.teachers] if args.teachers else [])
    lspet = (["--lspet", args.lspet] if args.lspet else []) + \
        (["--lspet-every", str(args.lspet_every)] if args.lspet_every else [])
    runs = [
        [HERE / "measure_pose.py", "--weights", args.pose_weights, "--ratios", "0,0.5,0.9", "--per-joint",
         "--detector", args.detector_weights, *teacher, *lspet, *threads],
        [HERE / "measure_detector.py", "--weights", args.detector_weights, *teacher, *threads],
    ]
    for run in runs:
        print(f"\n$ {' '.join(str(part) for part in run)}", flush=True)
        code = subprocess.call([sys.executable, *map(str, run)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
