"""Joint sets and the mappings between them.

ftppose predicts the 17 joints of PoseTrack 2018 / 21 in their file order, so
a prediction can be written to a PoseTrack 2018 file without reordering.
PoseTrack 2017 files use 15 joints with their own ids; the mapping lives here
so readers, writers and the evaluator agree on it.
"""

from __future__ import annotations

POSETRACK_JOINTS: tuple[str, ...] = (
    "nose",
    "head_bottom",
    "head_top",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_JOINTS = len(POSETRACK_JOINTS)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(POSETRACK_JOINTS)}

# Horizontal flip swaps left and right; the flip test and flip augmentation use it.
FLIP_PAIRS: tuple[tuple[int, int], ...] = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))


def flip_permutation(num_joints: int = NUM_JOINTS) -> list[int]:
    """Index list that reorders joints after a horizontal flip."""
    perm = list(range(num_joints))
    for a, b in FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return perm


# Bones drawn on the overlay, as (joint, joint) pairs of POSETRACK_JOINTS.
SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
    (5, 7), (6, 8), (7, 9), (8, 10), (0, 1), (0, 2), (1, 5), (1, 6),
)

# The PoseTrack `categories` entry; poseval maps joints by these names, and its
# skeleton field is 1-based, as in the official files.
POSETRACK_CATEGORY: dict = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": list(POSETRACK_JOINTS),
    "skeleton": [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
                 [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]],
}

# PoseTrack 2017 ("annolist") joint id -> PoseTrack 2018 joint index.
POSETRACK17_TO_18: dict[int, int] = {
    0: 16,  # r_ankle
    1: 14,  # r_knee
    2: 12,  # r_hip
    3: 11,  # l_hip
    4: 13,  # l_knee
    5: 15,  # l_ankle
    6: 10,  # r_wrist
    7: 8,  # r_elbow
    8: 6,  # r_shoulder
    9: 5,  # l_shoulder
    10: 7,  # l_elbow
    11: 9,  # l_wrist
    12: 1,  # neck = head_bottom
    13: 0,  # nose
    14: 2,  # head_top
}
POSETRACK18_TO_17: dict[int, int] = {v: k for k, v in POSETRACK17_TO_18.items()}

# COCO-17 joint order, for COCO-style annotations and teacher labels.
COCO_JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# COCO joints that exist in PoseTrack under the same name (eyes have no PoseTrack joint).
COCO_TO_POSETRACK: dict[int, int] = {
    c: JOINT_INDEX[name] for c, name in enumerate(COCO_JOINTS) if name in JOINT_INDEX
}
