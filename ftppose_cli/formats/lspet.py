"""LSPet: its joint order, its validation split, and that split read as held-out people.

LSPet (``images/im00001.jpg``.. and ``joints.mat``, 14 x 3 x N: x, y, visible) keeps its last
``LSPET_VAL_COUNT`` images out of training (:mod:`ftppose_cli.training.teacher_labels`), so they
measure the pose model on sports people unlike the video scenes. Training and scoring both read
LSPet, so its layout lives here, below both. Each validation image becomes an
:class:`AnnotatedPerson` of dataset ``lspet_val`` that
:func:`ftppose_cli.evaluation.heldout.score_predictions` scores unchanged:

* joints: LSPet's 12 limb joints, its neck as ``head_bottom`` and its head top as ``head_top``;
  a joint counts when LSPet marks it visible and it lies inside the image (the training rule);
* box: ``box_of(joints, width, height)``, the caller's rule for a person box from the joints
  (the benchmark passes ``scripts/label_corpus.py``'s ``lspet_box``, the box training crops use);
  PCK's reference is its longer side.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson

# LSPet's 14 joints in joints.mat order; "neck" is PoseTrack's head_bottom (MPII's upper neck).
LSPET_JOINTS: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
    "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "head_bottom", "head_top",
)
LSPET_VAL_COUNT = 1000  # LSPet's last 1,000 images: the validation split
LSPET_VAL_SCENE = "lspet_val"
LSPET_DATASET = LSPET_VAL_SCENE  # "lspet_val"

BoxOf = Callable[[np.ndarray, int, int], np.ndarray]  # (14, 3) joints, width, height -> xyxy


def lspet_person(joints: np.ndarray, image: Path, width: int, height: int, box_of: BoxOf,
                 dataset: str = LSPET_DATASET) -> AnnotatedPerson | None:
    """One LSPet person (``joints (14, 3)``) in our joint order; None when no joint counts."""
    joints = np.asarray(joints, np.float32)
    keypoints = np.zeros((NUM_JOINTS, 2), np.float32)
    labelled = np.zeros(NUM_JOINTS, bool)
    x, y = joints[:, 0], joints[:, 1]
    inside = (x >= 0) & (y >= 0) & (x < width) & (y < height)
    for k, name in enumerate(LSPET_JOINTS):
        keypoints[JOINT_INDEX[name]] = joints[k, :2]
        labelled[JOINT_INDEX[name]] = bool(joints[k, 2] > 0 and inside[k])
    if not labelled.any():
        return None
    box = np.asarray(box_of(joints, width, height), np.float32)[:4]
    if max(box[2] - box[0], box[3] - box[1]) < 1.0:
        return None
    return AnnotatedPerson(dataset, image, box, keypoints, labelled, None, "coco")


def load_lspet_val(root: str | Path, box_of: BoxOf, every: int = 1,
                   count: int = LSPET_VAL_COUNT) -> list[AnnotatedPerson]:
    """The people of LSPet's last ``count`` images (every ``every``-th of them), in image order."""
    from scipy.io import loadmat

    root = Path(root)
    mat = root / "joints.mat"
    if not mat.is_file():
        raise InputError(mat, "no such file (an LSPet folder holds images/ and joints.mat)")
    joints = loadmat(str(mat))["joints"]
    if joints.shape[:2] != (14, 3):
        raise InputError(mat, f"joints of shape {joints.shape}, expected 14 x 3 x N (LSPet)")
    total = joints.shape[2]
    people = []
    for i in range(max(total - count, 0), total, max(every, 1)):
        path = root / "images" / f"im{i + 1:05d}.jpg"
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(path, "image missing or unreadable")
        person = lspet_person(joints[:, :, i], path.resolve(), image.shape[1], image.shape[0], box_of)
        if person is not None:
            people.append(person)
    return people
