"""End-to-end mode of `bench`: the whole annotate pipeline on a real video at each ratio.

The model benchmark times FTP-Pose alone; users feel the pipeline (decode,
detect, track, pose, draw, encode). Here one annotator is built once and run
on the same video at every ratio, so only the pruning ratio changes between runs.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ftppose_cli.pipeline.annotator import AnnotateOptions, VideoAnnotator
from ftppose_cli.pipeline.builder import build_annotator


@dataclass(frozen=True)
class VideoRatioResult:
    ratio: float
    fps_median: float
    fps_runs: list[float]
    frames: int
    person_frames: int
    stage_ms_per_frame: dict[str, float]
    speedup_vs_ratio0: float

    def to_dict(self) -> dict:
        return asdict(self)


def benchmark_video(video: Path, ratios: tuple[float, ...], weights: Path | None = None, device: str = "auto",
                    batch_size: int = 8, repeats: int = 1, half: bool = False,
                    annotator: VideoAnnotator | None = None) -> list[VideoRatioResult]:
    """fps and per-stage ms of `annotate` on ``video`` at each ratio (median over ``repeats``)."""
    ratios = tuple(sorted(set((0.0, *ratios))))
    rows: list[VideoRatioResult] = []
    with tempfile.TemporaryDirectory(prefix="ftppose-bench-") as tmp:
        options = AnnotateOptions(output_dir=Path(tmp), overwrite=True, batch_size=batch_size, weights=weights,
                                  device=device, half=half)
        if annotator is None:
            annotator = build_annotator(options)
        else:
            annotator.options = options
        for ratio in ratios:
            annotator.estimator.pruning_ratio = ratio
            reports = [annotator.annotate(video) for _ in range(repeats)]
            fps = [r.fps for r in reports]
            middle = sorted(reports, key=lambda r: r.fps)[len(reports) // 2]
            base = rows[0].fps_median if rows else statistics.median(fps)
            rows.append(VideoRatioResult(ratio, statistics.median(fps), fps, middle.frames, middle.person_frames,
                                         middle.stage_ms_per_frame(), statistics.median(fps) / base if base else 0.0))
    return rows
