"""Overlay skeletons on frames in supervision's style: a colour per track, its id at the head.

The colour comes from the track id alone (supervision's default palette), so
a person keeps their colour for the whole video and between runs, which is
what makes tracking errors visible at a glance. The person's left limbs are
drawn in that colour and their right limbs in a second shade of it, so a
skeleton whose sides are swapped shows as such. ``palette="coco"`` draws
the classic COCO / MMPose colours instead (left green, right orange, the
middle blue), the same for everyone; the id tags keep the track colours.

Joints the model is unsure of are hidden rather than drawn at a guessed
place: a missing limb reads as "unknown", a wrong one as a mistake. The id
tag sits just above the head (the highest visible joint if no head joint is
shown) and is left out when nothing of the person is drawn. Line widths and
the tag's text scale with the frame, so an overlay reads the same on 240p
and on 4K; supervision's label annotator keeps the tags inside the frame
and apart from each other.
"""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np
import supervision as sv

from ftppose_cli.formats.joints import POSETRACK_JOINTS, SKELETON
from ftppose_cli.poses import PoseResult

BGR = tuple[int, int, int]

TRACK_COLORS: tuple[sv.Color, ...] = tuple(sv.ColorPalette.DEFAULT.colors)
UNTRACKED_COLOR: BGR = (200, 200, 200)
# Trackers number people who appear together consecutively; stepping through the
# palette by a stride coprime with its length puts far-apart hues on them.
_PALETTE_STRIDE = 5
# The classic COCO keypoint colours (as MMPose draws them), BGR.
COCO_SIDE_COLORS: dict[str, BGR] = {"left": (0, 255, 0), "right": (0, 128, 255), "middle": (255, 153, 51)}
HEAD_JOINTS = tuple(i for i, name in enumerate(POSETRACK_JOINTS) if name in
                    ("nose", "head_bottom", "head_top", "left_ear", "right_ear"))


class Palette(str, Enum):
    """How limbs are coloured: by track (two shades, left and right), or the classic COCO colours by side."""

    track = "track"
    coco = "coco"


def _side(name: str) -> str:
    return "left" if name.startswith("left_") else "right" if name.startswith("right_") else "middle"


JOINT_SIDES: tuple[str, ...] = tuple(_side(name) for name in POSETRACK_JOINTS)


def color_for_track(track_id: int) -> BGR:
    """The BGR colour of a track: fixed per id, grey for untracked people."""
    if track_id < 0:
        return UNTRACKED_COLOR
    return TRACK_COLORS[(track_id * _PALETTE_STRIDE) % len(TRACK_COLORS)].as_bgr()


def second_shade(color: BGR) -> BGR:
    """The colour of a person's right side: the track colour lighter, or darker when it is light already."""
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    target, amount = ((0, 0, 0), 0.45) if luminance > 150 else ((255, 255, 255), 0.5)
    return tuple(int(round(c + amount * (t - c))) for c, t in zip(color, target))  # type: ignore[return-value]


def line_thickness(width: int, height: int) -> int:
    """Bone width for a frame: 2 px up to 576p, 3 at 720p, 4 at 1080p, 8 at 2160p.

    Never below 2: an anti-aliased 1-pixel line has no pixel of its full
    colour, so its shade could not be told.
    """
    return max(2, round(min(width, height) / 270))


class PoseAnnotator:
    """Draw skeletons, track ids and optionally boxes onto BGR frames.

    ``thickness`` (bone width in pixels) defaults to one scaled with the frame
    size. ``kpt_thr`` hides joints (and their bones) scored below it.
    """

    def __init__(
        self,
        kpt_thr: float = 0.3,
        *,
        show_boxes: bool = False,
        show_ids: bool = True,
        thickness: int | None = None,
        palette: Palette | str = Palette.track,
        skeleton: tuple[tuple[int, int], ...] = SKELETON,
    ) -> None:
        self.kpt_thr = kpt_thr
        self.show_boxes = show_boxes
        self.show_ids = show_ids
        self.thickness = thickness
        self.palette = Palette(palette)
        self.skeleton = skeleton

    def annotate(self, frame: np.ndarray, poses: PoseResult) -> np.ndarray:
        """Draw ``poses`` on ``frame`` in place and return it (supervision style)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame.shape} {frame.dtype}")
        if not frame.flags.c_contiguous or not frame.flags.writeable:
            raise ValueError("frame must be a writable, C-contiguous array (cv2 draws in place)")
        height, width = frame.shape[:2]
        thickness = self.thickness or line_thickness(width, height)
        limit = 4 * max(height, width)  # keeps wild coordinates inside cv2's int range
        colors = [color_for_track(int(t)) for t in poses.track_ids]
        if self.show_boxes:
            self._draw_boxes(frame, poses.boxes, colors, thickness, limit)
        anchors, labels, label_colors = [], [], []
        for person in range(len(poses)):
            points = np.clip(np.nan_to_num(poses.xy[person], nan=-limit), -limit, limit)
            visible = (poses.scores[person] >= self.kpt_thr) & np.isfinite(poses.xy[person]).all(axis=1)
            pixels = np.round(points).astype(np.int32)
            self._draw_skeleton(frame, pixels, visible, self._side_colors(colors[person]), thickness)
            anchor = _label_anchor(pixels, visible, gap=2 * thickness + 2)
            if self.show_ids and poses.track_ids[person] >= 0 and anchor is not None:
                anchors.append(anchor)
                labels.append(str(int(poses.track_ids[person])))
                label_colors.append(colors[person])
        if labels:
            _draw_labels(frame, anchors, labels, label_colors)
        return frame

    def _side_colors(self, color: BGR) -> dict[str, BGR]:
        if self.palette is Palette.coco:
            return COCO_SIDE_COLORS
        return {"left": color, "right": second_shade(color), "middle": color}

    def _draw_skeleton(self, frame: np.ndarray, pixels: np.ndarray, visible: np.ndarray, colors: dict[str, BGR],
                       thickness: int) -> None:
        for a, b in self.skeleton:
            if a < len(visible) and b < len(visible) and visible[a] and visible[b]:
                side = JOINT_SIDES[a] if JOINT_SIDES[a] == JOINT_SIDES[b] else "middle"
                cv2.line(frame, tuple(map(int, pixels[a])), tuple(map(int, pixels[b])), colors[side], thickness,
                         cv2.LINE_AA)
        radius = thickness + 1
        for joint in np.flatnonzero(visible):
            center = tuple(map(int, pixels[joint]))
            side = JOINT_SIDES[joint] if joint < len(JOINT_SIDES) else "middle"
            cv2.circle(frame, center, radius, colors[side], -1, cv2.LINE_AA)
            if radius >= 3:  # a white rim sets joints off the bones; on a 2-pixel dot it would hide the colour
                cv2.circle(frame, center, radius, (255, 255, 255), 1, cv2.LINE_AA)

    @staticmethod
    def _draw_boxes(frame: np.ndarray, boxes: np.ndarray, colors: list[BGR], thickness: int, limit: int) -> None:
        for box, color in zip(boxes, colors):
            if np.isfinite(box).all():
                x1, y1, x2, y2 = np.round(np.clip(box, -limit, limit)).astype(int)
                cv2.rectangle(frame, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)


def _label_anchor(pixels: np.ndarray, visible: np.ndarray, gap: int) -> tuple[int, int] | None:
    """Just above the head: the visible head joints' centre and top, else the highest visible joint; or None."""
    if not visible.any():
        return None
    head = [j for j in HEAD_JOINTS if j < len(visible) and visible[j]]
    shown = pixels[head] if head else pixels[visible][[int(np.argmin(pixels[visible][:, 1]))]]
    return int(round(shown[:, 0].mean())), int(shown[:, 1].min()) - gap


def _draw_labels(frame: np.ndarray, anchors: list[tuple[int, int]], labels: list[str], colors: list[BGR]) -> None:
    """Id tags centred above each anchor with supervision's label annotator, sized for the frame."""
    height, width = frame.shape[:2]
    scale = max(0.35, sv.calculate_optimal_text_scale((width, height)))
    palette = sv.ColorPalette([sv.Color.from_bgr_tuple(c) for c in colors])
    ink = sv.ColorPalette([sv.Color.BLACK if 0.114 * b + 0.587 * g + 0.299 * r > 150 else sv.Color.WHITE
                           for b, g, r in colors])
    annotator = sv.LabelAnnotator(color=palette, text_color=ink, color_lookup=sv.ColorLookup.INDEX,
                                  text_scale=scale, text_thickness=max(1, round(2 * scale)),
                                  text_padding=max(2, round(6 * scale)), text_position=sv.Position.TOP_CENTER,
                                  border_radius=max(1, round(4 * scale)), smart_position=True)
    points = np.array([[x, y, x, y] for x, y in anchors], np.float32)
    annotator.annotate(frame, sv.Detections(xyxy=points), labels=labels)
