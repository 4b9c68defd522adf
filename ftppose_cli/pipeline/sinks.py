"""The pipeline's PoseTrack JSON sink for `annotate`: one record per decoded frame, written atomically.

A sink of the pipeline, not a file format: it takes the pipeline's
:class:`~ftppose_cli.poses.PoseResult` per frame, and leaves the layout of
the file to :mod:`ftppose_cli.formats`, which knows nothing of the pipeline.

Every decoded frame is listed, also frames with nobody in them, because the
official evaluator pairs ground-truth and prediction frames by position.
Frames are collected as small arrays and written through
:func:`~ftppose_cli.formats.posetrack_writer.write_sequence` on :meth:`close`
(temporary file, then published without clobbering a file that
appeared meanwhile), in the 2018 or 2017 layout. An extra
``ftppose`` record says how the file was made and whether the run was
interrupted; poseval ignores keys it does not know.
"""

from __future__ import annotations

from pathlib import Path

from ftppose_cli.atomic import check_writable
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_writer import write_sequence
from ftppose_cli.poses import PoseResult
from ftppose_cli.video.frames import VideoInfo


class PoseTrackWriter:
    def __init__(self, path: str | Path, info: VideoInfo, layout: str = "2018", overwrite: bool = False,
                 frame_names: list[str] | None = None) -> None:
        if layout not in ("2017", "2018"):
            raise ValueError(f"unknown PoseTrack layout {layout!r}")
        self.path = Path(path)
        check_writable(self.path, overwrite=overwrite)
        self.overwrite = overwrite
        self.info = info
        self.layout = layout
        self.frames: list[PoseTrackFrame] = []
        self.frame_names = frame_names

    def add_frame(self, index: int, poses: PoseResult, timestamp: float | None = None) -> None:
        """Add frame ``index``; ``timestamp`` is when it is shown, in seconds (see :class:`PoseTrackFrame`)."""
        people = PoseTrackPeople.from_arrays(poses.xy, poses.scores, poses.track_ids, poses.boxes)
        self.frames.append(PoseTrackFrame(
            file_name=self.frame_names[index] if self.frame_names else f"images/{self.info.path.stem}/{index:06d}.jpg",
            people=people, image_id=index,
            frame_id=index, width=self.info.width, height=self.info.height, timestamp=timestamp,
        ))

    def close(self, interrupted: bool = False, extra: dict | None = None) -> Path:
        """Write the file atomically and return its path."""
        record = {"source": str(self.info.path), "frames": len(self.frames), "interrupted": interrupted,
                  "width": self.info.width, "height": self.info.height, "fps": float(self.info.fps or 0),
                  **(extra or {})}
        sequence = PoseTrackSequence(name=self.info.path.stem, frames=self.frames, layout=self.layout)
        return write_sequence(sequence, self.path, self.layout, extra={"ftppose": record},
                              overwrite=self.overwrite)
