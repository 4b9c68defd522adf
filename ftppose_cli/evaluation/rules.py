"""What each kit scores: the frames, people and joints of a sequence pair left after its rules.

The first step of :mod:`ftppose_cli.evaluation.scoring` (whose docstring
spells the rules out): poseval and the PoseTrack21 kit differ in which frames
count, when a joint exists and what an ignore region removes
(:class:`Rules`). :func:`prepare` applies one rule set and pads the people of
every scored frame into arrays, so scoring works on whole sequences at once.
Predictions far outside the image are refused here: they are in another
coordinate system, and would only score 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.ap import MISSING_SCORE, NUM_SCORED, SCORED_JOINT_INDEX, SCORED_JOINTS, head_sizes
from ftppose_cli.evaluation.pairs import SequencePair
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople

OUTSIDE_IMAGE_MARGIN = 0.5  # x image size: beyond this a joint is in another coordinate system, not off-screen


@dataclass(frozen=True)
class Rules:
    """What differs between poseval and the PoseTrack21 kit."""

    name: str
    frames_by_flag: bool  # PoseTrack21: is_labeled; poseval: ground truth lists somebody
    joints_by_position: bool  # PoseTrack21: x > 0 and y > 0; poseval: listed in the file
    recall_floor_one: bool
    truncates_integer_frames: bool  # PoseTrack21: scores of an all-integer prediction frame lose their fraction


POSEVAL = Rules("poseval", frames_by_flag=False, joints_by_position=False, recall_floor_one=False,
                  truncates_integer_frames=False)
POSETRACK21 = Rules("posetrack21", frames_by_flag=True, joints_by_position=True, recall_floor_one=True,
                      truncates_integer_frames=True)


@dataclass
class _People:
    """Scored joints of the people left in one frame: xy (n, 15, 2), present (n, 15)."""

    xy: np.ndarray
    present: np.ndarray
    tracks: np.ndarray
    scores: np.ndarray
    heads: np.ndarray


@dataclass
class ScoredFrames:
    """The scored frames of one sequence, people padded to the largest count (pads have no joints)."""

    gt_xy: np.ndarray  # (F, G, 15, 2)
    gt_present: np.ndarray  # (F, G, 15)
    gt_head: np.ndarray  # (F, G)
    gt_tracks: np.ndarray  # (F, G)
    gt_count: np.ndarray  # (F,) people left after ignore regions
    pred_xy: np.ndarray  # (F, P, 15, 2)
    pred_present: np.ndarray  # (F, P, 15)
    pred_scores: np.ndarray  # (F, P, 15), missing -> -9999
    pred_tracks: np.ndarray  # (F, P)
    pred_count: np.ndarray  # (F,)

    @property
    def num_frames(self) -> int:
        return len(self.gt_count)


def prepare(pair: SequencePair, rules: Rules) -> ScoredFrames:
    gt_frames, pred_frames = pair.ground_truth.frames, pair.prediction.frames
    gts, preds = [], []
    for position, (gt_frame, pred_frame) in enumerate(zip(gt_frames, pred_frames)):
        scored = gt_frame.is_labeled if rules.frames_by_flag else len(gt_frame.people) > 0
        if not scored:
            continue
        gt = _scored_people(gt_frame.people, rules)
        pred = _scored_people(pred_frame.people, rules)
        if rules.truncates_integer_frames and pred_frame.integer_keypoints:
            pred.scores = np.trunc(pred.scores)
        _check_inside_image(pair, position, gt_frame, pred_frame, pred)
        if gt_frame.ignore_regions:
            gt = _apply_ignore_regions(gt, gt_frame.ignore_regions, rules)
            pred = _apply_ignore_regions(pred, gt_frame.ignore_regions, rules)
        missing_head = gt.present.any(axis=1) & ~np.isfinite(gt.heads)
        if missing_head.any():
            track = gt.tracks[np.flatnonzero(missing_head)[0]]
            raise InputError(pair.gt_path, f"{pair.where(position, gt_frame)}: track {track} has joints but no "
                                           f"head box (bbox_head), which sizes the hit radius")
        gts.append(gt)
        preds.append(pred)
    gt_xy, gt_present, gt_head, gt_tracks = _pad(gts, "heads")
    pred_xy, pred_present, pred_scores, pred_tracks = _pad(preds, "scores")
    return ScoredFrames(gt_xy, gt_present, gt_head, gt_tracks, np.array([len(g.tracks) for g in gts], np.int64),
                   pred_xy, pred_present, pred_scores, pred_tracks, np.array([len(p.tracks) for p in preds], np.int64))


def _scored_people(people: PoseTrackPeople, rules: Rules) -> _People:
    """The 15 scored joints of the people with a pose; which joints exist depends on the rules."""
    if not people.has_pose.all():
        people = people.select(people.has_pose)
    xy = people.keypoints[:, SCORED_JOINT_INDEX]
    if rules.joints_by_position:
        present = (xy[..., 0] > 0) & (xy[..., 1] > 0)
    else:
        present = people.annotated[:, SCORED_JOINT_INDEX].copy()
    scores = people.scores[:, SCORED_JOINT_INDEX]
    scores = np.where(np.isnan(scores), MISSING_SCORE, scores)
    return _People(xy, present, people.track_ids, scores, head_sizes(people.head_boxes))


def _apply_ignore_regions(people: _People, regions: tuple[np.ndarray, ...], rules: Rules) -> _People:
    inside = points_in_regions(people.xy.reshape(-1, 2), regions).reshape(people.present.shape)
    present = people.present & ~inside
    if rules.joints_by_position:
        # PoseTrack21 zeroes ignored joints, then drops a person whose joints are all at x <= 0 and y <= 0.
        xy = np.where(inside[..., None], 0.0, people.xy)
        keep = ~(inside | ((xy[..., 0] <= 0) & (xy[..., 1] <= 0))).all(axis=1)
    else:
        # poseval drops a person with no listed joint left (also one that had none).
        xy = people.xy
        keep = present.any(axis=1)
    return _People(xy[keep], present[keep], people.tracks[keep], people.scores[keep], people.heads[keep])


def points_in_regions(points: np.ndarray, regions: tuple[np.ndarray, ...]) -> np.ndarray:
    """(N,) true where a point is strictly inside any polygon (even-odd rule; the boundary is outside)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    inside_any = np.zeros(len(points), bool)
    if not len(points):
        return inside_any
    px, py = points[:, 0:1], points[:, 1:2]
    for polygon in regions:
        if len(polygon) < 3:
            continue
        x1, y1 = polygon[:, 0][None, :], polygon[:, 1][None, :]
        x2, y2 = np.roll(polygon[:, 0], -1)[None, :], np.roll(polygon[:, 1], -1)[None, :]
        side = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)  # > 0: point left of the edge
        upward = (y1 <= py) & (y2 > py)
        downward = (y2 <= py) & (y1 > py)
        crossings = ((upward & (side > 0)) | (downward & (side < 0))).sum(axis=1)
        on_edge = ((side == 0) & (px >= np.minimum(x1, x2)) & (px <= np.maximum(x1, x2))
                   & (py >= np.minimum(y1, y2)) & (py <= np.maximum(y1, y2))).any(axis=1)
        inside_any |= (crossings % 2 == 1) & ~on_edge
    return inside_any


def _check_inside_image(pair: SequencePair, position: int, gt_frame: PoseTrackFrame, pred_frame: PoseTrackFrame,
                        pred: _People) -> None:
    """Refuse predictions far outside the image: they are in another coordinate system, and would score 0."""
    width = gt_frame.width or pred_frame.width
    height = gt_frame.height or pred_frame.height
    if not width or not height or not pred.present.any():
        return
    xy = pred.xy
    low_x, high_x = -OUTSIDE_IMAGE_MARGIN * width, (1 + OUTSIDE_IMAGE_MARGIN) * width
    low_y, high_y = -OUTSIDE_IMAGE_MARGIN * height, (1 + OUTSIDE_IMAGE_MARGIN) * height
    outside = pred.present & ((xy[..., 0] < low_x) | (xy[..., 0] > high_x) | (xy[..., 1] < low_y)
                              | (xy[..., 1] > high_y))
    if outside.any():
        person, joint = (int(i[0]) for i in np.nonzero(outside))
        x, y = xy[person, joint]
        raise InputError(pair.pred_path, f"{pair.where(position, pred_frame)}: {SCORED_JOINTS[joint]} of track "
                                         f"{pred.tracks[person]} is at ({x:g}, {y:g}), far outside the "
                                         f"{width}x{height} image")


def _pad(people: list[_People], extra: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frames = len(people)
    slots = max((len(p.tracks) for p in people), default=0)
    xy = np.zeros((frames, slots, NUM_SCORED, 2))
    present = np.zeros((frames, slots, NUM_SCORED), bool)
    tracks = np.full((frames, slots), -1, np.int64)
    values = np.full((frames, slots, NUM_SCORED) if extra == "scores" else (frames, slots), np.nan)
    for f, p in enumerate(people):
        n = len(p.tracks)
        xy[f, :n], present[f, :n], tracks[f, :n] = p.xy, p.present, p.tracks
        values[f, :n] = getattr(p, extra)
    return xy, present, values, tracks
