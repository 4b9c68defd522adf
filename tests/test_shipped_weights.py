"""The weights in weights/ give real poses: upright walkers in the example clip, and better than the average pose.

These are the only tests that load the shipped checkpoints; they guard against
shipping a checkpoint that loads but has not learned (or no longer fits the code).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from ftppose_cli import PoseEstimator, load_model
from ftppose_cli.benchmarking.heldout import evaluate_heldout
from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.evaluation.heldout import average_pose_baseline, load_heldout
from ftppose_cli.formats.joints import JOINT_INDEX
from ftppose_cli.runtime import default_detector_weights, default_pose_weights

CLIP = Path(__file__).resolve().parents[1] / "examples" / "vtest_short.mp4"
# Two walkers in the clip's first frame (x1, y1, x2, y2), looked up by eye.
WALKERS = np.array([[680, 292, 730, 415], [292, 360, 352, 488]], np.float32)
# Top to bottom on an upright person; each group is a level, checked for both sides.
LEVELS = [("head_top",), ("nose",), ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
          ("left_knee", "right_knee"), ("left_ankle", "right_ankle")]


@pytest.fixture(scope="module")
def first_frame() -> np.ndarray:
    with av.open(str(CLIP)) as container:
        return next(container.decode(video=0)).to_ndarray(format="bgr24")


@pytest.mark.parametrize("pruning_ratio", [0.0, 0.9])
def test_shipped_pose_model_puts_the_walkers_joints_in_anatomical_order(first_frame: np.ndarray,
                                                                       pruning_ratio: float) -> None:
    estimator = PoseEstimator(load_model(default_pose_weights()), pruning_ratio=pruning_ratio)
    (xy, _), = estimator.estimate_stills([first_frame], [WALKERS])
    for person, box in zip(xy, WALKERS):
        assert np.all((person >= box[:2] - 5) & (person <= box[2:] + 5)), "a joint outside the person's box"
        heights = [[person[JOINT_INDEX[name], 1] for name in level] for level in LEVELS]
        for upper, lower in zip(heights, heights[1:]):
            assert max(upper) < min(lower), f"levels out of order: {heights}"


def test_shipped_detector_finds_the_walkers(first_frame: np.ndarray) -> None:
    detections = PersonDetector.from_checkpoint(default_detector_weights()).detect([first_frame])[0]
    for walker in WALKERS:
        low, high = np.maximum(detections.xyxy[:, :2], walker[:2]), np.minimum(detections.xyxy[:, 2:], walker[2:])
        inter = np.prod(np.clip(high - low, 0, None), 1)
        union = np.prod(detections.xyxy[:, 2:] - detections.xyxy[:, :2], 1) + np.prod(walker[2:] - walker[:2]) - inter
        assert (inter / union).max() > 0.5


def test_shipped_pose_model_beats_the_average_pose_on_heldout_people(shared_data: Path) -> None:
    heldout = load_heldout(shared_data / "heldout")
    model = evaluate_heldout(load_model(default_pose_weights()), heldout, pruning_ratio=0.5).overall.pck
    baseline = average_pose_baseline(heldout).overall.pck
    assert model[0.05] > baseline[0.05] and model[0.1] > baseline[0.1], (model, baseline)
