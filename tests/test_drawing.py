"""PoseResult validation and the PoseAnnotator overlay."""

from __future__ import annotations

import numpy as np
import pytest

from ftppose_cli.drawing import (
    COCO_SIDE_COLORS,
    HEAD_JOINTS,
    UNTRACKED_COLOR,
    PoseAnnotator,
    color_for_track,
    line_thickness,
    second_shade,
)
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.poses import UNTRACKED, PoseResult


def _standing_person(x: float, y: float, scale: float = 1.0) -> np.ndarray:
    """A rough upright PoseTrack skeleton with its nose at (x, y)."""
    offsets = np.array(
        [
            (0, 0), (0, 12), (0, -10), (-6, 0), (6, 0), (-14, 20), (14, 20), (-18, 45), (18, 45),
            (-20, 70), (20, 70), (-10, 75), (10, 75), (-10, 110), (10, 110), (-10, 145), (10, 145),
        ],
        dtype=np.float32,
    )
    return np.array([x, y], np.float32) + scale * offsets


def _poses(track_ids: list[int], scores: np.ndarray | None = None) -> PoseResult:
    n = len(track_ids)
    xy = np.stack([_standing_person(60 + 100 * i, 30) for i in range(n)])
    boxes = np.stack([[p[:, 0].min() - 5, p[:, 1].min() - 15, p[:, 0].max() + 5, p[:, 1].max() + 5] for p in xy])
    return PoseResult(
        xy=xy,
        scores=np.ones((n, NUM_JOINTS)) if scores is None else scores,
        boxes=boxes,
        box_scores=np.full(n, 0.9),
        track_ids=np.array(track_ids),
    )


def _has_color(frame: np.ndarray, x: float, y: float, color: tuple[int, int, int], radius: int = 1) -> bool:
    """Whether a pixel near (x, y) has ``color`` (anti-aliasing blends the edges)."""
    return any(np.abs(np.array(pixel) - color).max() <= 12 for pixel in _colored(frame, x, y, radius))


def _colored(frame: np.ndarray, x: float, y: float, radius: int = 1) -> set[tuple[int, ...]]:
    x, y = int(round(x)), int(round(y))
    patch = frame[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    return {tuple(int(v) for v in pixel) for pixel in patch if pixel.any()}


def test_pose_result_coerces_dtypes_and_checks_shapes() -> None:
    poses = _poses([3, 7])
    assert poses.xy.dtype == np.float32 and poses.track_ids.dtype == np.int64 and len(poses) == 2
    assert poses.num_joints == NUM_JOINTS
    with pytest.raises(ValueError, match="scores must have shape"):
        PoseResult(poses.xy, poses.scores[:, :5], poses.boxes, poses.box_scores, poses.track_ids)
    with pytest.raises(ValueError, match="track_ids must have shape"):
        PoseResult(poses.xy, poses.scores, poses.boxes, poses.box_scores, poses.track_ids[:1])


def test_pose_result_selects_people_like_supervision() -> None:
    poses = _poses([3, 7, 9])
    chosen = poses[poses.track_ids != 7]
    assert chosen.track_ids.tolist() == [3, 9] and chosen.xy.shape == (2, NUM_JOINTS, 2)
    assert poses[1].track_ids.tolist() == [7]
    assert len(PoseResult.empty()) == 0


def test_colors_are_stable_per_track_and_differ_between_neighbours() -> None:
    assert color_for_track(4) == color_for_track(4)
    assert len({color_for_track(i) for i in range(10)}) == 10
    assert color_for_track(UNTRACKED) == UNTRACKED_COLOR


def test_skeleton_is_drawn_in_the_track_color_in_place() -> None:
    frame = np.zeros((240, 320, 3), np.uint8)
    poses = _poses([2, 5])
    result = PoseAnnotator().annotate(frame, poses)
    assert result is frame
    for person, track_id in enumerate([2, 5]):
        hip_mid = (poses.xy[person, 11] + poses.xy[person, 12]) / 2  # on the hip-to-hip bone
        assert _has_color(frame, *hip_mid, color_for_track(track_id))


def test_low_score_joints_are_hidden() -> None:
    scores = np.ones((1, NUM_JOINTS))
    scores[0, 15] = 0.1  # left ankle: neither the dot nor the knee-ankle bone
    frame = np.zeros((240, 320, 3), np.uint8)
    poses = _poses([1], scores)
    PoseAnnotator(kpt_thr=0.3).annotate(frame, poses)
    ankle, knee = poses.xy[0, 15], poses.xy[0, 13]
    assert _colored(frame, *ankle, radius=2) == set()
    assert _colored(frame, *((ankle + knee) / 2)) == set()
    assert _colored(frame, *knee) != set()


def test_boxes_are_optional() -> None:
    poses = _poses([4])
    x1, y1, x2, y2 = poses.boxes[0]
    right_edge_mid = (x2, (y1 + y2) / 2)
    plain = PoseAnnotator(show_ids=False).annotate(np.zeros((240, 320, 3), np.uint8), poses)
    assert _colored(plain, *right_edge_mid) == set()
    boxed = PoseAnnotator(show_boxes=True).annotate(np.zeros((240, 320, 3), np.uint8), poses)
    assert _has_color(boxed, *right_edge_mid, color_for_track(4))


def _label_rows(frame: np.ndarray, color: tuple[int, int, int], above_y: float) -> np.ndarray:
    """Rows above ``above_y`` holding the tag's colour."""
    mask = (np.abs(frame[: int(above_y)].astype(int) - color).max(axis=2) <= 2).any(axis=1)
    return np.flatnonzero(mask)


def test_the_id_tag_sits_above_the_head_and_not_on_the_box_corner() -> None:
    poses = _poses([4])
    poses.xy[0, :, 1] += 60  # room above the head
    poses.boxes[0, [1, 3]] += 60
    x1, y1 = poses.boxes[0, :2]
    frame = PoseAnnotator(show_ids=True).annotate(np.zeros((240, 320, 3), np.uint8), poses)
    head_top = poses.xy[0, 2]
    rows = _label_rows(frame, color_for_track(4), head_top[1])
    assert len(rows) > 5 and rows.max() < head_top[1]  # a solid tag in the track colour, above the head
    tag = np.abs(frame[rows.min():rows.max() + 1].astype(int) - color_for_track(4)).max(axis=2) <= 2
    columns = np.flatnonzero(tag.any(axis=0))
    assert abs(columns.mean() - poses.xy[0, HEAD_JOINTS, 0].mean()) < 3  # centred over the head
    assert _colored(frame, x1 + 2, y1 + 2, radius=1) == set()


def test_no_tag_when_nothing_of_the_person_is_drawn() -> None:
    poses = _poses([4], scores=np.full((1, NUM_JOINTS), 0.1))
    frame = PoseAnnotator(kpt_thr=0.3).annotate(np.zeros((240, 320, 3), np.uint8), poses)
    assert not frame.any()


def test_left_and_right_limbs_in_two_shades_or_the_coco_colours() -> None:
    poses = _poses([2])
    left_shin = (poses.xy[0, 13] + poses.xy[0, 15]) / 2
    right_shin = (poses.xy[0, 14] + poses.xy[0, 16]) / 2
    frame = PoseAnnotator().annotate(np.zeros((240, 320, 3), np.uint8), poses)
    base = color_for_track(2)
    assert _has_color(frame, *left_shin, base) and _has_color(frame, *right_shin, second_shade(base))
    assert not _has_color(frame, *right_shin, base)
    coco = PoseAnnotator(palette="coco").annotate(np.zeros((240, 320, 3), np.uint8), poses)
    assert _has_color(coco, *left_shin, COCO_SIDE_COLORS["left"])
    assert _has_color(coco, *right_shin, COCO_SIDE_COLORS["right"])


def test_lines_and_tags_grow_with_the_frame() -> None:
    assert [line_thickness(w, h) for w, h in ((340, 256), (768, 576), (1280, 720), (1920, 1080))] == [2, 2, 3, 4]
    heights = []
    for width, height in ((340, 256), (1280, 720)):
        poses = _poses([4])
        poses.xy[0, :, 1] += 100
        frame = PoseAnnotator().annotate(np.zeros((height, width, 3), np.uint8), poses)
        heights.append(len(_label_rows(frame, color_for_track(4), poses.xy[0, 2, 1])))
    assert heights[1] > 1.8 * heights[0]


def test_untracked_people_get_no_label_and_odd_inputs_do_not_crash() -> None:
    poses = _poses([UNTRACKED])
    poses.xy[0, 3] = np.nan
    poses.xy[0, 4] = (1e9, -1e9)
    frame = np.zeros((239, 321, 3), np.uint8)
    PoseAnnotator(show_boxes=True).annotate(frame, poses)
    assert _has_color(frame, *poses.xy[0, 13], UNTRACKED_COLOR)
    empty = np.zeros((48, 64, 3), np.uint8)
    assert not PoseAnnotator().annotate(empty, PoseResult.empty()).any()
