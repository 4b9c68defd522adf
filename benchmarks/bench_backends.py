"""Issue 33's three targets in one run: ONNX Runtime against eager PyTorch, and pruning's gain in video mode.

For the shipped pose model (or ``--weights``), at the same thread count:

1. the pose model on ONNX Runtime against eager PyTorch, in video mode (one new
   frame through the per-frame half per window, then the window), at each
   ``--batch-size``, and its keypoints against PyTorch's on the people of the
   example clip (target: >= 1.5x, within 0.5 % of the box);
2. ``annotate`` end to end on the example clip (shipped detector included) with
   ``--backend onnx`` against ``--backend torch`` (target: >= 1.4x);
3. the model in video mode at ratio 0.5 against ratio 0, on each backend and
   batch (target: >= 1.2x).

Every comparison is timed round-robin in this one process (the model at every
backend, ratio and batch in one loop; annotate alternating backends and
ratios), so background load hits both sides alike; the load average before and
after is printed. Absolute times on a busy machine mean little; the ratios are
what carries over.

    python benchmarks/bench_backends.py                       # the backends' default threads
    python benchmarks/bench_backends.py --threads 1 --json backends.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from ftppose_cli.benchmarking.backends import benchmark_backends
from ftppose_cli.benchmarking.runner import BenchmarkOptions
from ftppose_cli.benchmarking.video import benchmark_video
from ftppose_cli.runtime import example_clip

TARGETS = {"onnx_vs_torch": 1.5, "keypoints_box_fraction": 0.005, "annotate_onnx_vs_torch": 1.4,
           "ratio_gain_video": 1.2}


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None, help="pose checkpoint (default: the shipped one)")
    parser.add_argument("--video", type=Path, default=example_clip())
    parser.add_argument("--ratio", type=float, default=0.5, help="the pruned ratio compared with 0")
    parser.add_argument("--batch-sizes", default="1,8",
                        help="windows per call in video mode, comma separated (annotate decodes ~60 at once on the "
                             "example clip: 8 frames of ~7.6 people)")
    parser.add_argument("--threads", type=int, default=None, help="torch and ONNX Runtime threads (default: theirs)")
    parser.add_argument("--repeats", type=int, default=21, help="timed repeats of the model (median)")
    parser.add_argument("--video-repeats", type=int, default=3, help="annotate runs per backend and ratio (median)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    return parser.parse_args()


def _verdict(value: float, target: float, at_least: bool = True) -> str:
    return "met" if (value >= target if at_least else value <= target) else "MISSED"


def main() -> None:
    args = _parse()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    ratios = (0.0, args.ratio)
    model_rows = {}
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        options = BenchmarkOptions(weights=args.weights, ratios=ratios, device="cpu", batch_size=batch,
                                   warmup=3, repeats=args.repeats, threads=args.threads)
        model_rows[batch] = benchmark_backends(options, ("torch", "onnx"), sample=args.video)
    video_rows = benchmark_video(args.video, (args.ratio,), weights=args.weights, device="cpu",
                                 repeats=args.video_repeats, backends=("torch", "onnx"), threads=args.threads)
    load_after = os.getloadavg()
    threads = torch.get_num_threads() if args.threads is None else args.threads

    print(f"{os.cpu_count()} CPUs, {threads} threads (torch {torch.get_num_threads()}; ONNX Runtime "
          f"{args.threads or 'its default'}), load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"\npose model, video mode (ms per call of B windows: B new frames + B windows; median of {args.repeats})")
    print(f"{'backend':>8s} {'B':>3s} {'ratio':>6s} {'ms':>8s} {'p90':>8s} {'x torch':>8s} {'x ratio 0':>10s} "
          f"{'keypoints vs torch, % of box':>29s}")
    for batch, rows in model_rows.items():
        for row in rows:
            agreement = "-" if row.agreement is None else f"{100 * row.agreement.max_box_fraction:.2g}"
            print(f"{row.backend:>8s} {batch:3d} {row.ratio:6g} {row.video.median_ms:8.1f} {row.video.p90_ms:8.1f} "
                  f"{row.speedup_vs_torch:8.2f} {row.video_speedup_vs_ratio0:10.2f} {agreement:>29s}")
    print(f"\nannotate {args.video.name} end to end (median of {args.video_repeats})")
    for row in video_rows:
        print(f"{row.backend:>8s} ratio {row.ratio:g}: {row.fps_median:.2f} fps, x torch {row.speedup_vs_torch:.2f}, "
              f"x ratio 0 {row.speedup_vs_ratio0:.2f}, pose {row.stage_ms_per_frame['pose']:.1f} ms/frame")

    print("\ntargets")
    lines = []
    for batch, rows in model_rows.items():
        onnx = next(r for r in rows if r.backend == "onnx" and r.ratio == args.ratio)
        lines.append((f"1. pose model, ONNX Runtime vs PyTorch, ratio {args.ratio:g}, B={batch}",
                      onnx.speedup_vs_torch, TARGETS["onnx_vs_torch"], True))
    agreements = [r.agreement.max_box_fraction for rows in model_rows.values() for r in rows if r.agreement]
    if agreements:
        lines.append(("1. keypoints, ONNX Runtime vs PyTorch, largest difference / box size",
                      max(agreements), TARGETS["keypoints_box_fraction"], False))
    onnx_video = next(r for r in video_rows if r.backend == "onnx" and r.ratio == args.ratio)
    lines.append((f"2. annotate {args.video.name}, --backend onnx vs torch, ratio {args.ratio:g}",
                  onnx_video.speedup_vs_torch, TARGETS["annotate_onnx_vs_torch"], True))
    for batch, rows in model_rows.items():
        for row in rows:
            if row.ratio == args.ratio:
                lines.append((f"3. video mode, ratio {args.ratio:g} vs 0, {row.backend}, B={batch}",
                              row.video_speedup_vs_ratio0, TARGETS["ratio_gain_video"], True))
    for label, value, target, at_least in lines:
        shown = f"{100 * value:.2g} %" if not at_least else f"{value:.2f}x"
        goal = f"<= {100 * target:g} %" if not at_least else f">= {target:g}x"
        print(f"  {label:72s} {shown:>9s}  ({goal}: {_verdict(value, target, at_least)})")
    if args.json:
        args.json.write_text(json.dumps({
            "threads": threads, "load_average": [load_before, load_after],
            "model": {str(b): [r.to_dict() for r in rows] for b, rows in model_rows.items()},
            "annotate": [r.to_dict() for r in video_rows],
            "targets": [{"what": label, "value": value, "target": target} for label, value, target, _ in lines],
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
