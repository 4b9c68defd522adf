"""Small synthetic videos (and image folders) for the video tests, written with PyAV (and OpenCV).

Each frame is filled with a grey level that grows with its index (so a test
can tell frames apart after lossy coding) and carries a white marker in the
top-left corner of the *stored* picture (so a test can tell which way a
rotated video was turned). Everything stays tiny so the suite runs fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

MARKER_FRACTION = 3  # the marker covers 1/3 of the width and of the height


def frame_grey(index: int) -> int:
    """The background grey of frame ``index`` (steps of 10, wide enough for lossy coding)."""
    return 30 + 10 * (index % 20)


def synthetic_image(index: int, width: int, height: int, *, noise: bool = False) -> np.ndarray:
    """A BGR frame: grey by index, white marker top-left, optional noise.

    Noise makes packets large, so cutting a file in half lands mid-stream.
    """
    if noise:
        image = np.random.default_rng(index).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        image = np.full((height, width, 3), frame_grey(index), np.uint8)
    image[: max(1, height // MARKER_FRACTION), : max(1, width // MARKER_FRACTION)] = 255
    return image


def write_video(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 20,
    fps: int = 10,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    display_rotation: int | None = None,
    audio_codec: str | None = None,
    audio_seconds: float | None = None,
    faststart: bool = False,
    fragmented: bool = False,
    keyframe_every: int | None = None,
    noise: bool = False,
) -> Path:
    """Write an H.264 video (plus optional audio) and return its path.

    ``pts`` (in ``time_base`` units) gives irregular frame times for a
    variable-frame-rate file. ``display_rotation`` is PyAV's counter-clockwise
    display-matrix angle: ``-90`` is what a phone held upright records (the
    legacy ``rotate=90`` tag). Odd sizes are coded as 4:4:4 because x264
    rejects odd sizes in 4:2:0. ``fragmented`` writes a fragmented MP4 (an
    empty index up front, then one fragment per keyframe, as live recorders
    and streaming servers do).
    """
    if pts is not None:
        frames = len(pts)
    time_base = time_base or Fraction(1, fps)
    options = {"movflags": "+faststart"} if faststart else {}
    if fragmented:
        options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream("libx264", rate=fps, options={"g": str(keyframe_every)} if keyframe_every else {})
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        video.codec_context.time_base = time_base
        if display_rotation is not None:
            video.set_display_rotation(display_rotation)
        audio = None
        if audio_codec is not None:
            audio = container.add_stream(audio_codec, rate=48_000 if "opus" in audio_codec else 16_000, layout="mono")
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_image(index, width, height, noise=noise), format="bgr24")
            frame.pts = pts[index] if pts is not None else index * round(1 / (fps * time_base))
            frame.time_base = time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            seconds = audio_seconds if audio_seconds is not None else frames / fps
            _write_tone(container, audio, seconds)
    return path


def _write_tone(container: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    total = int(rate * seconds)
    chunk = 960
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        samples = 0.2 * np.sin(2 * np.pi * 440 * np.arange(start, start + count) / rate)
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None], format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def plain_video(directory: Path, name: str = "plain.mp4") -> Path:
    """64x48, 20 frames at 10 fps."""
    return write_video(directory / name)


def odd_size_video(directory: Path, name: str = "odd.mp4") -> Path:
    """321x239, the size that breaks code assuming even dimensions."""
    return write_video(directory / name, width=321, height=239, frames=6)


def video_with_audio(directory: Path, codec: str = "aac", name: str | None = None) -> Path:
    """64x48 video of 2 s with a mono tone (``aac`` or ``libopus``)."""
    return write_video(directory / (name or f"with_{codec}.mp4"), audio_codec=codec)


def rotated_video(directory: Path, clockwise: int = 90, name: str = "rotated.mp4") -> Path:
    """Stored 64x48; players turn it ``clockwise`` degrees (48x64 upright)."""
    return write_video(directory / name, frames=5, display_rotation=-clockwise)


VFR_TIME_BASE = Fraction(1, 1000)
VFR_PTS = (0, 40, 100, 110, 300, 333, 500, 520, 900, 1000, 1010, 1500)


def vfr_video(directory: Path, name: str = "vfr.mp4", *, audio_codec: str | None = None) -> Path:
    """Irregular frame times (``VFR_PTS`` milliseconds)."""
    return write_video(directory / name, pts=VFR_PTS, time_base=VFR_TIME_BASE, audio_codec=audio_codec,
                       audio_seconds=1.6)


def audio_only(directory: Path, name: str = "audio_only.mp4") -> Path:
    """An MP4 holding one AAC track and no video."""
    path = directory / name
    with av.open(str(path), "w") as container:
        _write_tone(container, container.add_stream("aac", rate=16_000, layout="mono"), 0.5)
    return path


def truncated_video(directory: Path, name: str = "truncated.mp4", keep: float = 0.5) -> Path:
    """40 noisy frames with the index up front, cut to ``keep`` of its bytes.

    The index (moov) must come first, as after a cut download of a web video;
    with the index at the end a cut file does not open at all.
    """
    full = write_video(directory / f"full_{name}", frames=40, noise=True, faststart=True)
    data = full.read_bytes()
    path = directory / name
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def truncated_fragmented_video(directory: Path, name: str = "truncated_fragmented.mp4") -> Path:
    """30 noisy frames in fragments of 5, cut in the middle of a fragment.

    A fragmented file declares no frame count, and the demuxer ends at the
    cut without an error: only the last, partial packet's "corrupt" flag
    tells that the file breaks off.
    """
    full = write_video(directory / f"full_{name}", frames=30, noise=True, fragmented=True, keyframe_every=5)
    data = full.read_bytes()
    path = directory / name
    path.write_bytes(data[: len(data) // 2])
    return path


def header_only_video(directory: Path, name: str = "header_only.mp4") -> Path:
    """A valid index whose media data is cut after a few bytes: nothing decodes."""
    full = write_video(directory / f"full_{name}", frames=10, noise=True, faststart=True)
    data = full.read_bytes()
    media_start = data.index(b"mdat") + 4
    path = directory / name
    path.write_bytes(data[: media_start + 16])
    return path


def empty_file(directory: Path, name: str = "empty.mp4") -> Path:
    path = directory / name
    path.write_bytes(b"")
    return path


def text_file_named_mp4(directory: Path, name: str = "notes.mp4") -> Path:
    path = directory / name
    path.write_text("this is not a video\n" * 20)
    return path


def count_packets(path: Path, kind: str) -> int:
    """Real packets of the first stream of ``kind`` (``"audio"``/``"video"``)."""
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def frame_times(path: Path) -> list[Fraction]:
    """Exact presentation times of every video frame, read back with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [frame.pts * stream.time_base for frame in container.decode(stream)]


def write_images(folder: Path, names: list[str], size: tuple[int, int] = (48, 64)) -> list[Path]:
    """Images of ``names`` in ``folder``, each a flat grey of its own, ``size`` (height, width) pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((*size, 3), 40 + 30 * i, np.uint8))
    return [folder / name for name in names]
