"""Writing a :class:`BenchmarkResult` to JSON and CSV.

JSON keeps everything (every timing sample, the setting, the machine load),
so a run can be re-analysed later. CSV is one flat row per measured variant
(the model at each ratio, the single-frame model, the average-pose
reference), for spreadsheets and for diffing two runs.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.benchmarking.runner import STAGES, BenchmarkResult
from ftppose_cli.evaluation.heldout import HeldoutResult

_ACCURACY_KEYS = ("pck@0.05", "pck@0.1", "pck@0.2", "pckh@0.5")

CSV_COLUMNS: tuple[str, ...] = (
    "variant", "ratio", "tokens_per_frame", "gflops_per_clip", "gflops_video",
    *(f"gflops_{s}" for s in STAGES),
    "latency_median_ms", "latency_p90_ms", "video_latency_median_ms", "clips_per_s", "peak_memory_mb",
    "speedup_vs_ratio0", "video_speedup_vs_ratio0", "speedup_vs_single_frame",
    *(f"stage_ms_{s}" for s in STAGES), *(f"stage_share_{s}" for s in STAGES),
    *_ACCURACY_KEYS,
)


def write_json(result: BenchmarkResult, path: str | Path) -> Path:
    atomic_write_text(Path(path), json.dumps(result.to_dict(), indent=2) + "\n", overwrite=True)
    return Path(path)


def _accuracy(result: HeldoutResult | None) -> dict:
    if result is None:
        return {}
    overall = result.overall.to_dict()
    return {key: overall[key] for key in _ACCURACY_KEYS}


def csv_rows(result: BenchmarkResult) -> list[dict]:
    """The flat rows :func:`write_csv` writes; missing values are empty."""
    window = result.window
    rows = []
    for row in result.rows:
        rows.append({
            "variant": f"K={window}",
            "ratio": row.ratio,
            "tokens_per_frame": row.tokens_per_frame,
            "gflops_per_clip": row.gflops_per_clip,
            "gflops_video": row.gflops_video,
            **{f"gflops_{s}": v for s, v in row.stage_gflops.items()},
            "latency_median_ms": row.latency.median_ms,
            "latency_p90_ms": row.latency.p90_ms,
            "video_latency_median_ms": row.video_latency.median_ms,
            "clips_per_s": row.clips_per_s,
            "peak_memory_mb": row.peak_memory_mb,
            "speedup_vs_ratio0": row.speedup_vs_ratio0,
            "video_speedup_vs_ratio0": row.video_speedup_vs_ratio0,
            "speedup_vs_single_frame": row.speedup_vs_single_frame,
            **{f"stage_ms_{s}": v for s, v in row.stage_ms.items()},
            **{f"stage_share_{s}": v for s, v in row.stage_share.items()},
            **_accuracy(row.accuracy),
        })
    single = result.single_frame
    rows.append({
        "variant": "K=1", "ratio": 0.0, "gflops_per_clip": single.gflops, "gflops_video": single.gflops,
        "latency_median_ms": single.latency.median_ms, "latency_p90_ms": single.latency.p90_ms,
        "video_latency_median_ms": single.latency.median_ms,
        "clips_per_s": 1000.0 * result.batch_size / single.latency.median_ms,
        **_accuracy(single.accuracy),
    })
    if result.average_pose is not None:
        rows.append({"variant": "average pose", **_accuracy(result.average_pose)})
    return [{column: row.get(column, "") for column in CSV_COLUMNS} for row in rows]


def write_csv(result: BenchmarkResult, path: str | Path) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS))
    writer.writeheader()
    writer.writerows(csv_rows(result))
    atomic_write_text(Path(path), buffer.getvalue(), overwrite=True)
    return Path(path)

