"""Per-track windows over cached backbone features.

A pose at frame t needs the same person's tokens at t-r .. t+r (the tokens
each frame kept after pruning, and the key frame's all), so results
come out r frames late. The scheduler keeps only the last 2r+1 frames, so
memory does not grow with the video. A track that starts or ends inside a
window (or is missed for a frame) is padded by repeating its nearest frame
towards the key frame, as the issue and the paper's baselines do.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ftppose_cli.pipeline.estimator import PersonFeatures, WindowTokens


@dataclass
class FrameEntry:
    """One decoded frame on its way through the pipeline."""

    index: int
    payload: Any  # whatever the caller needs back (the image, timestamps)
    boxes: np.ndarray  # (n, 4) xyxy
    box_scores: np.ndarray  # (n,)
    track_ids: np.ndarray  # (n,) int
    features: PersonFeatures | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class WindowBatch:
    """All windows of a set of ready frames, stacked for one ``estimate_windows`` call."""

    entries: list[FrameEntry]
    windows: WindowTokens  # B windows: each frame's kept tokens, the key frame's all
    to_image: np.ndarray  # (B, 2, 3)
    flipped: WindowTokens | None  # the same windows of the mirrored crops (flip test)
    counts: list[int]  # people per entry, to split the results back


class WindowScheduler:
    """Holds embedded frames until their windows are complete, then hands them out in order."""

    def __init__(self, radius: int) -> None:
        self.radius = radius
        self._frames: deque[FrameEntry] = deque()
        self._next_ready = 0  # position in _frames of the first frame not yet emitted

    def push(self, entry: FrameEntry) -> list[FrameEntry]:
        """Add an embedded frame; returns the frames whose windows just became complete."""
        self._frames.append(entry)
        return self._take(lambda pos: pos + self.radius < len(self._frames))

    def flush(self) -> list[FrameEntry]:
        """At the end of the stream every remaining frame is ready (windows padded)."""
        return self._take(lambda pos: True)

    def _take(self, ready) -> list[FrameEntry]:
        out: list[FrameEntry] = []
        while self._next_ready < len(self._frames) and ready(self._next_ready):
            out.append(self._frames[self._next_ready])
            self._next_ready += 1
        return out

    def windows(self, ready: list[FrameEntry]) -> WindowBatch:
        """Stack every person's window for the frames ``push``/``flush`` just returned.

        Call it once per non-empty ready list, before the next ``push``: it also
        drops the frames no window can need any more.
        """
        frames = list(self._frames)
        position = {id(e): i for i, e in enumerate(frames)}
        kept, keys, inters, to_image, kept_f, keys_f, inters_f, counts = [], [], [], [], [], [], [], []
        for entry in ready:
            t = position[id(entry)]
            counts.append(len(entry.track_ids))
            features = entry.features
            for person, track in enumerate(entry.track_ids):
                rows = [self._neighbour(frames, t, offset, int(track), person)
                        for offset in range(-self.radius, self.radius + 1)]
                kept.append(torch.stack([frames[p].features.kept[i] for p, i in rows]))
                keys.append(features.last[person])
                inters.append(features.intermediate[person])
                to_image.append(features.to_image[person])
                if features.last_flipped is not None:
                    kept_f.append(torch.stack([frames[p].features.kept_flipped[i] for p, i in rows]))
                    keys_f.append(features.last_flipped[person])
                    inters_f.append(features.intermediate_flipped[person])
        self._trim()
        if not kept:
            empty = torch.zeros(0)
            return WindowBatch(ready, WindowTokens(empty, empty, empty), np.zeros((0, 2, 3)), None, counts)
        flipped = None
        if kept_f:
            flipped = WindowTokens(torch.stack(kept_f), torch.stack(keys_f), torch.stack(inters_f))
        windows = WindowTokens(torch.stack(kept), torch.stack(keys), torch.stack(inters))
        return WindowBatch(ready, windows, np.stack(to_image), flipped, counts)

    def _neighbour(self, frames: list[FrameEntry], t: int, offset: int, track: int, person: int) -> tuple[int, int]:
        """(frame position, person row) of ``track`` at t+offset, or its nearest frame towards t."""
        step = -1 if offset > 0 else 1
        o = offset
        while o != 0:
            p = t + o
            if 0 <= p < len(frames):
                rows = np.flatnonzero(frames[p].track_ids == track)
                if len(rows):
                    return p, int(rows[0])
            o += step
        return t, person

    def _trim(self) -> None:
        # Frames before (first not-yet-emitted - radius) can never be a neighbour again.
        drop = max(0, self._next_ready - self.radius)
        for _ in range(drop):
            self._frames.popleft()
        self._next_ready -= drop
