"""Per-joint average precision exactly as poseval computes it (and PoseTrack21's variant).

The rules, from poseval's ``eval_helpers.assignGTmulti`` / ``computeRPC`` /
``VOCap`` and the PoseTrack21 kit's ``PosemAP``:

* A predicted joint is compared with a ground-truth joint only when both
  exist; distance = ``||gt - pred|| / head size`` with head size = 0.6 x the
  diagonal of the ground-truth head box; it hits when the distance <= 0.5.
* Per frame, pck[pred, gt] = hits / number of the gt person's annotated
  joints. Each prediction keeps only its best gt (first on ties), then each
  gt takes the prediction with the highest remaining pck (first on ties), or
  none when that is 0. A prediction is thus matched to at most one gt.
* Every existing joint of a prediction is one ranked detection: a true
  positive when its person is matched and the joint hits that person, else a
  false positive (also where the gt has no such joint).
* Detections of a joint are gathered in poseval's order (frames in order,
  people in file order) and ranked as its ``argsort()[::-1]`` ranks them on
  the numpy it was written for (:mod:`ftppose_cli.evaluation.ranking`), so
  tied scores (e.g. all missing: -9999) rank identically on any numpy; AP is
  the all-point area under the precision/recall curve.
* Results are in percent; a joint without ground truth but with detections
  has AP NaN in poseval (0/0 recall) and 0 in PoseTrack21 (recall divides by
  max(n, 1)); a joint without detections has AP 0 in both.

Arrays are batched over the frames of a sequence, padded with people that
have no joints (they can never win an argmax that a real person wins, and
never produce a detection).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftppose_cli.evaluation.ranking import ranked_labels
from ftppose_cli.formats.joints import POSETRACK17_TO_18, POSETRACK_JOINTS

HIT_THRESHOLD = 0.5  # in head sizes
HEAD_SIZE_FACTOR = 0.6  # x the head-box diagonal
MISSING_SCORE = -9999.0  # poseval's fallback for a joint without a score

# The 15 scored joints in poseval's id order (0 r_ankle ... 14 head_top): the
# order detections are gathered in, and the order of every per-joint array here.
SCORED_JOINT_INDEX = np.array([POSETRACK17_TO_18[i] for i in range(len(POSETRACK17_TO_18))], dtype=np.int64)
SCORED_JOINTS: tuple[str, ...] = tuple(POSETRACK_JOINTS[i] for i in SCORED_JOINT_INDEX)
NUM_SCORED = len(SCORED_JOINTS)

# Reported groups (poseval's getCum): a plain mean of the members; Total is
# the NaN-skipping mean over the 15 joints, not over the groups.
JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "Head": ("head_top", "head_bottom", "nose"),
    "Shoulder": ("right_shoulder", "left_shoulder"),
    "Elbow": ("right_elbow", "left_elbow"),
    "Wrist": ("right_wrist", "left_wrist"),
    "Hip": ("right_hip", "left_hip"),
    "Knee": ("right_knee", "left_knee"),
    "Ankle": ("right_ankle", "left_ankle"),
}


def vector_norms(vectors: np.ndarray) -> np.ndarray:
    """Euclidean norms over the last axis (size 2), bit-identical to ``np.linalg.norm`` of each vector.

    poseval takes ``np.linalg.norm`` of one 2-vector at a time, which is
    ``sqrt(dot(v, v))`` through BLAS; BLAS may fuse the multiply-add, so
    ``sqrt(x*x + y*y)`` differs in the last bit for ~10% of inputs. A stacked
    ``matmul`` goes through the same dot kernel, so distances that land
    exactly on the 0.5 threshold are decided the same way.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float64)
    squared = np.matmul(vectors[..., None, :], vectors[..., :, None])[..., 0, 0]
    return np.sqrt(squared)


def head_sizes(head_boxes: np.ndarray) -> np.ndarray:
    """0.6 x the diagonal of (x1, y1, x2, y2) head boxes, (...,)."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64)
    return HEAD_SIZE_FACTOR * vector_norms(head_boxes[..., 2:4] - head_boxes[..., 0:2])


def normalized_distances(gt_xy: np.ndarray, gt_present: np.ndarray, gt_head_sizes: np.ndarray,
                         pred_xy: np.ndarray, pred_present: np.ndarray) -> np.ndarray:
    """Distances in head sizes, (F, P, G, J); inf where either joint is missing.

    ``gt_xy (F, G, J, 2)``, ``gt_present (F, G, J)``, ``gt_head_sizes (F, G)``,
    ``pred_xy (F, P, J, 2)``, ``pred_present (F, P, J)``. A zero head size gives
    inf or NaN, which never hits, as in poseval.
    """
    difference = gt_xy[:, None, :, :, :] - pred_xy[:, :, None, :, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = vector_norms(difference) / gt_head_sizes[:, None, :, None]
    both = pred_present[:, :, None, :] & gt_present[:, None, :, :]
    return np.where(both, distance, np.inf)


@dataclass(frozen=True)
class FrameAssignment:
    """Result of matching predicted people to ground-truth people per frame.

    ``hits (F, P, G, J)``: joint within 0.5 head sizes. ``gt_of_pred (F, P)``:
    the ground-truth person a prediction is matched to, or -1.
    """

    hits: np.ndarray
    gt_of_pred: np.ndarray

    def detection_labels(self) -> np.ndarray:
        """(F, P, J) true where the prediction's joint hits its matched person."""
        frames, preds, _, joints = self.hits.shape
        if not frames or not preds or not self.hits.shape[2]:
            return np.zeros((frames, preds, joints), bool)
        gt = np.maximum(self.gt_of_pred, 0)
        labels = np.take_along_axis(self.hits, gt[:, :, None, None], axis=2)[:, :, 0, :]
        return labels & (self.gt_of_pred >= 0)[:, :, None]


def assign_people(distances: np.ndarray, gt_present: np.ndarray,
                  threshold: float = HIT_THRESHOLD) -> FrameAssignment:
    """poseval's greedy person matching, for a batch of frames (see the module docstring)."""
    hits = distances <= threshold
    frames, preds, gts, _ = hits.shape
    gt_of_pred = np.full((frames, preds), -1, dtype=np.int64)
    if not frames or not preds or not gts:
        return FrameAssignment(hits, gt_of_pred)
    annotated = gt_present.sum(axis=2)[:, None, :]  # (F, 1, G)
    hit_count = hits.sum(axis=3).astype(np.float64)  # (F, P, G)
    pck = np.where(annotated > 0, hit_count / np.maximum(annotated, 1), hit_count)
    best_gt = pck.argmax(axis=2)  # (F, P): first best on ties
    pck = np.where(np.arange(gts)[None, None, :] == best_gt[:, :, None], pck, 0.0)
    pred_for_gt = pck.argmax(axis=1)  # (F, G)
    claimed = pck.max(axis=1) > 0
    frame_index, gt_index = np.nonzero(claimed)
    gt_of_pred[frame_index, pred_for_gt[frame_index, gt_index]] = gt_index
    return FrameAssignment(hits, gt_of_pred)


@dataclass(frozen=True)
class JointAP:
    """AP of one joint, and precision/recall at the end of the ranking (all in percent)."""

    ap: float
    precision: float
    recall: float


def average_precision(scores: np.ndarray, labels: np.ndarray, num_ground_truth: float,
                      recall_floor_one: bool = False) -> JointAP:
    """poseval's ``computeRPC`` + ``VOCap`` (all-point interpolation), vectorised and bit-identical.

    ``scores`` and ``labels`` are the detections of one joint in gathering
    order. ``recall_floor_one`` divides recall by max(n, 1) (PoseTrack21)
    instead of n (poseval, where no ground truth gives NaN).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return JointAP(0.0, 0.0, 0.0)
    true_positives = np.cumsum(ranked_labels(scores, np.asarray(labels)) == 1).astype(np.float64)
    denominator = max(num_ground_truth, 1.0) if recall_floor_one else np.float64(num_ground_truth)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = true_positives / denominator
    precision = true_positives / np.arange(1, scores.size + 1, dtype=np.float64)
    envelope = np.concatenate([[0.0], precision, [0.0]])
    envelope = np.maximum.accumulate(envelope[::-1])[::-1]
    recall_axis = np.concatenate([[0.0], recall, [1.0]])
    steps = np.flatnonzero(recall_axis[1:] != recall_axis[:-1]) + 1
    ap = np.sum((recall_axis[steps] - recall_axis[steps - 1]) * envelope[steps])
    return JointAP(float(ap) * 100, float(precision[-1]) * 100, float(recall[-1]) * 100)


def group_means(per_joint: np.ndarray, total_in_file_order: bool = False) -> dict[str, float]:
    """Head ... Ankle (plain means, NaN propagates) and Total (NaN-skipping mean), as poseval prints them.

    ``per_joint`` is (15,) in :data:`SCORED_JOINTS` order. PoseTrack21 averages
    the Total over its joints in file order (nose first); a float mean depends
    on the order in its last bit, so ``total_in_file_order`` follows it.
    """
    values = np.asarray(per_joint, dtype=np.float64)
    position = {name: i for i, name in enumerate(SCORED_JOINTS)}
    groups = {group: float(np.mean(values[[position[n] for n in names]])) for group, names in JOINT_GROUPS.items()}
    if total_in_file_order:
        values = values[np.argsort(SCORED_JOINT_INDEX)]
    finite = values[~np.isnan(values)]
    groups["Total"] = float(finite.mean()) if finite.size else float("nan")
    return groups
