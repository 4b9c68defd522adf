"""Decode a video into upright BGR frames with their exact timestamps.

Why a background thread: decoding and colour conversion run in FFmpeg with the
GIL released, so a producer thread keeps the next frames ready while the
consumer runs the detector and the pose model. The queue between them is
bounded, so memory stays at ``queue_size`` frames however long the video is.

Why frames are rotated here: phones store portrait video as landscape pixels
plus a display matrix. Models see people lying on their side unless the
rotation is applied, so every frame leaves the reader upright and the rest of
the pipeline (and the writer) never has to think about it.

Why timestamps travel with each frame: variable-frame-rate video (phones,
screen recordings) has irregular gaps between frames. Keeping the stream's own
``pts`` and ``time_base`` lets the writer reproduce the timing exactly instead
of assuming a constant rate.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.video.frame_range import FrameRange
from ftppose_cli.video.frames import Frame, VideoInfo

# FFmpeg's own fallback when a stream states no rate at all.
_FALLBACK_FPS = Fraction(25)
# Used only when a stream has no time base (raw elementary streams).
_FALLBACK_TIME_BASE = Fraction(1, 90_000)
_POLL_SECONDS = 0.1


def probe(path: str | Path) -> VideoInfo:
    """Check that ``path`` is a video with at least one decodable frame.

    Decoding the first frame is the only reliable test (a container can open
    and still hold nothing decodable) and it also reveals the rotation, which
    FFmpeg reports per frame. Raises :class:`InputError` naming one problem.
    """
    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path))
    except av.FFmpegError as error:
        raise InputError(path, f"not a readable video file ({_reason(error)})") from error
    with container:
        stream = _video_stream(container, path)
        first = _first_frame(container, stream, path)
        rotation = _clockwise_rotation(first)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        time_base = stream.time_base or _FALLBACK_TIME_BASE
        fps = stream.average_rate or stream.guessed_rate or stream.base_rate or _FALLBACK_FPS
        duration = _duration_seconds(container, stream, time_base)
        frame_count = stream.frames or (round(duration * fps) if duration else None)
        return VideoInfo(
            path=path,
            width=width,
            height=height,
            rotation=rotation,
            fps=Fraction(fps),
            time_base=Fraction(time_base),
            frame_count=frame_count,
            duration=duration,
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
        )


class VideoReader:
    """Iterate over the upright frames of a video, decoded ahead in a thread.

    Use as a context manager so the decode thread stops when the caller does::

        with VideoReader("walk.mp4") as reader:
            for frame in reader:
                ...

    A file that breaks off mid-stream (a truncated download) is read up to its
    last good frame; ``truncated`` becomes true and ``warnings`` says where it
    stopped, so a long job still yields what could be saved. Both are final
    once iteration has ended.

    ``selection`` reads part of the video (:class:`FrameRange`): frames outside
    it are decoded but not converted, and decoding stops at its end. The
    frames yielded keep their index and timestamp in the whole video.
    """

    def __init__(self, path: str | Path, *, queue_size: int = 8, selection: FrameRange | None = None) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.info = probe(path)
        self.selection = selection or FrameRange()
        self.queue_size = queue_size
        self.warnings: list[str] = []
        self.truncated = False
        self.frames_decoded = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode_loop, name="ftppose-decode", daemon=True)
        self._started = False

    @property
    def expected_frames(self) -> int | None:
        """How many frames iteration should yield (an estimate; ``None`` if unknown)."""
        return self.selection.expected_count(self.info.frame_count, float(self.info.fps))

    @property
    def queued(self) -> int:
        """Frames decoded and waiting for the consumer (at most ``queue_size``)."""
        return self._queue.qsize()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError("a VideoReader can be iterated only once; open a new one")
        self._started = True
        self._thread.start()
        yielded = 0
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yielded += 1
                yield item  # type: ignore[misc]
        finally:
            self.close()
        if yielded == 0 and not self.selection.is_everything and self.frames_decoded:
            raise InputError(self.info.path, f"no frame in {self.selection}: the video has {self.frames_decoded} "
                             f"frames ({self.info.duration or 0:.2f} s)")
        if yielded == 0:
            raise InputError(self.info.path, "no decodable video frames")

    def close(self) -> None:
        """Stop the decode thread and free the queued frames; safe to repeat."""
        self._stop.set()
        if self._thread.is_alive():
            while self._thread.is_alive():
                self._drain()
                self._thread.join(_POLL_SECONDS)
        self._drain()

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def _put(self, item: object) -> bool:
        """Block while the queue is full, but give up once the reader is closed."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _decode_loop(self) -> None:
        try:
            self._decode_all()
        except av.FFmpegError as error:
            self._put(_Failure(InputError(self.info.path, f"cannot decode video ({_reason(error)})")))
        except BaseException as error:  # handed to the consumer, who re-raises it
            self._put(_Failure(error))
        finally:
            self._put(_END)

    def _decode_all(self) -> None:
        info = self.info
        turns = (-info.rotation // 90) % 4  # np.rot90 turns counter-clockwise
        with av.open(str(info.path)) as container:
            stream = _video_stream(container, info.path)
            stream.thread_type = "AUTO"
            time_base = stream.time_base or _FALLBACK_TIME_BASE
            stamps = _PresentationStamps(_nominal_step(info.fps, time_base))
            selected = self.selection.selector()
            for decoded, pts in stamps.assign(self._decoded_frames(container, stream)):
                index, time = self.frames_decoded, float(pts * time_base)
                self.frames_decoded += 1
                if not selected(index, time):
                    if selected.done:
                        break
                    continue
                image = decoded.to_ndarray(format="bgr24")
                if turns:
                    image = np.ascontiguousarray(np.rot90(image, turns))
                frame = Frame(index=index, image=image, pts=pts, time_base=time_base, time=time)
                if not self._put(frame):
                    return
            declared = stream.frames
            if not self.truncated and not selected.done and declared and self.frames_decoded < declared:
                self.truncated = True
                self.warnings.append(
                    f"decoded {self.frames_decoded} of the {declared} frames the container declares"
                )

    def _decoded_frames(self, container: av.container.InputContainer,
                        stream: av.VideoStream) -> Iterator[av.VideoFrame]:
        """Yield frames until the end or the first damaged packet.

        After damage the decoder is still drained, because frame threading
        holds back a few good frames that would otherwise be lost.

        A cut is found two ways. Usually decoding fails. But a cut fragmented
        MP4 (as live recorders write) ends without any error: the demuxer
        hands over the cut last packet flagged corrupt, and the threaded
        decoder drops it silently, so that flag is the only sign left.
        """
        decoded = 0
        problem = None
        last_cut = False
        try:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                if packet.size:
                    last_cut = packet.is_corrupt
                for frame in stream.decode(packet):
                    decoded += 1
                    yield frame
            if last_cut:
                problem = "its last packet is cut short"
        except av.FFmpegError as error:
            problem = _reason(error)
        if problem is None:
            return
        try:
            for frame in stream.decode(None):
                decoded += 1
                yield frame
        except av.FFmpegError:
            pass
        self.truncated = True
        self.warnings.append(f"the video breaks off after frame {decoded} ({problem}); stopped at the last good frame")


class _PresentationStamps:
    """Give frames strictly increasing timestamps, repairing broken ones.

    Frames leave the decoder in presentation order, but some containers (AVI
    with B-frames) attach the stamps in decode order, so they come out
    shuffled. Holding back a few frames and handing out the smallest stamp
    seen so far restores the order; for a sound stream it changes nothing.
    Missing or repeated stamps would make the encoder reject the frame, so
    they are replaced by the next free tick (or one nominal frame step when
    there is no stamp at all).
    """

    REORDER_DEPTH = 4  # above x264's usual B-frame delay; costs 4 frames of latency

    def __init__(self, step: int) -> None:
        self._step = step
        self._last: int | None = None

    def assign(self, frames: Iterator[av.VideoFrame]) -> Iterator[tuple[av.VideoFrame, int]]:
        held: deque[av.VideoFrame] = deque()
        seen: list[int] = []
        for frame in frames:
            held.append(frame)
            if frame.pts is not None:
                heapq.heappush(seen, frame.pts)
            if len(held) > self.REORDER_DEPTH:
                yield held.popleft(), self._next(seen)
        while held:
            yield held.popleft(), self._next(seen)

    def _next(self, seen: list[int]) -> int:
        pts = heapq.heappop(seen) if seen else None
        if self._last is None:
            pts = 0 if pts is None else pts
        elif pts is None:
            pts = self._last + self._step
        elif pts <= self._last:
            pts = self._last + 1
        self._last = pts
        return pts


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, expected a video file")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as error:
        raise InputError(path, f"cannot read file ({error.strerror or error})") from error
    if size == 0:
        raise InputError(path, "file is empty")


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    """The first real video stream; cover art in audio files does not count."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({stream.type for stream in container.streams}) or ["none"]
    raise InputError(path, f"has no video stream (streams found: {', '.join(kinds)})")


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream, path: Path) -> av.VideoFrame:
    try:
        for packet in container.demux(stream):
            for frame in stream.decode(packet):
                return frame
    except av.FFmpegError as error:
        raise InputError(path, f"no decodable video frames ({_reason(error)})") from error
    raise InputError(path, "no decodable video frames")


def _clockwise_rotation(frame: av.VideoFrame) -> int:
    """The clockwise turn that makes the frame upright, snapped to 90 degrees.

    PyAV's ``frame.rotation`` is FFmpeg's display-matrix angle, which is
    counter-clockwise; players turn the picture by its negation.
    """
    counter_clockwise = frame.rotation or 0
    return int(round(-counter_clockwise / 90.0)) * 90 % 360


def _duration_seconds(container: av.container.InputContainer, stream: av.VideoStream,
                      time_base: Fraction) -> float | None:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _nominal_step(fps: Fraction, time_base: Fraction) -> int:
    """One frame period in ``time_base`` units, at least one tick."""
    return max(1, round(1 / (fps * time_base)))


def _reason(error: av.FFmpegError) -> str:
    """FFmpeg's message without the errno and file name PyAV adds."""
    return (getattr(error, "strerror", None) or str(error)).strip().rstrip(".").lower()
