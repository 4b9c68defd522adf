"""Training samples from teacher pseudo-labels (BlazePose landmarks + detector boxes).

The teacher gives 33 BlazePose landmarks; PoseTrack has 17 joints, two of
which BlazePose lacks. We derive them from the face, using head proportions
(the eyes sit about half-way between chin and crown; the mouth-to-eye distance
is roughly a third of that half):

* ``head_top = eye_mid + 1.7 * (eye_mid - mouth_mid)`` (the crown, along the
  face's own up direction, so it follows head tilt);
* ``head_bottom = mouth_mid + 1.0 * (mouth_mid - eye_mid)`` (chin / upper neck,
  where PoseTrack annotators put it).

A derived joint is only as visible as the least visible landmark it uses.
Ears map directly; eyes have no PoseTrack joint and are dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.training.crop_cache import PersonSample

# BlazePose landmark index for each PoseTrack joint that exists in BlazePose.
_BLAZEPOSE_DIRECT: dict[str, int] = {
    "nose": 0, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}
_EYES = (2, 5)
_MOUTH = (9, 10)
HEAD_TOP_FACTOR = 1.7
HEAD_BOTTOM_FACTOR = 1.0
VISIBLE = 0.5
# Validation scenes of the teacher corpus: two indoor scenes unlike the rest (a bedroom, a dance room).
TEACHER_VAL_SCENES: tuple[str, ...] = ("sam2_bedroom", "tfjs_dance_room")


def blazepose_to_posetrack(kp33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(33, 3)`` [x, y, visibility] -> PoseTrack ``xy (17, 2)`` and ``visibility (17,)``."""
    kp33 = np.asarray(kp33, dtype=np.float32)
    xy = np.zeros((NUM_JOINTS, 2), np.float32)
    vis = np.zeros(NUM_JOINTS, np.float32)
    for name, bp in _BLAZEPOSE_DIRECT.items():
        xy[JOINT_INDEX[name]] = kp33[bp, :2]
        vis[JOINT_INDEX[name]] = kp33[bp, 2]
    eye = kp33[list(_EYES), :2].mean(0)
    mouth = kp33[list(_MOUTH), :2].mean(0)
    face_vis = kp33[list(_EYES + _MOUTH), 2].min()
    xy[JOINT_INDEX["head_top"]] = eye + HEAD_TOP_FACTOR * (eye - mouth)
    xy[JOINT_INDEX["head_bottom"]] = mouth + HEAD_BOTTOM_FACTOR * (mouth - eye)
    vis[JOINT_INDEX["head_top"]] = face_vis
    vis[JOINT_INDEX["head_bottom"]] = face_vis
    return xy, vis


def _passes_filter(person: dict) -> bool:
    """The corpus README's filter, accepting upper-body-only people (legs then get weight 0)."""
    if person.get("status") != "ok" or person.get("pose") is None:
        return False
    q = person["pose"]["quality"]
    if q.get("flip_err_body") is None or q["flip_err_body"] > 0.05:
        return False
    if q["box_offset"] > 0.25 or not q["torso_in_box"]:
        return False
    kp = np.asarray(person["pose"]["kp"], np.float32)
    upper = kp[[11, 12, 13, 14, 15, 16, 23, 24], 2].mean()
    return bool(upper >= 0.5)


def load_teacher_samples(data_root: str | Path) -> list[PersonSample]:
    """Every filtered person of every labelled video and image under ``data_root``."""
    root = Path(data_root)
    manifest = json.loads((root / "manifest.json").read_text())
    scenes = {entry["file"]: entry["scene"] for group in manifest.values() for entry in group}
    samples: list[PersonSample] = []
    for label_path in sorted((root / "labels").rglob("*.json")):
        labels = json.loads(label_path.read_text())
        source = labels["source"]
        if source not in scenes:
            continue
        for frame in labels["frames"]:
            for person in frame["persons"]:
                if not _passes_filter(person):
                    continue
                xy, vis = blazepose_to_posetrack(np.asarray(person["pose"]["kp"], np.float32))
                samples.append(
                    PersonSample(
                        source=source,
                        kind=labels["kind"],
                        frame=int(frame["frame"]),
                        num_frames=int(labels["num_frames"]),
                        box_xywh=tuple(float(v) for v in person["box"]),
                        keypoints=xy,
                        visibility=vis,
                        scene=scenes[source],
                    )
                )
    return samples
