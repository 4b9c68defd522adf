"""Does pruning make the MGFE + fusion stage faster in time, not only in FLOPs?

Times the stage pruning acts on (MGFE: high-resolution branch + pruned
temporal branch, then the cross-attention fusion) at ratio epsilon vs 0 on
the same model in the same run, interleaved so background load hits both
alike; prints the speed ratio, the FLOP reduction, absolute times, every
stage's share of the model's time, and a per-operator profile that shows
which parts do not shrink with the token count.

    python benchmarks/bench_model_stages.py                 # base, batch 1, K=3, epsilon 0.5
    python benchmarks/bench_model_stages.py --threads 1     # one intra-op thread

Targets (from the team brief): >= 1.8x faster, >= 45% fewer FLOPs at epsilon 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from ftppose_cli.benchmarking.flops import count_stage_flops
from ftppose_cli.benchmarking.timing import time_interleaved
from ftppose_cli.models.ftppose import FTPPose, create_model
from ftppose_cli.models.pruning import keep_count, prune_tokens

_WHOLE_MODEL = ("backbone (1 frame/window)", "head", "full forward (K frames)")
SPEED_TARGET = 1.8
FLOP_TARGET = 0.45


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="base")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=0.5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--share-repeats", type=int, default=5,
                        help="repeats of the whole-model parts (backbone, head, full forward), used for the shares")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--profile-iters", type=int, default=5, help="0 skips the operator profile")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return parser.parse_args()


@torch.inference_mode()
def _setup(model: FTPPose, batch: int) -> dict:
    cfg = model.config
    clips = torch.randn(batch, cfg.window, 3, *cfg.img_size, generator=torch.Generator().manual_seed(0))
    last, inter = model.embed_frames(clips.flatten(0, 1))
    last = last.reshape(batch, cfg.window, *last.shape[1:])
    key_inter = inter.reshape(batch, cfg.window, *inter.shape[1:])[:, model.key_index]
    return {"clips": clips, "frames": clips[:, model.key_index].contiguous(), "last": last, "key_inter": key_inter}


def _callables(model: FTPPose, x: dict, eps: float) -> dict:
    """Zero-argument callables for the stage and its parts at ratio ``eps``."""
    grid = model.config.grid_size
    last, key_inter = x["last"], x["key_inter"]
    batch, window, num, dim = last.shape
    key = last[:, model.key_index]
    with torch.inference_mode():
        query = model.high_resolution(key, key_inter, grid)
        context = model.temporal_branch(last, eps)
        fused = model.fusion(query, context).transpose(1, 2).reshape(batch, dim, grid[0] * 2, grid[1] * 2)
    key_map = key.transpose(1, 2).reshape(batch, dim, *grid)
    tokens = (last + model.temporal_branch.frame_embed).reshape(batch * window, num, dim)
    keep = keep_count(num, eps)

    def mgfe_fusion():
        q = model.high_resolution(key, key_inter, grid)
        return model.fusion(q, model.temporal_branch(last, eps))

    return {
        "mgfe+fusion": mgfe_fusion,
        "high-res branch": lambda: model.high_resolution(key, key_inter, grid),
        "DPC-KNN pruning": (lambda: prune_tokens(tokens, keep, model.config.dpc_k)) if eps > 0 else None,
        "temporal branch": lambda: model.temporal_branch(last, eps),
        "fusion": lambda: model.fusion(query, context),
        "backbone (1 frame/window)": lambda: model.embed_frames(x["frames"]),
        "head": lambda: model.head(key_map, fused),
        "full forward (K frames)": lambda: model(x["clips"], eps),
    }


def _profile(fn, iters: int) -> dict[str, float]:
    """Self CPU time per operator, ms per call of ``fn``."""
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(iters):
            fn()
    out: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        out[event.key] += event.self_cpu_time_total / 1000.0 / iters
    return dict(out)


def main() -> None:
    args = _parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model(args.size, window=args.window).eval()
    eps = args.epsilon
    load_before = os.getloadavg()
    x = _setup(model, args.batch)

    flops0 = count_stage_flops(model, 0.0, batch=args.batch, backbone_per_window=False)
    flopse = count_stage_flops(model, eps, batch=args.batch, backbone_per_window=False)
    stage_flops = lambda f: f["mgfe"].flops + f["fusion"].flops  # noqa: E731
    flop_reduction = 1.0 - stage_flops(flopse) / stage_flops(flops0)

    at0, ate = _callables(model, x, 0.0), _callables(model, x, eps)
    fns = {f"{name} @0": fn for name, fn in at0.items() if fn is not None}
    fns.update({f"{name} @{eps:g}": fn for name, fn in ate.items() if fn is not None})
    # The pruned stage gets the many repeats; the whole-model parts (seconds each) only serve the shares.
    whole = {name for name in fns if name.split(" @")[0] in _WHOLE_MODEL}
    timings = time_interleaved({k: v for k, v in fns.items() if k not in whole}, "cpu", args.warmup, args.repeats)
    timings.update(time_interleaved({k: fns[k] for k in whole}, "cpu", min(args.warmup, 1), args.share_repeats))
    med = {name: t.median_ms for name, t in timings.items()}
    load_after = os.getloadavg()

    t0, te = med["mgfe+fusion @0"], med[f"mgfe+fusion @{eps:g}"]
    speed = t0 / te
    print(f"model {args.size}, batch {args.batch}, K={args.window}, epsilon {eps:g}, "
          f"{torch.get_num_threads()} threads, {args.repeats} repeats (median), "
          f"load average {load_before[0]:.1f} -> {load_after[0]:.1f} on {os.cpu_count()} cores")
    print(f"\nMGFE + fusion: {t0:.1f} ms at 0, {te:.1f} ms at {eps:g} -> {speed:.2f}x faster "
          f"(target >= {SPEED_TARGET}x: {'met' if speed >= SPEED_TARGET else 'MISSED'})")
    print(f"FLOPs: {stage_flops(flops0) / 1e9:.2f} -> {stage_flops(flopse) / 1e9:.2f} GFLOPs, "
          f"{flop_reduction:.1%} lower (target >= {FLOP_TARGET:.0%}: "
          f"{'met' if flop_reduction >= FLOP_TARGET else 'MISSED'})")

    print("\nmedian ms per part (p90 in brackets):")
    for name in at0:
        if f"{name} @0" not in med and f"{name} @{eps:g}" not in med:
            continue
        row = [f"{name:28s}"]
        for suffix in ("@0", f"@{eps:g}"):
            key = f"{name} {suffix}"
            row.append(f"{med[key]:9.1f} ({timings[key].p90_ms:7.1f})" if key in med else f"{'-':>19s}")
        if f"{name} @0" in med and f"{name} @{eps:g}" in med:
            row.append(f"x{med[f'{name} @0'] / med[f'{name} @{eps:g}']:.2f}")
        print("  ".join(row))

    shares = {}
    for label, e in (("0", 0.0), (f"{eps:g}", eps)):
        s = f"@{e:g}" if e else "@0"
        parts = {"backbone": med[f"backbone (1 frame/window) {s}"], "mgfe": med[f"high-res branch {s}"]
                 + med[f"temporal branch {s}"], "fusion": med[f"fusion {s}"], "head": med[f"head {s}"]}
        video_total = sum(parts.values())
        clip_parts = dict(parts, backbone=parts["backbone"] * args.window)
        clip_total = sum(clip_parts.values())
        shares[label] = {"video": {k: v / video_total for k, v in parts.items()},
                         "clip": {k: v / clip_total for k, v in clip_parts.items()}, "ms": parts}
        print(f"\nstage shares at epsilon {label} (video mode, backbone once per window; "
              f"clip, backbone x{args.window}):")
        for k in parts:
            print(f"  {k:9s} {parts[k]:8.1f} ms  {shares[label]['video'][k]:6.1%}  {shares[label]['clip'][k]:6.1%}")
        print(f"  sum of stages (clip) {clip_total:.1f} ms vs measured full forward "
              f"{med[f'full forward (K frames) {s}']:.1f} ms")

    profile_rows = []
    if args.profile_iters > 0:
        p0 = _profile(at0["mgfe+fusion"], args.profile_iters)
        pe = _profile(ate["mgfe+fusion"], args.profile_iters)
        total0, totale = sum(p0.values()), sum(pe.values())
        print(f"\noperator profile of MGFE + fusion (self CPU ms per call; profiled totals "
              f"{total0:.1f} -> {totale:.1f} ms):")
        print(f"  {'op':34s} {'@0':>8s} {'@' + format(eps, 'g'):>8s} {'saved':>8s}  ratio")
        for op in sorted(set(p0) | set(pe), key=lambda k: -max(p0.get(k, 0), pe.get(k, 0)))[:18]:
            a, b = p0.get(op, 0.0), pe.get(op, 0.0)
            ratio = b / a if a else float("inf")
            profile_rows.append({"op": op, "ms_at_0": a, "ms_at_eps": b})
            note = "  <- pruning overhead" if a == 0 else "  <- does not scale" if ratio > 0.75 else ""
            print(f"  {op[:34]:34s} {a:8.2f} {b:8.2f} {a - b:8.2f}  {ratio:5.2f}{note}")

    if args.json:
        args.json.write_text(json.dumps({
            "size": args.size, "batch": args.batch, "window": args.window, "epsilon": eps,
            "threads": torch.get_num_threads(), "load_average": [load_before, load_after],
            "speed_ratio": speed, "flop_reduction": flop_reduction,
            "median_ms": med, "p90_ms": {k: t.p90_ms for k, t in timings.items()},
            "stage_shares": shares, "profile": profile_rows,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
