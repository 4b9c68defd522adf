"""`annotate`: video in, overlay video and PoseTrack JSON out (images in, overlay images out).

Data flows one way: decode (its own thread) -> detect people (batched over
frames) -> track (ByteTrack, frame by frame) -> backbone on every person crop
of the batch in one pass -> per-track windows once their last frame is
encoded -> MGFE + fusion + head -> draw -> encode. Each stage's time is
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

from ftppose_cli.atomic import check_writable
from ftppose_cli.drawing import PoseAnnotator
from ftppose_cli.errors import InputError
from ftppose_cli.formats.detections import BoxesByFrame
from ftppose_cli.inputs import AnnotateInput
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.pipeline.poses import PoseResult
from ftppose_cli.pipeline.tracking import PersonTracker
from ftppose_cli.pipeline.windows import FrameEntry, WindowScheduler
from ftppose_cli.runtime import release_freed_memory
from ftppose_cli.video.frame_range import FrameRange
from ftppose_cli.video.images import ImageFrames, ImageWriter
from ftppose_cli.video.reader import Frame, VideoInfo, VideoReader
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
    output_dir: Path
    write_video: bool = True
    json_layout: str = "2018"  # or "2017"
    overwrite: bool = False
    batch_size: int = 8  # frames per batch; every person of the batch goes through the backbone at once
    kpt_thr: float = 0.3
    show_boxes: bool = False
    min_box_score: float = 0.0
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
        """Where the overlay and the JSON of an input go.

        The overlay of a video is ``<stem>.mp4``, of a still ``<stem>`` with
        the image's own suffix, of a sequence a folder ``<name>/`` holding
        one image per frame under the source image's name; the JSON is
        ``<name>.json``. All in the output folder.
        """
        return output_paths(item, self.options)

    def annotate(self, item: str | Path | AnnotateInput, people: PersonSource | None = None,
                 progress: ProgressCallback | None = None) -> VideoReport:
        """Annotate one video, still image or image sequence (a path is a video or, by its suffix, a still).

        Raises :class:`InputError` for bad input before any output exists.
        """
        item = _as_input(item)
        overlay_out, json_out = self.output_paths(item)
        check_outputs(item, self.options)
        if item.kind == "video":
            with VideoReader(item.path, selection=self.options.selection) as reader:
                return self.annotate_frames(reader, json_out, overlay_out if self.options.write_video else None,
                                            people, progress)
        frames = ImageFrames(item.images, item.path, self.options.selection)
        overlay = None
        if self.options.write_video:
            targets = [overlay_out] if item.kind == "still" else [overlay_out / p.name for p in item.images]
            overlay = ImageWriter(targets, overlay_out, overwrite=self.options.overwrite)
        return self.annotate_frames(frames, json_out, overlay, people, progress,
                                    frame_names=[str(p) for p in item.images])

    def annotate_frames(self, reader: FrameSource, json_out: Path, video_out: Path | ImageWriter | None = None,
                        people: PersonSource | None = None, progress: ProgressCallback | None = None,
                        frame_names: list[str] | None = None) -> VideoReport:
        """The pipeline over any frame source (a video, a PoseTrack sequence's images).

        ``video_out`` is the MP4 the overlay goes to, or an :class:`ImageWriter`
        for overlay images. ``frame_names`` are the ``file_name`` of each frame
        in the JSON (the evaluator checks them against the ground truth's);
        default ``images/<stem>/<index>.jpg``.
        """
        from ftppose_cli.formats.posetrack_writer import PoseTrackWriter

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
        tracker = PersonTracker((float(info.fps) if info.fps else 25.0) / selection.stride)
        scheduler = WindowScheduler(self.estimator.window // 2)
        track_ids: set[int] = set()
        timer = _StageTimer(report.stage_seconds)

        def emit(ready: list[FrameEntry]) -> None:
            if not ready:
                return
            with timer("pose"):
                batch = scheduler.windows(ready)
                xy, scores = self.estimator.decode(batch.windows, batch.to_image, batch.flipped)
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
                        if self.options.min_box_score > 0 and det.confidence is not None:
                            det = det[det.confidence >= self.options.min_box_score]
                        tracked = tracker.update(det)
                        track_ids.update(int(t) for t in tracked.tracker_id)
                        conf = tracked.confidence if tracked.confidence is not None else np.ones(len(tracked))
                        entries.append(FrameEntry(frame.index, frame, tracked.xyxy.reshape(-1, 4).astype(np.float32),
                                                  np.asarray(conf, np.float32), np.asarray(tracked.tracker_id, int)))
                with timer("pose"):
                    features = self.estimator.encode(images, [e.boxes for e in entries])
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


def output_paths(item: str | Path | AnnotateInput, options: AnnotateOptions) -> tuple[Path, Path]:
    """Where the overlay and the JSON of an input go (see :meth:`VideoAnnotator.output_paths`)."""
    item = _as_input(item)
    folder, name = options.output_dir, item.name
    overlay = {"video": folder / f"{name}.mp4", "still": folder / f"{name}{item.path.suffix}",
               "sequence": folder / name}[item.kind]
    return overlay, folder / f"{name}.json"


def check_outputs(item: str | Path | AnnotateInput, options: AnnotateOptions) -> None:
    """Raise :class:`InputError` unless every file annotating ``item`` writes could be published."""
    checked: set[Path] = set()  # folders found writable: a sequence's many new images need no probe each
    for path in _written(_as_input(item), options):
        if path.parent in checked and not path.exists():
            continue
        check_writable(path, overwrite=options.overwrite)
        checked.add(path.parent)


def claim_outputs(items: list[AnnotateInput], options: AnnotateOptions, *, check_files: bool = True
                  ) -> tuple[list[AnnotateInput], list[InputError]]:
    """Check every input's outputs before any work: the inputs that can go ahead, and an error for each other.

    Outputs are named after the input (a video's or image's stem, a folder's
    name), so two inputs of the same name (``a/clip.mp4`` and ``b/clip.mp4``,
    or ``clip.mp4`` and ``clip.jpg``) would write the same files: the later
    one is refused rather than silently replacing the first one's results
    (with ``overwrite``) or failing with a bare "output exists" (without).
    An output that would land on its own input, or that cannot be written,
    is refused too, so a batch learns of it before the first frame is decoded.

    ``check_files=False`` does only what depends on the names alone, so that
    every process of a torchrun job accepts the same inputs; each then checks
    the files of its own share.
    """
    claimed: dict[Path, Path] = {}
    accepted: list[AnnotateInput] = []
    errors: list[InputError] = []
    for item in items:
        outputs = _written(item, options)
        first = next((claimed[p] for p in outputs if p in claimed), None)
        try:
            if first is not None:
                shown = ", ".join(str(p) for p in _shown(item, options))
                raise InputError(item.path, f"its outputs ({shown}) are also those of {first}, an input of the "
                                            "same name; annotate it into another --output-dir or rename it")
            sources = {p.resolve() for p in item.images or (item.path,)}
            if any(p.resolve() in sources for p in outputs):
                itself = {"video": "the video itself", "still": "the image itself", "sequence": "its own images"}
                raise InputError(item.path, f"its overlay would replace {itself[item.kind]}; choose another "
                                            "--output-dir")
            if check_files:
                check_outputs(item, options)
        except InputError as error:
            errors.append(error)
            continue
        claimed.update((p, item.path) for p in outputs)
        accepted.append(item)
    return accepted, errors


def _as_input(item: str | Path | AnnotateInput) -> AnnotateInput:
    return item if isinstance(item, AnnotateInput) else AnnotateInput.of_file(item)


def _shown(item: AnnotateInput, options: AnnotateOptions) -> tuple[Path, ...]:
    """The outputs of ``item`` as a message names them: the JSON, and the overlay (a sequence's folder) if on."""
    overlay_out, json_out = output_paths(item, options)
    return (json_out, overlay_out) if options.write_video else (json_out,)


def _written(item: AnnotateInput, options: AnnotateOptions) -> tuple[Path, ...]:
    """The files annotating ``item`` writes: the JSON, and unless it is off the overlay (a sequence's: one per image).

    A sequence's overlay images are all listed, also those a ``--stride`` or
    ``--end`` leaves out: what may be written is what must be free.
    """
    overlay_out, json_out = output_paths(item, options)
    if not options.write_video:
        return (json_out,)
    if item.kind == "sequence":
        return (json_out, *(overlay_out / p.name for p in item.images))
    return (json_out, overlay_out)


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
