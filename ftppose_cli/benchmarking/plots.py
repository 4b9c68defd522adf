"""One PNG: speed-up and accuracy against the pruning ratio.

Rendered with matplotlib's Agg backend, so it works on a headless server and
never opens a window. The left panel shows measured speed-ups next to the
FLOP ratio (what perfect scaling would give), which makes a gap between
counted and measured savings visible at a glance; the right panel, when
held-out data was given, shows PCK with the single-frame model and the
average-pose baseline as reference lines.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from ftppose_cli.atomic import atomic_write  # noqa: E402
from ftppose_cli.benchmarking.runner import BenchmarkResult  # noqa: E402


def plot_benchmark(result: BenchmarkResult, path: str | Path) -> Path:
    """Write the figure to ``path`` (PNG) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ratios = [row.ratio for row in result.rows]
    has_accuracy = any(row.accuracy is not None for row in result.rows)
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, figsize=(11 if has_accuracy else 6, 4.2), squeeze=False)
    ax = axes[0, 0]
    base = result.rows[0]
    ax.plot(ratios, [r.speedup_vs_ratio0 for r in result.rows], "o-", label="clip latency vs ratio 0")
    ax.plot(ratios, [base.gflops_per_clip / r.gflops_per_clip for r in result.rows], "--", color="grey",
            label="FLOP ratio vs ratio 0")
    ax.plot(ratios, [r.speedup_vs_single_frame for r in result.rows], "s-",
            label="video mode vs single frame (K=1)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("pruning ratio epsilon")
    ax.set_ylabel("speed-up (x)")
    ax.set_title(f"{result.model.get('size', '?')} K={result.window}, batch {result.batch_size}, {result.device}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if has_accuracy:
        ax = axes[0, 1]
        for key, marker in (("pck@0.05", "v-"), ("pck@0.1", "o-"), ("pck@0.2", "^-")):
            values = [r.accuracy.overall.to_dict()[key] if r.accuracy else float("nan") for r in result.rows]
            line, = ax.plot(ratios, values, marker, label=key)
            references = ((result.single_frame.accuracy, ":", "K=1"), (result.average_pose, "--", "avg pose"))
            for reference, style, name in references:
                if reference is not None:
                    ax.axhline(reference.overall.to_dict()[key], linestyle=style, color=line.get_color(),
                               linewidth=0.9, label=f"{key} {name}")
        people = result.rows[0].accuracy.overall.people if result.rows[0].accuracy else 0
        ax.set_title(f"held-out PCK ({people} people)")
        ax.set_xlabel("pruning ratio epsilon")
        ax.set_ylabel("PCK")
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format=Path(path).suffix.lstrip(".") or "png"),
                 overwrite=True)
    plt.close(fig)
    return path
