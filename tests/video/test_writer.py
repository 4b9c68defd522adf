"""VideoWriter: exact timing, audio copy, odd sizes, atomic finish, aborts."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.video.frame_range import FrameRange, parse_position
from ftppose_cli.video.reader import VideoReader, probe
from ftppose_cli.video.writer import VideoWriter
from tests import video_factory as factory


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("writer_sources")


def _copy(source: Path, output: Path, *, limit: int | None = None, **options: object) -> VideoWriter:
    """Read ``source`` and write its frames to ``output`` the way the pipeline does."""
    info = probe(source)
    with VideoReader(source) as reader, VideoWriter.like(output, info, **options) as writer:
        for frame in reader:
            if limit is not None and frame.index == limit:
                break
            writer.write(frame.image, frame.pts)
    return writer


def _audio_packets(path: Path) -> tuple[str, list[Fraction]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        times = [packet.pts * packet.time_base for packet in container.demux(stream) if packet.size]
        return stream.codec_context.name, times


def _leftovers(directory: Path) -> list[str]:
    return [path.name for path in directory.iterdir() if ".partial" in path.name]


def test_variable_frame_rate_survives_a_round_trip(sources: Path, tmp_path: Path) -> None:
    source = factory.vfr_video(sources)
    output = tmp_path / "out.mp4"
    writer = _copy(source, output)
    assert writer.frames_written == len(factory.VFR_PTS) and writer.warnings == []
    assert factory.frame_times(output) == factory.frame_times(source)
    info = probe(output)
    assert (info.width, info.height, info.codec, info.has_audio) == (64, 48, "h264", False)
    with av.open(str(output)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"


@pytest.mark.parametrize("codec", ["aac", "libopus"])
def test_audio_is_copied_packet_for_packet(sources: Path, tmp_path: Path, codec: str) -> None:
    source = factory.video_with_audio(sources, codec)
    output = tmp_path / "out.mp4"
    _copy(source, output)
    assert _audio_packets(output) == _audio_packets(source)
    assert factory.count_packets(output, "video") == 20
    # Interleaved as written, not appended at the end.
    with av.open(str(output)) as container:
        kinds = [packet.stream.type for packet in container.demux() if packet.size]
    assert kinds.index("audio") < kinds.index("video") + 10


def test_odd_size_is_kept_exactly(sources: Path, tmp_path: Path) -> None:
    source = factory.odd_size_video(sources)
    output = tmp_path / "out.mp4"
    writer = _copy(source, output)
    assert writer.pixel_format == "yuv444p"
    assert (probe(output).width, probe(output).height) == (321, 239)
    with VideoReader(source) as original, VideoReader(output) as copy:
        for before, after in zip(original, copy):
            assert np.abs(before.image.astype(int) - after.image.astype(int)).mean() < 3


def test_rotated_source_is_written_upright_without_metadata(sources: Path, tmp_path: Path) -> None:
    source = factory.rotated_video(sources, 90)
    output = tmp_path / "out.mp4"
    _copy(source, output)
    info = probe(output)
    assert (info.width, info.height, info.rotation) == (48, 64, 0)
    with VideoReader(output) as reader:
        image = next(iter(reader)).image
    ys, xs = np.nonzero(image.min(axis=2) > 230)
    assert ys.mean() < 32 and xs.mean() > 24  # the marker is top-right, as a player shows the source


def test_constant_rate_when_no_pts_is_given(tmp_path: Path) -> None:
    output = tmp_path / "cfr.mp4"
    with VideoWriter(output, width=32, height=16, fps=25) as writer:
        for index in range(5):
            writer.write(factory.synthetic_image(index, 32, 16))
    assert factory.frame_times(output) == [Fraction(index, 25) for index in range(5)]


def test_nothing_appears_at_the_output_path_until_close(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    writer = VideoWriter(output, width=32, height=16, fps=10)
    for index in range(3):
        writer.write(factory.synthetic_image(index, 32, 16))
    assert not output.exists()
    assert writer.partial_path.parent == tmp_path and writer.partial_path.exists()
    assert writer.close() == output
    assert output.exists() and _leftovers(tmp_path) == []
    assert factory.count_packets(output, "video") == 3


def test_existing_output_is_never_overwritten_by_default(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    output.write_bytes(b"precious")
    with pytest.raises(InputError, match="output exists"):
        VideoWriter(output, width=32, height=16, fps=10)
    assert output.read_bytes() == b"precious" and _leftovers(tmp_path) == []


def test_overwrite_replaces_atomically_on_close(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    output.write_bytes(b"old")
    writer = VideoWriter(output, width=32, height=16, fps=10, overwrite=True)
    writer.write(factory.synthetic_image(0, 32, 16))
    assert output.read_bytes() == b"old"  # untouched until the new file is complete
    writer.close()
    assert probe(output).frame_count == 1 and _leftovers(tmp_path) == []


def test_an_output_that_appears_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    writer = VideoWriter(output, width=32, height=16, fps=10)
    writer.write(factory.synthetic_image(0, 32, 16))
    output.write_bytes(b"someone else's")
    with pytest.raises(InputError, match="not overwritten"):
        writer.close()
    assert output.read_bytes() == b"someone else's"
    assert writer.partial_path.exists()  # the work is not lost


def test_abort_still_leaves_a_playable_file(sources: Path, tmp_path: Path) -> None:
    source = factory.video_with_audio(sources, "aac", name="abort_source.mp4")
    output = tmp_path / "out.mp4"
    info = probe(source)
    with VideoReader(source) as reader:
        writer = VideoWriter.like(output, info)
        for frame in reader:
            if frame.index == 5:
                break
            writer.write(frame.image, frame.pts)
    assert writer.close(finished=False) == output
    assert factory.frame_times(output) == factory.frame_times(source)[:5]
    _, copied = _audio_packets(output)
    _, original = _audio_packets(source)
    assert 0 < len(copied) < len(original) and max(copied) < Fraction(6, 10)


def test_exception_keeps_partial_output_by_default(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(output, width=33, height=17, fps=10) as writer:
            for index in range(4):
                writer.write(factory.synthetic_image(index, 33, 17))
            raise KeyboardInterrupt
    assert factory.count_packets(output, "video") == 4
    assert (probe(output).width, probe(output).height) == (33, 17)


def test_exception_can_discard_partial_output(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(output, width=32, height=16, fps=10, keep_partial=False) as writer:
            writer.write(factory.synthetic_image(0, 32, 16))
            raise RuntimeError("model crashed")
    assert not output.exists() and _leftovers(tmp_path) == []


def test_no_frames_means_no_file(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    writer = VideoWriter(output, width=32, height=16, fps=10)
    assert writer.close() is None
    assert not output.exists() and _leftovers(tmp_path) == []


def test_bad_writes_are_refused(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "out.mp4", width=32, height=16, fps=10) as writer:
        with pytest.raises(ValueError, match="expected a 16x32x3 uint8"):
            writer.write(np.zeros((16, 31, 3), np.uint8))
        writer.write(np.zeros((16, 32, 3), np.uint8), pts=5)
        with pytest.raises(ValueError, match="pts must increase"):
            writer.write(np.zeros((16, 32, 3), np.uint8), pts=5)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("out.avi", "must be an .mp4 file"), ("a_file/out.mp4", "its folder .*a_file is a file, not a folder"),
     ("folder.mp4", "is a folder")],
)
def test_bad_output_paths_raise_input_error(tmp_path: Path, name: str, problem: str) -> None:
    (tmp_path / "a_file").write_text("")
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(InputError, match=problem):
        VideoWriter(tmp_path / name, width=32, height=16, fps=10)
    assert _leftovers(tmp_path) == []


def test_a_missing_output_folder_is_made(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "new" / "out.mp4", width=32, height=16, fps=10) as writer:
        writer.write(factory.synthetic_image(0, 32, 16))
    assert (tmp_path / "new" / "out.mp4").exists() and _leftovers(tmp_path / "new") == []


def test_a_cut_starts_at_zero_with_its_own_audio(sources: Path, tmp_path: Path) -> None:
    source = factory.video_with_audio(sources, "aac")  # 2 s: 20 frames at 10 fps and a tone
    output = tmp_path / "cut.mp4"
    info = probe(source)
    selection = FrameRange(parse_position("0.5s"), parse_position("1.5s"), stride=2)
    with VideoReader(source, selection=selection) as reader, VideoWriter.like(output, info, cut=True) as writer:
        for frame in reader:
            writer.write(frame.image, frame.pts)
    assert factory.frame_times(output) == [Fraction(n, 10) for n in (0, 2, 4, 6, 8)]
    _, audio = _audio_packets(output)
    _, source_audio = _audio_packets(source)
    # The audio under the five frames (0.5 s to 1.4 s of the source: the last one lasts a nominal frame), from 0.
    assert 0 <= audio[0] < Fraction(1, 10) and audio[-1] < Fraction(9, 10)
    assert [t - audio[0] for t in audio] == [t - source_audio[9] for t in source_audio[9:9 + len(audio)]]
    assert len(audio) == 14
