"""End-to-end bench mode: the annotate pipeline timed at each ratio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ftppose_cli.benchmarking.video import benchmark_video
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotator import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from tests import video_factory as factory


class _SameBoxes:
    """Two people on every frame, for every run (a file source would run out after one video)."""

    def detect(self, images):
        two = {0: np.array([[2, 2, 22, 42, 0.9], [30, 4, 50, 44, 0.8]], np.float32)}
        return [BoxesFileSource(two).detect([image])[0] for image in images]


def test_rows_per_ratio_with_stage_times(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    annotator = VideoAnnotator(PoseEstimator(load_model(tiny_checkpoint)), _SameBoxes(),
                               AnnotateOptions(output_dir=tmp_path))
    rows = benchmark_video(video, (0.5, 0.9), annotator=annotator, repeats=2)
    assert [r.ratio for r in rows] == [0.0, 0.5, 0.9]
    assert rows[0].speedup_vs_ratio0 == 1.0 and all(r.fps_median > 0 for r in rows)
    assert all(r.frames == 20 and r.person_frames == 40 and len(r.fps_runs) == 2 for r in rows)
    assert set(rows[1].stage_ms_per_frame) == {"decode", "detect", "track", "pose", "draw", "encode"}
    json.dumps([r.to_dict() for r in rows])
