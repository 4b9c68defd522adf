"""BlazePose -> PoseTrack joint mapping, including the two derived head joints."""

from __future__ import annotations

import numpy as np

from ftppose_cli.formats.joints import JOINT_INDEX
from ftppose_cli.training.teacher_labels import blazepose_to_posetrack


def _upright_face() -> np.ndarray:
    kp = np.zeros((33, 3), np.float32)
    kp[:, 2] = 0.9
    kp[2, :2] = (90, 100)   # left eye
    kp[5, :2] = (110, 100)  # right eye
    kp[9, :2] = (95, 120)   # mouth left
    kp[10, :2] = (105, 120)  # mouth right
    kp[15, :2] = (40, 300)  # left wrist
    return kp


def test_direct_joints_are_copied() -> None:
    xy, vis = blazepose_to_posetrack(_upright_face())
    assert np.allclose(xy[JOINT_INDEX["left_wrist"]], (40, 300))
    assert vis[JOINT_INDEX["left_wrist"]] == np.float32(0.9)


def test_head_joints_follow_the_face_axis() -> None:
    xy, _ = blazepose_to_posetrack(_upright_face())
    # eyes at y=100, mouth at y=120: crown 1.7 eye-mouth distances above the eyes, chin one below the mouth
    assert np.allclose(xy[JOINT_INDEX["head_top"]], (100, 66))
    assert np.allclose(xy[JOINT_INDEX["head_bottom"]], (100, 140))


def test_head_joints_rotate_with_the_head_and_take_the_weakest_visibility() -> None:
    kp = _upright_face()
    kp[:, 1] *= -1  # upside down
    kp[10, 2] = 0.3
    xy, vis = blazepose_to_posetrack(kp)
    assert xy[JOINT_INDEX["head_top"], 1] > xy[JOINT_INDEX["head_bottom"], 1]
    assert vis[JOINT_INDEX["head_top"]] == vis[JOINT_INDEX["head_bottom"]] == np.float32(0.3)
