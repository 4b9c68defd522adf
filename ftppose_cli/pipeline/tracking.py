"""Track ids from supervision's ByteTrack.

ByteTrack matches boxes by IoU with a Kalman motion model and, unlike plain
IoU trackers, keeps low-score boxes in a second association round, which is
what keeps ids through partial occlusion. supervision 0.28 deprecated its
copy in favour of the separate ``trackers`` package; we pin supervision below
0.31, where it still ships, and silence the notice.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import supervision as sv


@dataclass(frozen=True)
class TrackerConfig:
    activation_threshold: float = 0.3
    lost_buffer_seconds: float = 1.5
    matching_threshold: float = 0.8
    min_consecutive_frames: int = 1


class PersonTracker:
    """Assigns persistent integer ids (>= 0, < 10000 as PoseTrack requires) to person boxes."""

    def __init__(self, frame_rate: float, config: TrackerConfig | None = None) -> None:
        config = config or TrackerConfig()
        fps = max(1, int(round(frame_rate)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            self._tracker = sv.ByteTrack(
                track_activation_threshold=config.activation_threshold,
                lost_track_buffer=max(1, int(round(config.lost_buffer_seconds * fps))),
                minimum_matching_threshold=config.matching_threshold,
                frame_rate=fps,
                minimum_consecutive_frames=config.min_consecutive_frames,
            )
        self._ids: dict[int, int] = {}

    def update(self, detections: sv.Detections) -> sv.Detections:
        """Tracked detections of this frame, ``tracker_id`` renumbered 0, 1, 2, ... in order of appearance."""
        if detections.confidence is None:
            detections.confidence = np.ones(len(detections), np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            tracked = self._tracker.update_with_detections(detections)
        if len(tracked):
            tracked.tracker_id = np.array(
                [self._ids.setdefault(int(t), len(self._ids) % 10000) for t in tracked.tracker_id], dtype=int
            )
        else:
            tracked.tracker_id = np.zeros(0, dtype=int)
        return tracked


class StillIds:
    """Ids for a single picture, where there is nothing to track.

    ByteTrack starts a track only for a box scoring 0.1 above its activation
    threshold, so on a photo it would drop people the detector found above the
    user's threshold (the three men of ``three_people.jpg`` score 0.3-0.4).
    Every box is kept and numbered 0, 1, ... from the highest score down.
    """

    def update(self, detections: sv.Detections) -> sv.Detections:
        if detections.confidence is not None and len(detections):
            detections = detections[np.argsort(-detections.confidence, kind="stable")]
        detections.tracker_id = np.arange(len(detections), dtype=int)
        return detections
