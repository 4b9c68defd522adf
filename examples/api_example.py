"""Use ftppose as a library: poses for a still image, then a whole video.

Run from the repository root: ``python examples/api_example.py``. It imports
only the public names (``ftppose_cli.__all__``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ftppose_cli import (
    POSETRACK_JOINTS,
    AnnotateOptions,
    PoseEstimator,
    VideoReader,
    build_annotator,
    default_pose_weights,
    load_model,
)

HERE = Path(__file__).resolve().parent
CLIP = HERE / "vtest_short.mp4"


def pose_of_one_person() -> None:
    """The model alone: one frame, one box you already have, keypoints in image pixels."""
    with VideoReader(CLIP) as reader:  # upright BGR frames, as the pipeline sees them
        frame = next(iter(reader)).image
    estimator = PoseEstimator(load_model(default_pose_weights()), pruning_ratio=0.5)
    box = np.array([[680, 292, 730, 415]], np.float32)  # x1, y1, x2, y2 of the man in the blue jacket
    (xy, scores), = estimator.estimate_stills([frame], [box])
    for name, (x, y), score in zip(POSETRACK_JOINTS, xy[0], scores[0]):
        print(f"{name:>15}: ({x:6.1f}, {y:6.1f}) score {score:.2f}")


def annotate_the_clip() -> None:
    """The whole pipeline: detector, tracker, FTP-Pose, overlay and PoseTrack JSON."""
    annotator = build_annotator(AnnotateOptions(output_dir=Path("ftppose_out"), overwrite=True, pruning_ratio=0.5))
    report = annotator.annotate(CLIP)
    print(f"{report.frames} frames, {report.tracks} tracks, {report.fps:.1f} fps -> {[str(p) for p in report.outputs]}")


if __name__ == "__main__":
    pose_of_one_person()
    annotate_the_clip()
