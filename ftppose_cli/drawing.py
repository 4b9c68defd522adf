"""Overlay skeletons on frames, one colour per tracked person.

The colour comes from the track id alone, so a person keeps their colour for
the whole video (and between runs), which is what makes tracking errors
visible at a glance. Joints the model is unsure of are hidden rather than
drawn at a guessed place: a missing limb reads as "unknown", a wrong one as
a mistake.
"""

from __future__ import annotations

import cv2
import numpy as np

from ftppose_cli.formats.joints import SKELETON
from ftppose_cli.pipeline.poses import PoseResult

# Distinct, saturated BGR colours that stay readable on grass, asphalt and skin.
TRACK_PALETTE: tuple[tuple[int, int, int], ...] = (
    (56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207),
    (10, 249, 72), (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0),
    (168, 153, 44), (255, 194, 0), (147, 69, 52), (255, 115, 100), (236, 24, 0),
    (255, 56, 132), (133, 0, 82), (255, 56, 203), (200, 149, 255), (199, 55, 255),
)
UNTRACKED_COLOR: tuple[int, int, int] = (200, 200, 200)
# Trackers number people who appear together consecutively; stepping through the
# palette by a stride coprime with its length puts far-apart hues on them.
_PALETTE_STRIDE = 7


def color_for_track(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track: fixed per id, grey for untracked people."""
    if track_id < 0:
        return UNTRACKED_COLOR
    return TRACK_PALETTE[(track_id * _PALETTE_STRIDE) % len(TRACK_PALETTE)]


class PoseAnnotator:
    """Draw skeletons, track ids and optionally boxes onto BGR frames.

    ``thickness`` defaults to a value scaled with the frame size (at least 2
    pixels, so anti-aliased bones keep a solid core) so overlays look alike
    on 240p and 4K. ``kpt_thr`` hides joints (and their bones)
    scored below it.
    """

    def __init__(
        self,
        kpt_thr: float = 0.3,
        *,
        show_boxes: bool = False,
        show_ids: bool = True,
        thickness: int | None = None,
        skeleton: tuple[tuple[int, int], ...] = SKELETON,
    ) -> None:
        self.kpt_thr = kpt_thr
        self.show_boxes = show_boxes
        self.show_ids = show_ids
        self.thickness = thickness
        self.skeleton = skeleton

    def annotate(self, frame: np.ndarray, poses: PoseResult) -> np.ndarray:
        """Draw ``poses`` on ``frame`` in place and return it (supervision style)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame.shape} {frame.dtype}")
        if not frame.flags.c_contiguous or not frame.flags.writeable:
            raise ValueError("frame must be a writable, C-contiguous array (cv2 draws in place)")
        height, width = frame.shape[:2]
        thickness = self.thickness or max(2, round(min(height, width) / 300))
        limit = 4 * max(height, width)  # keeps wild coordinates inside cv2's int range
        for person in range(len(poses)):
            color = color_for_track(int(poses.track_ids[person]))
            points = np.clip(np.nan_to_num(poses.xy[person], nan=-limit), -limit, limit)
            visible = (poses.scores[person] >= self.kpt_thr) & np.isfinite(poses.xy[person]).all(axis=1)
            pixels = np.round(points).astype(np.int32)
            self._draw_skeleton(frame, pixels, visible, color, thickness)
            box = poses.boxes[person]
            if self.show_boxes and np.isfinite(box).all():
                x1, y1, x2, y2 = np.round(np.clip(box, -limit, limit)).astype(int)
                cv2.rectangle(frame, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
            if self.show_ids and poses.track_ids[person] >= 0:
                anchor = self._label_anchor(box, pixels, visible)
                if anchor is not None:
                    self._draw_label(frame, str(int(poses.track_ids[person])), anchor, color, thickness)
        return frame

    def _draw_skeleton(
        self, frame: np.ndarray, pixels: np.ndarray, visible: np.ndarray, color: tuple[int, int, int], thickness: int
    ) -> None:
        for a, b in self.skeleton:
            if a < len(visible) and b < len(visible) and visible[a] and visible[b]:
                cv2.line(frame, tuple(map(int, pixels[a])), tuple(map(int, pixels[b])), color, thickness, cv2.LINE_AA)
        radius = thickness + 1
        for joint in np.flatnonzero(visible):
            center = tuple(map(int, pixels[joint]))
            cv2.circle(frame, center, radius, color, -1, cv2.LINE_AA)
            cv2.circle(frame, center, radius, (255, 255, 255), 1, cv2.LINE_AA)

    @staticmethod
    def _label_anchor(box: np.ndarray, pixels: np.ndarray, visible: np.ndarray) -> tuple[int, int] | None:
        """Top-left of the box, else above the highest visible joint."""
        if np.isfinite(box).all() and box[2] > box[0] and box[3] > box[1]:
            return int(box[0]), int(box[1])
        if visible.any():
            shown = pixels[visible]
            return int(shown[:, 0].min()), int(shown[:, 1].min())
        return None

    @staticmethod
    def _draw_label(
        frame: np.ndarray, text: str, anchor: tuple[int, int], color: tuple[int, int, int], thickness: int
    ) -> None:
        """Text on a filled tag so it reads on any background, kept inside the frame."""
        font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness
        (text_w, text_h), baseline = cv2.getTextSize(text, font, scale, thickness)
        height, width = frame.shape[:2]
        pad = 2
        x = min(max(anchor[0], 0), max(width - text_w - 2 * pad, 0))
        y = min(max(anchor[1], text_h + baseline + 2 * pad), height)
        cv2.rectangle(frame, (x, y - text_h - baseline - 2 * pad), (x + text_w + 2 * pad, y), color, -1)
        luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
        ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
        cv2.putText(frame, text, (x + pad, y - baseline - pad), font, scale, ink, thickness, cv2.LINE_AA)
