"""The poses of one frame: the currency passed between pipeline stages.

Tracking, pose estimation, drawing and the PoseTrack writer all exchange this
one small container of numpy arrays (the supervision habit), so no stage has
to know how another stores people. Row ``i`` of every array is person ``i``.
It sits at the bottom of the package, below the pipeline, the drawing and the
sinks, so that all of them can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftppose_cli.formats.joints import NUM_JOINTS

UNTRACKED = -1  # track id of a person the tracker has not (yet) assigned


@dataclass
class PoseResult:
    """Keypoints, boxes and track ids of the people in one frame.

    ``xy`` is ``(n, k, 2)`` pixel coordinates in the upright frame, ``scores``
    ``(n, k)`` per-joint confidences in [0, 1], ``boxes`` ``(n, 4)`` as
    ``x1, y1, x2, y2``, ``box_scores`` ``(n,)`` detector confidences and
    ``track_ids`` ``(n,)`` integers (``UNTRACKED`` when unknown). Arrays are
    converted to these dtypes on construction so downstream code can rely on
    them; mismatched shapes fail early with a message naming the field.
    """

    xy: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    box_scores: np.ndarray
    track_ids: np.ndarray

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        self.boxes = np.asarray(self.boxes, dtype=np.float32)
        self.box_scores = np.asarray(self.box_scores, dtype=np.float32)
        self.track_ids = np.asarray(self.track_ids, dtype=np.int64)
        n = len(self.xy)
        if self.xy.ndim != 3 or self.xy.shape[2] != 2:
            raise ValueError(f"xy must have shape (n, k, 2), got {self.xy.shape}")
        expected = {
            "scores": (self.scores, (n, self.xy.shape[1])),
            "boxes": (self.boxes, (n, 4)),
            "box_scores": (self.box_scores, (n,)),
            "track_ids": (self.track_ids, (n,)),
        }
        for name, (array, shape) in expected.items():
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")

    @classmethod
    def empty(cls, num_joints: int = NUM_JOINTS) -> PoseResult:
        """No people: the result for a frame where nobody was detected."""
        return cls(
            xy=np.zeros((0, num_joints, 2)),
            scores=np.zeros((0, num_joints)),
            boxes=np.zeros((0, 4)),
            box_scores=np.zeros((0,)),
            track_ids=np.zeros((0,)),
        )

    @property
    def num_joints(self) -> int:
        return self.xy.shape[1]

    def __len__(self) -> int:
        return len(self.xy)

    def __getitem__(self, index: int | slice | np.ndarray | list[int]) -> PoseResult:
        """A subset of people (a mask or indices), e.g. ``poses[poses.box_scores > 0.5]``."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return PoseResult(
            xy=self.xy[index],
            scores=self.scores[index],
            boxes=self.boxes[index],
            box_scores=self.box_scores[index],
            track_ids=self.track_ids[index],
        )
