"""A small held-out folder with hand-checkable people, for the held-out scoring and run tests.

One COCO image (person A, plus a crowd, an unlabelled and a duplicate person that must be
skipped) and one PoseTrack18 frame (P with a head box, Q with three joints and no box), laid
out as mmpose ships them; :func:`gt_prediction` moves the ground truth by planned offsets so
every PCK can be counted by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.formats.joints import COCO_JOINTS, JOINT_INDEX, NUM_JOINTS, POSETRACK_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson

# Person A (COCO): box 60 x 100 -> reference 100 px; every COCO joint labelled.
BOX_A = [20.0, 10.0, 60.0, 100.0]
# Person P (PoseTrack): box 50 x 200 -> reference 200 px; head box 30 x 40 -> diagonal 50 -> head size 30.
BOX_P = [100.0, 20.0, 50.0, 200.0]
HEAD_P = [110.0, 20.0, 30.0, 40.0]
# Person Q (PoseTrack): no bbox, three joints -> the keypoint box, 20 x 120 -> reference 120; no head box.
Q_JOINTS = {"nose": (250.0, 40.0), "left_shoulder": (240.0, 80.0), "right_ankle": (260.0, 160.0)}


def pose(box: list[float], seed: int) -> np.ndarray:
    """Joints (17, 2) in our order, inside the box."""
    rng = np.random.default_rng(seed)
    x, y, w, h = box
    return np.stack([x + rng.uniform(0.1, 0.9, NUM_JOINTS) * w, y + rng.uniform(0.1, 0.9, NUM_JOINTS) * h], 1)


GT_A = pose(BOX_A, 1)
GT_P = pose(BOX_P, 2)


def _offsets(joints_by_px: dict[float, list[str]]) -> np.ndarray:
    """Horizontal prediction error per joint, in pixels."""
    out = np.zeros(NUM_JOINTS)
    for px, names in joints_by_px.items():
        for name in names:
            out[JOINT_INDEX[name]] = px
    return out


# A (ref 100: PCK thresholds 5 / 10 / 20 px). head_bottom and head_top are not COCO joints: huge errors, unscored.
OFFSETS_A = _offsets({
    0: ["nose", "left_ear", "right_ear", "left_shoulder", "right_shoulder"],
    7: ["left_elbow", "right_elbow", "left_wrist", "right_wrist"],
    15: ["left_hip", "right_hip", "left_knee", "right_knee"],
    30: ["left_ankle", "right_ankle"],
    500: ["head_bottom", "head_top"],
})
# P (ref 200: 10 / 20 / 40 px; head 30: PCKh 15 px). Ears are labelled in the file but PoseTrack never scores them.
OFFSETS_P = _offsets({
    5: ["nose", "head_bottom", "head_top"],
    12: ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"],
    50: ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"],
    1000: ["left_ear", "right_ear"],
})


def _coco_keypoints(pose: np.ndarray) -> list[float]:
    out = []
    for name in COCO_JOINTS:
        x, y = pose[JOINT_INDEX[name]] if name in JOINT_INDEX else (33.0, 33.0)  # eyes: labelled, never scored
        out += [float(x), float(y), 2]
    return out


def write_dataset(root: Path) -> Path:
    """A COCO folder and a PoseTrack18 folder laid out as mmpose ships them."""
    coco = root / "coco_set"
    coco.mkdir(parents=True)
    cv2.imwrite(str(coco / "a.jpg"), np.zeros((140, 120, 3), np.uint8))
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_JOINTS)}]
    document = {
        "categories": categories,
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [
            {"id": 10, "image_id": 1, "bbox": BOX_A, "iscrowd": 0, "keypoints": _coco_keypoints(GT_A)},
            {"id": 11, "image_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1, "keypoints": _coco_keypoints(GT_A)},
            {"id": 12, "image_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 0, "keypoints": [0] * 51},
        ],
    }
    (coco / "test_coco.json").write_text(json.dumps(document))
    # A second copy of the same people (as COCO-WholeBody next to COCO): must not count twice.
    (coco / "test_coco_wholebody.json").write_text(json.dumps(document))
    # Detections: a JSON list, not ground truth.
    (coco / "detections.json").write_text(json.dumps([{"image_id": 1, "bbox": BOX_A, "score": 0.9}]))

    track = root / "posetrack"
    (track / "images" / "val" / "seq").mkdir(parents=True)
    (track / "annotations" / "val").mkdir(parents=True)
    cv2.imwrite(str(track / "images" / "val" / "seq" / "000000.jpg"), np.zeros((240, 320, 3), np.uint8))
    kp_p = np.concatenate([GT_P, np.ones((NUM_JOINTS, 1))], 1).ravel().tolist()
    kp_q = [0.0] * (3 * NUM_JOINTS)
    for name, (x, y) in Q_JOINTS.items():
        kp_q[3 * JOINT_INDEX[name]: 3 * JOINT_INDEX[name] + 3] = [x, y, 1]
    (track / "annotations" / "val" / "seq.json").write_text(json.dumps({
        "categories": [{"id": 1, "name": "person", "keypoints": list(POSETRACK_JOINTS)}],
        "images": [{"id": 5, "file_name": "images/val/seq/000000.jpg"}],
        "annotations": [
            {"id": 1, "image_id": 5, "bbox": BOX_P, "bbox_head": HEAD_P, "keypoints": kp_p},
            {"id": 2, "image_id": 5, "keypoints": kp_q},
        ],
    }))
    return root


def gt_prediction(people: list[AnnotatedPerson]) -> dict[tuple, np.ndarray]:
    """Predictions keyed by box: the ground truth moved right by the planned offsets."""
    out = {}
    for p in people:
        pred = p.keypoints.astype(np.float64).copy()
        if p.dataset == "coco_set":
            pred[:, 0] += OFFSETS_A
        elif p.head_size is not None:
            pred[:, 0] += OFFSETS_P
        out[tuple(np.round(p.box_xyxy, 2))] = pred
    return out


def person(box, dataset="d", image="a.jpg", labelled=None) -> AnnotatedPerson:
    """A person of ``box`` with joints at random places inside it (seeded by the box), all labelled by default."""
    box = np.asarray(box, np.float32)
    rng = np.random.default_rng(int(box.sum()))
    kp = box[:2] + rng.uniform(0.1, 0.9, (NUM_JOINTS, 2)) * (box[2:] - box[:2])
    mask = np.ones(NUM_JOINTS, bool) if labelled is None else np.asarray(labelled, bool)
    return AnnotatedPerson(dataset, Path(image), box, kp.astype(np.float32), mask, None)
