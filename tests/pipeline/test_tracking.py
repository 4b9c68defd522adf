"""ByteTrack adapter: stable ids, renumbered from 0 in order of appearance; a still keeps every box."""

from __future__ import annotations

import numpy as np
import supervision as sv

from ftppose_cli.pipeline.tracking import PersonTracker, StillIds


def _dets(boxes: list[list[float]]) -> sv.Detections:
    return sv.Detections(xyxy=np.array(boxes, np.float32).reshape(-1, 4),
                         confidence=np.full(len(boxes), 0.9, np.float32), class_id=np.zeros(len(boxes), int))


def test_two_walkers_keep_their_ids() -> None:
    tracker = PersonTracker(frame_rate=10)
    ids = []
    for t in range(10):
        tracked = tracker.update(_dets([[10 + 2 * t, 10, 50 + 2 * t, 110], [200 - 2 * t, 20, 240 - 2 * t, 120]]))
        order = np.argsort(tracked.xyxy[:, 0])
        ids.append(tuple(tracked.tracker_id[order]))
    assert len(set(ids)) == 1 and sorted(ids[0]) == [0, 1]


def test_empty_frames_are_fine() -> None:
    tracker = PersonTracker(frame_rate=25)
    assert len(tracker.update(sv.Detections.empty())) == 0


def test_a_still_keeps_every_box_bytetrack_would_not_start() -> None:
    scores = np.array([0.35, 0.9, 0.32], np.float32)  # two under ByteTrack's start score (0.3 + 0.1)
    dets = sv.Detections(xyxy=np.array([[0, 0, 10, 20], [20, 0, 30, 20], [40, 0, 50, 20]], np.float32),
                         confidence=scores, class_id=np.zeros(3, int))
    assert len(PersonTracker(frame_rate=25).update(dets)) == 1
    kept = StillIds().update(dets)
    np.testing.assert_allclose(kept.confidence, [0.9, 0.35, 0.32])
    np.testing.assert_array_equal(kept.tracker_id, [0, 1, 2])
    assert len(StillIds().update(sv.Detections.empty())) == 0
