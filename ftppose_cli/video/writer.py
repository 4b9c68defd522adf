"""Encode annotated frames to an H.264 MP4 that keeps the source's timing and sound.

Design choices, and why:

* **Exact timestamps.** Frames are encoded with the source's own ``pts`` and
  ``time_base``, so a variable-frame-rate phone video plays back with the same
  rhythm, and the copied audio stays in sync.
* **Audio is copied, not re-encoded.** Packets of the source's first audio
  stream are remuxed unchanged (no quality loss, no audio encoder needed) and
  interleaved with the video as it is written, so neither memory nor the file
  layout depends on the video's length. A codec MP4 cannot hold is dropped
  with a warning rather than failing the whole job.
* **Upright pixels, no rotation tag.** :class:`~ftppose_cli.video.reader.VideoReader`
  already turns frames upright and the overlay is drawn on those, so the
  output stores upright pixels and no display matrix; every player then shows
  it the same way, including those that ignore rotation metadata.
* **Exact size, odd sizes included.** H.264 in 4:2:0 cannot code an odd width
  or height (chroma and cropping work in 2-pixel units; x264 refuses both odd
  sizes and odd crops). Even sizes use ``yuv420p`` for the widest player
  support; odd sizes use ``yuv444p`` (High 4:4:4) rather than padding or
  scaling, so the output has exactly the input's size and pose coordinates
  stay valid on it.
* **A cut starts at zero.** For part of a video (``cut``) the first frame
  written is shown at time 0 and only the audio under the frames written is
  copied, so the overlay plays from its beginning, in sync.
* **Atomic finish.** Frames go to a hidden temporary file next to the output,
  published by :meth:`VideoWriter.close` through :mod:`ftppose_cli.atomic`
  like every other output; the output path never holds a half-written file,
  and an existing file is only replaced on request.
  After an abort the encoder is still flushed and the MP4 index written, so
  whatever was encoded is a playable file; the caller decides whether to keep
  it (``keep``).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from ftppose_cli.atomic import check_writable, publish, temporary_file
from ftppose_cli.errors import InputError
from ftppose_cli.video.frames import VideoInfo

_SUFFIX = ".mp4"


class VideoWriter:
    """Write BGR frames of one fixed size to ``path`` as H.264 MP4.

    Use as a context manager: a normal exit publishes the finished file; an
    exception finishes what was written and keeps it only if ``keep_partial``.
    ``pts`` passed to :meth:`write` are in ``time_base`` units and must
    increase; leave them out for a constant ``fps``. ``cut`` shifts them (and
    the copied audio) so the first frame is shown at time 0, and copies no
    audio past the last frame.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        fps: Fraction | int | float,
        time_base: Fraction | None = None,
        audio_from: str | Path | None = None,
        overwrite: bool = False,
        crf: int = 20,
        preset: str = "veryfast",
        keep_partial: bool = True,
        cut: bool = False,
    ) -> None:
        self.path = Path(path)
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        _check_output_path(self.path, overwrite)
        self.width, self.height = width, height
        self.fps = Fraction(fps).limit_denominator(1_000_000)
        self.time_base = Fraction(time_base) if time_base is not None else 1 / self.fps
        self.overwrite = overwrite
        self.keep_partial = keep_partial
        self.pixel_format = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        self.frames_written = 0
        self.warnings: list[str] = []
        self._step = max(1, round(1 / (self.fps * self.time_base)))
        self._last_pts: int | None = None
        self._cut = cut
        self._shift: int | None = None  # subtracted from every pts given (the first one, with start_at_zero)
        self._closed = False
        self._audio = _AudioCopy.open(Path(audio_from), self.warnings) if audio_from is not None else None
        try:
            self.partial_path = temporary_file(self.path)
            self._open_output(crf, preset)
        except BaseException:
            if self._audio is not None:
                self._audio.close()
            if hasattr(self, "partial_path"):
                _remove(self.partial_path)
            raise

    @classmethod
    def like(
        cls,
        path: str | Path,
        info: VideoInfo,
        *,
        copy_audio: bool = True,
        **options: object,
    ) -> VideoWriter:
        """A writer matching the upright frames, timing and audio of a probed video."""
        return cls(
            path,
            width=info.width,
            height=info.height,
            fps=info.fps,
            time_base=info.time_base,
            audio_from=info.path if copy_audio and info.has_audio else None,
            **options,  # type: ignore[arg-type]
        )

    def _open_output(self, crf: int, preset: str) -> None:
        """Open the container; retry without audio if MP4 refuses its codec."""
        try:
            self._container, self._video = self._start_container(crf, preset, with_audio=self._audio is not None)
        except (av.FFmpegError, ValueError) as error:  # PyAV raises ValueError for codecs a format lacks
            if self._audio is None:
                raise InputError(self.path, f"cannot create the video file ({error})") from error
            self.warnings.append(
                f"the source audio ({self._audio.codec}) cannot be copied into MP4 ({error}); writing video only"
            )
            self._audio.close()
            self._audio = None
            self._container, self._video = self._start_container(crf, preset, with_audio=False)

    def _start_container(
        self, crf: int, preset: str, *, with_audio: bool
    ) -> tuple[av.container.OutputContainer, av.VideoStream]:
        try:
            container = av.open(str(self.partial_path), "w", format="mp4", options={"movflags": "+faststart"})
        except (av.FFmpegError, OSError) as error:
            raise InputError(self.path, f"cannot create the video file ({error})") from error
        try:
            video = container.add_stream("libx264", rate=self.fps, options={"crf": str(crf), "preset": preset})
            video.width, video.height = self.width, self.height
            video.pix_fmt = self.pixel_format
            video.codec_context.time_base = self.time_base
            video.time_base = self.time_base
            video.thread_type = "AUTO"
            if with_audio and self._audio is not None:
                self._audio.attach(container)
            container.start_encoding()
        except BaseException:
            container.close()
            raise
        return container, video

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close(finished=False, keep=self.keep_partial)
        except Exception as close_error:  # the original failure matters more
            if hasattr(exc, "add_note"):
                exc.add_note(f"while finishing the partial output {self.path}: {close_error}")

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        """Encode one BGR frame shown at ``pts`` (``time_base`` units)."""
        if self._closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        if image.shape != (self.height, self.width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"expected a {self.height}x{self.width}x3 uint8 BGR image, got {image.shape} {image.dtype}"
            )
        if pts is not None:
            if self._shift is None:
                self._shift = pts if self._cut else 0
                if self._audio is not None:
                    self._audio.skip_before(float(self._shift * self.time_base))
            pts -= self._shift
        if pts is None:
            pts = 0 if self._last_pts is None else self._last_pts + self._step
        elif self._last_pts is not None and pts <= self._last_pts:
            raise ValueError(f"pts must increase: {pts} follows {self._last_pts}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = pts
        frame.time_base = self.time_base
        self._container.mux(self._video.encode(frame))
        self._last_pts = pts
        self.frames_written += 1
        if self._audio is not None:
            self._audio.copy_until(self._container, float(pts * self.time_base))

    def close(self, finished: bool = True, keep: bool = True) -> Path | None:
        """Finish the file and return where it is, or ``None`` if nothing was kept.

        ``finished=True`` copies the rest of the audio (of a ``cut``, up to
        its last frame). ``finished=False`` (an abort) still flushes the
        encoder and writes the index, copying audio only up to the last
        frame, and publishes the playable result if ``keep``. Nothing is published when no frame was written. Repeated
        calls do nothing and return ``None``.
        """
        if self._closed:
            return None
        self._closed = True
        keep_file = (finished or keep) and self.frames_written > 0
        try:
            if keep_file:
                self._container.mux(self._video.encode(None))
                if self._audio is not None:
                    end = None if finished and not self._cut else float((self._last_pts + self._step) * self.time_base)
                    self._audio.copy_until(self._container, end)
            self._container.close()
        except BaseException:
            _remove(self.partial_path)
            raise
        finally:
            if self._audio is not None:
                self._audio.close()
        if not keep_file:
            if self.frames_written == 0:
                self.warnings.append("no frames were written; no file was created")
            _remove(self.partial_path)
            return None
        return publish(self.partial_path, self.path, overwrite=self.overwrite)


class _AudioCopy:
    """Reads audio packets from the source lazily and remuxes them in time order."""

    def __init__(self, source: av.container.InputContainer, stream: av.AudioStream, warnings: list[str]) -> None:
        self._source = source
        self._stream = stream
        self._warnings = warnings
        self._packets = self._read_packets()
        self._pending: av.Packet | None = None
        self._output_stream: av.AudioStream | None = None
        self._offset = 0.0  # seconds of source audio left out at the start (a cut's start)
        self.codec = stream.codec_context.name

    @classmethod
    def open(cls, path: Path, warnings: list[str]) -> _AudioCopy | None:
        try:
            source = av.open(str(path))
        except (av.FFmpegError, OSError) as error:
            raise InputError(path, f"cannot read the audio to copy ({error})") from error
        if not source.streams.audio:
            source.close()
            return None
        return cls(source, source.streams.audio[0], warnings)

    def attach(self, container: av.container.OutputContainer) -> None:
        self._output_stream = container.add_stream_from_template(self._stream)

    def _read_packets(self) -> Iterator[av.Packet]:
        try:
            for packet in self._source.demux(self._stream):
                if packet.size and (packet.pts is not None or packet.dts is not None):
                    yield packet
        except av.FFmpegError as error:
            self._warnings.append(f"the source audio breaks off ({error}); copied what could be read")

    def skip_before(self, seconds: float) -> None:
        """Leave out the audio before ``seconds`` in the source and move the rest that much earlier."""
        self._offset = seconds

    def copy_until(self, container: av.container.OutputContainer, seconds: float | None) -> None:
        """Mux source packets starting before ``seconds`` of the output (all of them for ``None``)."""
        if self._output_stream is None:
            return
        while True:
            if self._pending is None:
                self._pending = next(self._packets, None)
                if self._pending is None:
                    return
            packet = self._pending
            stamp = packet.pts if packet.pts is not None else packet.dts
            start = float(stamp * packet.time_base) - self._offset
            if seconds is not None and start >= seconds:
                return
            self._pending = None
            if self._offset and start < 0:  # before the cut
                continue
            if self._offset:
                shift = round(self._offset / packet.time_base)
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
            packet.stream = self._output_stream
            container.mux(packet)

    def close(self) -> None:
        self._source.close()


def _check_output_path(path: Path, overwrite: bool) -> None:
    if path.suffix.lower() != _SUFFIX:
        raise InputError(path, f"output must be an {_SUFFIX} file")
    check_writable(path, overwrite=overwrite)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
