"""Held-out pose accuracy of a checkpoint at a few pruning ratios, next to the average-pose baseline.

Scores human-annotated still images with ground-truth boxes (COCO and
PoseTrack18 people, see :mod:`ftppose_cli.evaluation.heldout`): PCK at 0.05,
0.1 and 0.2 of the box's longer side, PCKh@0.5 where a head box exists, and
model milliseconds per person crop.

    python benchmarks/measure_pose.py                                   # weights/pose, ../shared/data/heldout
    python benchmarks/measure_pose.py --weights /work/cache/runs/tiny_k1/best.safetensors --flip-test
    python benchmarks/measure_pose.py --train-cache /work/cache/pose_crops   # + the training people's mean pose

Two image-blind reference lines: "average pose" is the leave-one-out mean of the other held-out
people of the same dataset (it knows what they share); "training mean" (with ``--train-cache``) is
the mean pose of the training people of a crop cache, all that an image-blind model could know.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from ftppose_cli.benchmarking.runner import with_window
from ftppose_cli.evaluation.heldout import (
    HeldoutResult,
    average_pose_baseline,
    evaluate_heldout,
    fixed_pose_baseline,
    load_heldout,
)
from ftppose_cli.formats.joints import POSETRACK_JOINTS
from ftppose_cli.models.checkpoint import load_model
from ftppose_cli.runtime import default_pose_weights, resolve_device

REPO = Path(__file__).resolve().parents[1]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=default_pose_weights())
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "heldout")
    parser.add_argument("--ratios", default="0,0.5,0.9")
    parser.add_argument("--window", type=int, default=None, help="run at this K (default: the checkpoint's)")
    parser.add_argument("--flip-test", action="store_true")
    parser.add_argument("--per-joint", action="store_true",
                        help="also print PCK@0.2 per joint and side-agnostic PCK@0.2 (mirrored joints accepted)")
    parser.add_argument("--posetrack-box-scale", type=float, default=1.0,
                        help="give the model PoseTrack people's boxes scaled by this about their centre "
                             "(PCK still uses the original box): what the looser PoseTrack box costs")
    parser.add_argument("--train-cache", type=Path, default=None,
                        help="crop cache of the training data (ftppose train --cache): also score its training "
                             "people's mean pose placed in each box")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write every result here")
    return parser.parse_args()


def _line(label: str, result: HeldoutResult, name: str = "overall") -> str:
    s = result.scores[name]
    pckh = "   -  " if s.pckh is None else f"{s.pckh:6.3f}"
    ms = "" if result.ms_per_crop is None else f"{result.ms_per_crop:9.1f}"
    return f"{label:14s} {s.pck[0.05]:8.3f} {s.pck[0.1]:8.3f} {s.pck[0.2]:8.3f} {pckh:>8s} {ms}"


def _per_joint(name: str, results: dict[str, HeldoutResult]) -> None:
    labels = list(results)
    print(f"  PCK@0.2 per joint{'':6s}" + "".join(f"{label:>14s}" for label in labels))
    for joint in POSETRACK_JOINTS:
        values = [results[label].scores[name].per_joint[joint] for label in labels]
        if any(v is not None for v in values):
            print(f"  {joint:23s}" + "".join(f"{'-' if v is None else f'{v:.2f}':>14s}" for v in values))
    print(f"  {'side-agnostic PCK@0.2':23s}" + "".join(f"{results[label].scores[name].side_agnostic:14.3f}"
                                                       for label in labels))
    for way in ("towards", "away"):
        calls = [results[label].scores[name].facing for label in labels]
        cells = "".join(f"{str(c[f'{way}_right']) + '/' + str(c[way]):>14s}" for c in calls)
        print(f"  {'facing ' + way + ': right':23s}" + cells)


def main() -> None:
    args = _parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    model = load_model(args.weights, device)
    if args.window is not None:
        model = with_window(model, args.window).to(device)
    data = load_heldout(args.data)
    ratios = [float(r) for r in args.ratios.split(",")]
    counts = ", ".join(f"{name}: {sum(p.dataset == name for p in data.people)}" for name in data.datasets)
    print(f"checkpoint {args.weights} (size {model.config.size}, K={model.config.window}), "
          f"flip test {'on' if args.flip_test else 'off'}, {device}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"held-out people: {len(data.people)} ({counts})")
    if not model.temporal:
        print("single-frame model: the pruning ratio has no effect on its predictions")
    baseline = average_pose_baseline(data)
    references = {"average pose": baseline}
    if args.train_cache:
        from ftppose_cli.training.datasets import CropCache

        cache = CropCache(args.train_cache)
        train, _ = cache.split_by_scene(cache.val_scenes)
        references["training mean"] = fixed_pose_baseline(data, cache.mean_pose(train))
        print(f"training mean pose: {len(train)} people of {args.train_cache}")
    box_scale = {"posetrack18": args.posetrack_box_scale}
    if args.posetrack_box_scale != 1.0:
        print(f"PoseTrack people's boxes given to the model scaled by {args.posetrack_box_scale:g}")
    results = {r: evaluate_heldout(model, data, r, args.flip_test, device, box_scale=box_scale) for r in ratios}
    for name in ["overall", *data.datasets]:
        s = baseline.scores[name]
        print(f"\n[{name}] {s.people} people, {s.joints} joints ({s.head_joints} with a head box)")
        print(f"{'':14s} {'PCK@.05':>8s} {'PCK@.1':>8s} {'PCK@.2':>8s} {'PCKh@.5':>8s} {'ms/crop':>9s}")
        for r, result in results.items():
            print(_line(f"ratio {r:g}", result, name))
            low_high = [result.scores[name].pck_interval[t] for t in (0.05, 0.1, 0.2)]
            print(f"{'  95% interval':14s} " + " ".join(f"{f'{lo:.2f}-{hi:.2f}':>8s}" for lo, hi in low_high))
        for label, reference in references.items():
            print(_line(label, reference, name))
        if args.per_joint:
            _per_joint(name, {**{f"ratio {r:g}": res for r, res in results.items()}, **references})
    if args.json:
        extra = {"training_mean_pose": references["training mean"].to_dict()} if args.train_cache else {}
        args.json.write_text(json.dumps({"weights": str(args.weights), "average_pose": baseline.to_dict(), **extra,
                                         "ratios": [results[r].to_dict() for r in ratios]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
