"""The annotator: video in, overlay video and PoseTrack JSON out (images in, overlay images out).

:class:`VideoAnnotator` is what `ftppose annotate` (:mod:`ftppose_cli.cli.annotate`)
and the API run; :func:`~ftppose_cli.pipeline.builder.build_annotator` makes
one from an :class:`AnnotateOptions`. :meth:`VideoAnnotator.annotate` takes an
input (a video, an image, an image sequence); :meth:`VideoAnnotator.run_pipeline`
is the pipeline itself, over any frame source.

Data flows one way: decode (its own thread) -> detect people (batched over
frames) -> track (ByteTrack, frame by frame) -> backbone on every person crop
of the batch in one pass -> per-track windows once their last frame is
embedded -> MGFE + fusion + head -> draw -> encode. Each stage's time is
measured, so the report says where a video's time went.

Ctrl-C (KeyboardInterrupt; the CLI raises one for SIGTERM too) stops the run:
the video written so far is finished so it plays, and the JSON lists the
frames done with ``"interrupted": true`` in its ``ftppose`` record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import supervision as sv

from ftppose_cli.drawing import PoseAnnotator
from ftppose_cli.errors import InputError
from ftppose_cli.formats.detections import BoxesByFrame
from ftppose_cli.inputs import AnnotateInput
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.pipeline.outputs import as_input, check_outputs, output_paths
from ftppose_cli.pipeline.sinks import PoseTrackWriter
from ftppose_cli.pipeline.tracking import PersonTracker, StillIds
from ftppose_cli.pipeline.windows import FrameEntry, WindowScheduler
from ftppose_cli.poses import PoseResult
from ftppose_cli.runtime import release_freed_memory
from ftppose_cli.video.frame_range import FrameRange
from ftppose_cli.video.frames import Frame, VideoInfo
from ftppose_cli.video.images import ImageFrames, ImageWriter
from ftppose_cli.video.reader import VideoReader
from ftppose_cli.video.writer import VideoWriter

STAGES = ("decode", "detect", "track", "pose", "draw", "encode")


class FrameSource(Protocol):
    """What the pipeline reads frames from: :class:`VideoReader`, :class:`ImageFrames` or a PoseTrack sequence.

    A source may also say how many frames it will yield (``expected_frames``)
    and which part of the input it reads (``selection``, a :class:`FrameRange`).
    """

    info: VideoInfo
    truncated: bool
    warnings: list[str]

    def __iter__(self) -> Iterator[Frame]: ...


class PersonSource(Protocol):
    """Anything that finds people in a batch of frames (the built-in detector, a boxes file).

    A source that keys people by frame may also have ``next_frames(indices)``:
    the pipeline calls it before each :meth:`detect` with the frames'
    positions in the whole input, which skip with ``--start`` and ``--stride``.
    """

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]: ...


class BoxesFileSource:
    """People from precomputed boxes, looked up by frame position.

    A box lying wholly outside its frame is dropped: its crop would be black
    and its joints off the image (at negative coordinates, which `ftppose eval`
    rejects). Those, and boxes for frames the video turned out not to have,
    are reported by :meth:`unused_boxes` rather than vanishing silently.
    """

    def __init__(self, boxes: BoxesByFrame) -> None:
        self.boxes = boxes
        self._next = 0
        self._outside: list[int] = []  # the frame of each dropped box
        self._positions: list[int] | None = None

    def next_frames(self, indices: list[int]) -> None:
        """The positions of the frames the next :meth:`detect` gets (else it counts on from the last one)."""
        self._positions = list(indices)

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        positions = self._positions or range(self._next, self._next + len(images))
        self._positions = None
        out = []
        for position, image in zip(positions, images):
            b = self.boxes.get(position, np.zeros((0, 5), np.float32))
            height, width = image.shape[:2]
            inside = (b[:, 2] > 0) & (b[:, 0] < width) & (b[:, 3] > 0) & (b[:, 1] < height)
            self._outside += [position] * int((~inside).sum())
            b = b[inside]
            out.append(sv.Detections(xyxy=b[:, :4].astype(np.float32), confidence=b[:, 4].astype(np.float32),
                                     class_id=np.zeros(len(b), int)))
            self._next = position + 1
        return out

    def unused_boxes(self, video_ended: bool, frame_count: int | None = None) -> list[str]:
        """What the file held that was not used; boxes past the last frame only count once the video ended.

        ``frame_count``: how many frames the video has, when known; else the
        frames up to the last one given to :meth:`detect` (which, with a
        ``--stride``, may fall short of the last frame).
        """
        found = []
        if self._outside:
            found.append(f"dropped {_count(len(self._outside), 'box')} lying wholly outside the frame "
                         f"(the first in frame {self._outside[0]})")
        length = self._next if frame_count is None else frame_count
        unused = sorted(f for f, b in self.boxes.items() if len(b) and not 0 <= f < length)
        if video_ended and unused:
            boxes = sum(len(self.boxes[f]) for f in unused)
            frames = f"frame {unused[0]}" if len(unused) == 1 else f"frames {unused[0]} to {unused[-1]}"
            found.append(f"{_count(boxes, 'box')} for {frames} were not used: the video has "
                         f"{_count(length, 'frame')}")
        return found


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("x") else "s")


@dataclass
class AnnotateOptions:
    """How to annotate, in one object: the networks and where they run, the people, the outputs.

    :func:`~ftppose_cli.pipeline.builder.build_annotator` loads the networks it
    names; :class:`VideoAnnotator` reads the rest. ``None`` means the shipped
    weights or the detector's own setting.
    """

    output_dir: Path
    # the pose model
    weights: Path | None = None  # pose checkpoint; None: weights/pose
    pruning_ratio: float = 0.5
    device: str = "auto"  # auto, cpu, cuda, cuda:N or mps
    half: bool = False
    flip_test: bool = False
    backend: str = "torch"  # or "onnx": both networks on ONNX Runtime (CPU), from their exports
    threads: int | None = None  # ONNX Runtime's intra-op threads (torch's are set by the CLI)
    # the people
    use_detector: bool = True  # False: people come from boxes files (builder.build_person_source)
    detector: Path | None = None  # detector checkpoint; None: weights/detector
    min_box_score: float | None = None  # the detector's threshold (None: its own); boxes below it are dropped
    detector_input_sizes: tuple[int, ...] | None = None  # the frame's longer side(s) at the detector; None: its own
    # the outputs
    write_video: bool = True
    json_layout: str = "2018"  # or "2017"
    overwrite: bool = False
    batch_size: int = 8  # frames per batch; every person of the batch goes through the backbone at once
    kpt_thr: float = 0.3
    show_boxes: bool = False
    selection: FrameRange = field(default_factory=FrameRange)  # part of each video (and image sequence)
    palette: str = "track"  # limb colours: "track" (two shades of each track's colour) or "coco"


@dataclass
class VideoReport:
    video: Path
    frames: int = 0
    person_frames: int = 0
    tracks: int = 0
    backbone_crops: int = 0
    stage_seconds: dict[str, float] = field(default_factory=lambda: {s: 0.0 for s in STAGES})
    wall_seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)
    interrupted: bool = False
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def stage_ms_per_frame(self) -> dict[str, float]:
        return {s: 1000.0 * v / max(1, self.frames) for s, v in self.stage_seconds.items()}

    def to_dict(self) -> dict:
        return {
            "video": str(self.video), "frames": self.frames, "person_frames": self.person_frames,
            "tracks": self.tracks, "backbone_crops": self.backbone_crops, "fps": self.fps,
            "wall_seconds": self.wall_seconds, "stage_ms_per_frame": self.stage_ms_per_frame(),
            "outputs": [str(p) for p in self.outputs], "interrupted": self.interrupted,
            "truncated": self.truncated, "warnings": list(self.warnings),
        }


ProgressCallback = Callable[[int, int | None, int], None]  # frames done, total (if known), people in the last frame


class VideoAnnotator:
    """Runs the whole pipeline on one video at a time with a shared model and detector."""

    def __init__(self, estimator: PoseEstimator, people: PersonSource | None, options: AnnotateOptions) -> None:
        self.estimator = estimator
        self.people = people
        self.options = options
        self.drawer = PoseAnnotator(kpt_thr=options.kpt_thr, show_boxes=options.show_boxes, palette=options.palette)

    def output_paths(self, item: str | Path | AnnotateInput) -> tuple[Path, Path]:
        """Where the overlay and the JSON of an input go (:func:`~ftppose_cli.pipeline.outputs.output_paths`)."""
        return output_paths(item, self.options)

    def annotate(self, item: str | Path | AnnotateInput, people: PersonSource | None = None,
                 progress: ProgressCallback | None = None) -> VideoReport:
        """Annotate one video, still image or image sequence (a path is a video or, by its suffix, a still).

        Raises :class:`InputError` for bad input before any output exists.
        """
        item = as_input(item)
        overlay_out, json_out = self.output_paths(item)
        check_outputs(item, self.options)
        if item.kind == "video":
            with VideoReader(item.path, selection=self.options.selection) as reader:
                return self.run_pipeline(reader, json_out, overlay_out if self.options.write_video else None,
                                            people, progress)
        frames = ImageFrames(item.images, item.path, self.options.selection)
        overlay = None
        if self.options.write_video:
            targets = [overlay_out] if item.kind == "still" else [overlay_out / p.name for p in item.images]
            overlay = ImageWriter(targets, overlay_out, overwrite=self.options.overwrite)
        return self.run_pipeline(frames, json_out, overlay, people, progress,
                                    frame_names=[str(p) for p in item.images])

    def run_pipeline(self, reader: FrameSource, json_out: Path, video_out: Path | ImageWriter | None = None,
                        people: PersonSource | None = None, progress: ProgressCallback | None = None,
                        frame_names: list[str] | None = None) -> VideoReport:
        """The pipeline over any frame source (a video, a PoseTrack sequence's images).

        ``video_out`` is the MP4 the overlay goes to, or an :class:`ImageWriter`
        for overlay images. ``frame_names`` are the ``file_name`` of each frame
        in the JSON (the evaluator checks them against the ground truth's);
        default ``images/<stem>/<index>.jpg``.
        """
        people = people or self.people
        info = reader.info
        if people is None:
            raise InputError(info.path, "no person source: give a detector or a boxes file")
        selection: FrameRange = getattr(reader, "selection", None) or FrameRange()
        total = getattr(reader, "expected_frames", info.frame_count)
        report = VideoReport(info.path)
        started = time.perf_counter()
        crops_before = self.estimator.backbone_crops
        json_writer = PoseTrackWriter(json_out, info, layout=self.options.json_layout,
                                      overwrite=self.options.overwrite, frame_names=frame_names)
        writer = video_out
        if isinstance(video_out, Path):
            writer = VideoWriter.like(video_out, info, overwrite=self.options.overwrite,
                                      cut=not selection.is_everything)
        # The tracker's memory is in frames; with a stride, fewer of them make up a second.
        fps = float(info.fps) if info.fps else 25.0
        tracker = StillIds() if total == 1 else PersonTracker(fps / selection.stride)
        scheduler = WindowScheduler(self.estimator.window // 2)
        track_ids: set[int] = set()
        timer = _StageTimer(report.stage_seconds)

        def emit(ready: list[FrameEntry]) -> None:
            if not ready:
                return
            with timer("pose"):
                batch = scheduler.windows(ready)
                xy, scores = self.estimator.estimate_windows(batch.windows, batch.to_image, batch.flipped)
            start = 0
            for entry, count in zip(batch.entries, batch.counts):
                poses = PoseResult(xy=xy[start:start + count], scores=scores[start:start + count],
                                   boxes=entry.boxes, box_scores=entry.box_scores, track_ids=entry.track_ids)
                start += count
                frame: Frame = entry.payload
                json_writer.add_frame(frame.index, poses, timestamp=frame.time)
                if writer is not None:
                    with timer("draw"):
                        canvas = self.drawer.annotate(frame.image.copy(), poses)
                    with timer("encode"):
                        writer.write(canvas, frame.pts)
                report.frames += 1
                report.person_frames += count
                if progress is not None:
                    progress(report.frames, total, count)

        finished = False
        if progress is not None:
            progress(0, total, 0)
        try:
            frames = iter(reader)
            while True:
                with timer("decode"):
                    chunk = _take(frames, self.options.batch_size)
                if not chunk:
                    break
                images = [f.image for f in chunk]
                with timer("detect"):
                    if hasattr(people, "next_frames"):
                        people.next_frames([f.index for f in chunk])
                    detections = people.detect(images)
                entries = []
                with timer("track"):
                    for frame, det in zip(chunk, detections):
                        if self.options.min_box_score and det.confidence is not None:
                            det = det[det.confidence >= self.options.min_box_score]
                        tracked = tracker.update(det)
                        track_ids.update(int(t) for t in tracked.tracker_id)
                        conf = tracked.confidence if tracked.confidence is not None else np.ones(len(tracked))
                        entries.append(FrameEntry(frame.index, frame, tracked.xyxy.reshape(-1, 4).astype(np.float32),
                                                  np.asarray(conf, np.float32), np.asarray(tracked.tracker_id, int)))
                with timer("pose"):
                    features = self.estimator.embed_people(images, [e.boxes for e in entries])
                for entry, feats in zip(entries, features):
                    entry.features = feats
                    emit(scheduler.push(entry))
                release_freed_memory()
            emit(scheduler.flush())
            finished = True
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            report.truncated = reader.truncated
            report.warnings.extend(reader.warnings)
            if isinstance(people, BoxesFileSource):
                # Read to its end only without --end (else decoding stops there); then the source knows its length.
                ended = finished and selection.end is None
                length = getattr(reader, "frames_decoded", info.frame_count) if ended else None
                report.warnings.extend(people.unused_boxes(video_ended=ended, frame_count=length))
            if writer is not None:
                kept = writer.close(finished=finished, keep=True)
                report.warnings.extend(writer.warnings)
                if kept is not None:
                    report.outputs.append(kept)
            report.outputs.append(json_out)  # before the JSON is written, so the report in it lists the JSON too
            report.tracks = len(track_ids)
            report.backbone_crops = self.estimator.backbone_crops - crops_before
            report.wall_seconds = time.perf_counter() - started
            extra = {"report": report.to_dict()}
            if not selection.is_everything:
                extra["selection"] = selection.to_dict()
            json_writer.close(interrupted=report.interrupted, extra=extra)
        return report


def _take(frames, count: int) -> list[Frame]:
    chunk = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == count:
            break
    return chunk


class _StageTimer:
    def __init__(self, totals: dict[str, float]) -> None:
        self.totals = totals

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[stage] += time.perf_counter() - start
