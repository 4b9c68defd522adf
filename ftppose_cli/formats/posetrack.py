"""PoseTrack sequences in memory: one data model for the 2017 "annolist" and the 2018 / 21 COCO-like files.

Both layouts are read into the same :class:`PoseTrackSequence`, in the
17-joint order of :data:`POSETRACK_JOINTS`, so the evaluator and the
annotate writer never care which layout a file used. People of a frame travel
as one :class:`PoseTrackPeople` of stacked arrays (``keypoints (n, 17, 2)``,
``scores (n, 17)``...) because the evaluator works on whole frames at once;
``people[i]`` gives one :class:`PoseTrackPerson` where a per-person view reads
better. Files are read by :mod:`ftppose_cli.formats.posetrack_reader` and
written by :mod:`ftppose_cli.formats.posetrack_writer`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ftppose_cli.formats.joints import NUM_JOINTS

Layout = Literal["2017", "2018"]


@dataclass
class PoseTrackPerson:
    """One person in one frame.

    ``keypoints`` are pixel positions (17, 2); ``annotated`` says which joints
    the file lists (see the module docstring); ``scores`` are per-joint
    confidences with NaN where the file has none. Boxes are (x1, y1, x2, y2),
    all NaN when absent. ``has_pose`` is False for a 2017 entry without a point
    list (a head box only): poseval counts it when deciding whether a frame is
    labelled, then drops it.
    """

    track_id: int
    keypoints: np.ndarray
    visibility: np.ndarray
    annotated: np.ndarray
    scores: np.ndarray
    box: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    head_box: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    has_pose: bool = True
    person_id: int | None = None


@dataclass
class PoseTrackPeople:
    """All people of one frame as stacked arrays, in file order.

    Shapes: ``track_ids (n,)``, ``keypoints (n, 17, 2)``, ``visibility``,
    ``annotated`` and ``scores (n, 17)``, ``boxes`` and ``head_boxes (n, 4)``
    as (x1, y1, x2, y2), ``has_pose (n,)``, ``person_ids (n,)`` (-1 when the
    file has none; PoseTrack21 adds them).
    """

    track_ids: np.ndarray
    keypoints: np.ndarray
    visibility: np.ndarray
    annotated: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    head_boxes: np.ndarray
    has_pose: np.ndarray
    person_ids: np.ndarray

    @classmethod
    def empty(cls) -> PoseTrackPeople:
        return cls.from_arrays(np.zeros((0, NUM_JOINTS, 2)))

    @classmethod
    def from_arrays(cls, keypoints: np.ndarray, scores: np.ndarray | None = None,
                    track_ids: np.ndarray | Sequence[int] | None = None, boxes: np.ndarray | None = None,
                    head_boxes: np.ndarray | None = None, visibility: np.ndarray | None = None,
                    annotated: np.ndarray | None = None) -> PoseTrackPeople:
        """People from model output: every joint annotated (visible) unless told otherwise.

        This is the constructor the annotate pipeline uses: ``keypoints (n, 17, 2)``
        and ``scores (n, 17)`` straight from the pose model.
        """
        keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, NUM_JOINTS, 2)
        n = len(keypoints)
        return cls(
            track_ids=np.arange(n, dtype=np.int64) if track_ids is None else np.asarray(track_ids, dtype=np.int64),
            keypoints=keypoints,
            visibility=np.ones((n, NUM_JOINTS)) if visibility is None else np.asarray(visibility, dtype=np.float64),
            annotated=np.ones((n, NUM_JOINTS), bool) if annotated is None else np.asarray(annotated, dtype=bool),
            scores=np.full((n, NUM_JOINTS), np.nan) if scores is None else np.asarray(scores, dtype=np.float64),
            boxes=np.full((n, 4), np.nan) if boxes is None else np.asarray(boxes, dtype=np.float64).reshape(n, 4),
            head_boxes=(np.full((n, 4), np.nan) if head_boxes is None
                        else np.asarray(head_boxes, dtype=np.float64).reshape(n, 4)),
            has_pose=np.ones(n, bool),
            person_ids=np.full(n, -1, np.int64),
        )

    @classmethod
    def from_persons(cls, persons: Sequence[PoseTrackPerson]) -> PoseTrackPeople:
        if not persons:
            return cls.empty()
        return cls(
            track_ids=np.array([p.track_id for p in persons], dtype=np.int64),
            keypoints=np.stack([np.asarray(p.keypoints, dtype=np.float64) for p in persons]),
            visibility=np.stack([np.asarray(p.visibility, dtype=np.float64) for p in persons]),
            annotated=np.stack([np.asarray(p.annotated, dtype=bool) for p in persons]),
            scores=np.stack([np.asarray(p.scores, dtype=np.float64) for p in persons]),
            boxes=np.stack([np.asarray(p.box, dtype=np.float64) for p in persons]),
            head_boxes=np.stack([np.asarray(p.head_box, dtype=np.float64) for p in persons]),
            has_pose=np.array([p.has_pose for p in persons], dtype=bool),
            person_ids=np.array([-1 if p.person_id is None else p.person_id for p in persons], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.track_ids)

    def __getitem__(self, index: int) -> PoseTrackPerson:
        person_id = int(self.person_ids[index])
        return PoseTrackPerson(
            track_id=int(self.track_ids[index]), keypoints=self.keypoints[index], visibility=self.visibility[index],
            annotated=self.annotated[index], scores=self.scores[index], box=self.boxes[index],
            head_box=self.head_boxes[index], has_pose=bool(self.has_pose[index]),
            person_id=None if person_id < 0 else person_id,
        )

    def __iter__(self) -> Iterator[PoseTrackPerson]:
        return (self[i] for i in range(len(self)))

    def select(self, which: np.ndarray | slice) -> PoseTrackPeople:
        """The people picked by a boolean mask (n,), an index array or a slice, in that order."""
        return PoseTrackPeople(**{name: getattr(self, name)[which] for name in _PEOPLE_FIELDS})


_PEOPLE_FIELDS = ("track_ids", "keypoints", "visibility", "annotated", "scores", "boxes", "head_boxes", "has_pose",
                  "person_ids")


@dataclass
class PoseTrackFrame:
    """One listed frame. ``ignore_regions`` are polygons, each (k, 2) in pixels.

    ``integer_keypoints``: the frame lists people and every keypoint value of
    theirs is a JSON integer (2018 layout). The PoseTrack21 kit stores such a
    frame in an integer array, which truncates the scores it writes into it.
    ``timestamp`` is when the frame is shown, in seconds, as its video states
    it: frames of a variable-frame-rate video are not ``index / fps`` apart.
    Files store it as an extra ``timestamp`` key, which poseval ignores.
    """

    file_name: str
    people: PoseTrackPeople
    is_labeled: bool = True
    ignore_regions: tuple[np.ndarray, ...] = ()
    image_id: int | None = None
    frame_id: int | None = None
    width: int | None = None
    height: int | None = None
    integer_keypoints: bool = False
    timestamp: float | None = None


@dataclass
class PoseTrackSequence:
    """One video sequence: every frame in file order (frames are paired by position)."""

    name: str
    frames: list[PoseTrackFrame]
    layout: Layout = "2018"
    vid_id: str | None = None

    def __len__(self) -> int:
        return len(self.frames)


__all__ = ["Layout", "PoseTrackFrame", "PoseTrackPeople", "PoseTrackPerson", "PoseTrackSequence"]
