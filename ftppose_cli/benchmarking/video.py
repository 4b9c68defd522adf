"""End-to-end mode of `bench`: the whole annotate pipeline on a real video at each ratio.

The model benchmark times FTP-Pose alone; users feel the pipeline (decode,
detect, track, pose, draw, encode). Here one annotator per backend is built
once and run on the same video at every ratio, so only the pruning ratio (and the
backend) changes between runs. The runs go round-robin (every backend and
ratio once, then again), so background load hits each alike.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import asdict, dataclass, replace
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
    backend: str = "torch"
    speedup_vs_torch: float = 1.0  # fps against the first backend's at the same ratio

    def to_dict(self) -> dict:
        return asdict(self)


def benchmark_video(video: Path, ratios: tuple[float, ...], weights: Path | None = None, device: str = "auto",
                    batch_size: int = 8, repeats: int = 1, half: bool = False,
                    annotator: VideoAnnotator | None = None, backends: tuple[str, ...] = ("torch",),
                    threads: int | None = None) -> list[VideoRatioResult]:
    """fps and per-stage ms of `annotate` on ``video`` for each backend at each ratio (median over ``repeats``).

    ``annotator`` replaces the built one (of the one backend asked for); ``threads`` sets ONNX Runtime's.
    """
    ratios = tuple(sorted(set((0.0, *ratios))))
    with tempfile.TemporaryDirectory(prefix="ftppose-bench-") as tmp:
        options = AnnotateOptions(output_dir=Path(tmp), overwrite=True, batch_size=batch_size, weights=weights,
                                  device=device, half=half)
        if annotator is None:
            annotators = {backend: build_annotator(replace(options, backend=backend, threads=threads))
                          for backend in backends}
        else:
            annotator.options = options
            annotators = {backends[0]: annotator}
        reports: dict[tuple[str, float], list] = {(b, r): [] for b in annotators for r in ratios}
        for _ in range(repeats):
            for (backend, ratio), runs in reports.items():
                annotators[backend].estimator.pruning_ratio = ratio
                runs.append(annotators[backend].annotate(video))
    fps = {key: statistics.median(r.fps for r in runs) for key, runs in reports.items()}
    reference = next(iter(annotators))
    rows: list[VideoRatioResult] = []
    for (backend, ratio), runs in reports.items():
        middle = sorted(runs, key=lambda r: r.fps)[len(runs) // 2]
        base = fps[(backend, 0.0)]
        rows.append(VideoRatioResult(ratio, fps[(backend, ratio)], [r.fps for r in runs], middle.frames,
                                     middle.person_frames, middle.stage_ms_per_frame(),
                                     fps[(backend, ratio)] / base if base else 0.0, backend,
                                     fps[(backend, ratio)] / fps[(reference, ratio)]
                                     if fps[(reference, ratio)] else 0.0))
    return rows
