"""Running models on held-out annotated people: the predictions that :mod:`ftppose_cli.evaluation` scores.

Every person is cropped exactly as the video pipeline crops it and run on a
K-frame window made by repeating the still (:meth:`PoseEstimator.estimate_stills`),
so window-3 models are scored with the same code as single-frame ones. The
end-to-end run (:func:`predict_end_to_end`) takes the detector and the pose
model as callables, so the benchmark runs ours and the teachers through the
same code. Scoring itself (:mod:`ftppose_cli.evaluation.heldout`,
:mod:`ftppose_cli.evaluation.end_to_end`) imports no torch; this module does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ftppose_cli.evaluation.end_to_end import MATCH_IOU, match_people
from ftppose_cli.evaluation.heldout import HeldoutResult, HeldoutSet, load_heldout, score_predictions
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson
from ftppose_cli.models.ftppose import FTPPose
from ftppose_cli.pipeline.estimator import PoseEstimator

# image -> (boxes (n, 4) xyxy, scores (n,)) in image pixels
Detect = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# image, boxes (k, 4) -> joints (k, J, 2) in image pixels
Estimate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _scaled_box(person: AnnotatedPerson, box_scale: dict[str, float]) -> np.ndarray:
    """The person's box scaled about its centre by its layout's factor (1 when not given)."""
    factor = box_scale.get(person.layout, 1.0)
    centre = (person.box_xyxy[:2] + person.box_xyxy[2:]) / 2
    half = (person.box_xyxy[2:] - person.box_xyxy[:2]) / 2 * factor
    return np.concatenate([centre - half, centre + half])


def predict_people(heldout: HeldoutSet, estimator: PoseEstimator,
                   box_scale: dict[str, float] | None = None) -> tuple[np.ndarray, float]:
    """Image-pixel predictions ``(n, J, 2)`` for every person, and the seconds spent in the model.

    ``box_scale`` (layout -> factor) changes only the box the model is given,
    never the PCK reference: datasets draw boxes differently (PoseTrack's
    ``bbox`` is looser around the body than the boxes the model trained on),
    and this measures how much that convention costs.
    """
    by_image = _by_image(heldout.people)
    pred = np.zeros((len(heldout.people), NUM_JOINTS, 2), np.float32)
    seconds = 0.0
    for path, index in by_image.items():
        image = heldout.image(path)
        boxes = np.stack([_scaled_box(heldout.people[i], box_scale or {}) for i in index])
        start = time.perf_counter()
        ((xy, _),) = estimator.estimate_stills([image], [boxes])
        seconds += time.perf_counter() - start
        pred[index] = xy
    return pred, seconds


def evaluate_heldout(
    model: FTPPose,
    data: HeldoutSet | str | Path,
    pruning_ratio: float = 0.0,
    flip_test: bool = False,
    device: torch.device | str = "cpu",
    half: bool = False,
    box_scale: dict[str, float] | None = None,
) -> HeldoutResult:
    """PCK@0.05/0.1/0.2 (box's longer side) and PCKh@0.5 of ``model`` at pruning ratio ``pruning_ratio``.

    ``box_scale``: see :func:`predict_people`.
    """
    heldout = data if isinstance(data, HeldoutSet) else load_heldout(data)
    estimator = PoseEstimator(model, device=device, pruning_ratio=pruning_ratio, half=half, flip_test=flip_test)
    pred, seconds = predict_people(heldout, estimator, box_scale)
    return HeldoutResult("model", score_predictions(heldout.people, pred), pruning_ratio, flip_test,
                         crops=len(heldout.people), seconds=seconds)


@dataclass(frozen=True)
class EndToEndPredictions:
    """Joints ``(n, J, 2)`` for the annotated people (NaN where not found), whether each was found,
    the matched detection box ``(n, 4)`` (NaN where not found) and the number of detections per image."""

    pred: np.ndarray
    found: np.ndarray
    boxes: np.ndarray
    detections: dict[Path, int]
    seconds_detect: float = 0.0
    seconds_pose: float = 0.0


def predict_end_to_end(people: list[AnnotatedPerson], image: Callable[[Path], np.ndarray], detect: Detect,
                       estimate: Estimate, iou_threshold: float = MATCH_IOU) -> EndToEndPredictions:
    """Detect on every image of ``people``, match, and run ``estimate`` on the matched detection boxes."""
    n = len(people)
    joints = people[0].keypoints.shape[0] if n else 0
    pred = np.full((n, joints, 2), np.nan, np.float64)
    found = np.zeros(n, bool)
    boxes = np.full((n, 4), np.nan, np.float64)
    by_image = _by_image(people)
    detections: dict[Path, int] = {}
    seconds_detect = seconds_pose = 0.0
    for path, index in by_image.items():
        picture = image(path)
        start = time.perf_counter()
        det_boxes, det_scores = detect(picture)
        seconds_detect += time.perf_counter() - start
        det_boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)
        detections[path] = len(det_boxes)
        matched = match_people(np.stack([people[i].box_xyxy for i in index]), det_boxes, det_scores, iou_threshold)
        hit = [(i, d) for i, d in zip(index, matched) if d >= 0]
        if not hit:
            continue
        given = np.stack([det_boxes[d] for _, d in hit])
        start = time.perf_counter()
        xy = np.asarray(estimate(picture, given), np.float64)
        seconds_pose += time.perf_counter() - start
        for k, (i, _) in enumerate(hit):
            pred[i], found[i], boxes[i] = xy[k], True, given[k]
    return EndToEndPredictions(pred, found, boxes, detections, seconds_detect, seconds_pose)


def _by_image(people: list[AnnotatedPerson]) -> dict[Path, list[int]]:
    """The indices of ``people`` per image, images in first-seen order (each image is read and run once)."""
    by_image: dict[Path, list[int]] = {}
    for i, person in enumerate(people):
        by_image.setdefault(person.image, []).append(i)
    return by_image
