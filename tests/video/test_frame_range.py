"""--start / --end / --stride: parsing positions and choosing frames."""

from __future__ import annotations

import pytest

from ftppose_cli.video.frame_range import FramePosition, FrameRange, parse_position


@pytest.mark.parametrize("text,frame,seconds", [
    ("150", 150, None), ("0", 0, None), ("12.5s", None, 12.5), ("3s", None, 3.0), (".5s", None, 0.5),
    ("1:02.5", None, 62.5), ("0:07", None, 7.0), ("1:02:03", None, 3723.0),
])
def test_positions_are_frames_or_times(text: str, frame: int | None, seconds: float | None) -> None:
    position = parse_position(text)
    assert (position.frame, position.seconds) == (frame, seconds) and str(position) == text


@pytest.mark.parametrize("text,message", [
    ("12.5", "add s for seconds"), ("-3", "not a frame number"), ("1:75", "0 to 59"), ("abc", "1:02.5"),
    ("1:60:00", "0 to 59"), ("", "not a frame number"),
])
def test_bad_positions_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_position(text)


def _chosen(frame_range: FrameRange, frames: int = 20, fps: float = 10.0) -> list[int]:
    select = frame_range.selector()
    kept = []
    for index in range(frames):
        if select(index, index / fps):
            kept.append(index)
        elif select.done:
            break
    return kept


def test_start_is_included_end_is_not_and_stride_counts_from_the_start() -> None:
    assert _chosen(FrameRange()) == list(range(20))
    assert _chosen(FrameRange(parse_position("5"), parse_position("9"))) == [5, 6, 7, 8]
    assert _chosen(FrameRange(parse_position("0.5s"), parse_position("1.2s"), stride=3)) == [5, 8, 11]
    assert _chosen(FrameRange(end=parse_position("0:01"), stride=4)) == [0, 4, 8]
    assert _chosen(FrameRange(start=parse_position("30"))) == []


def test_selector_stops_at_the_end() -> None:
    select = FrameRange(end=parse_position("3")).selector()
    assert [select(i, i / 10) for i in range(4)] == [True, True, True, False] and select.done


def test_expected_count_for_progress() -> None:
    assert FrameRange().expected_count(20, 10) == 20 and FrameRange().expected_count(None, 10) is None
    assert FrameRange(parse_position("5"), parse_position("9")).expected_count(20, 10) == 4
    assert FrameRange(parse_position("1s"), stride=3).expected_count(20, 10) == 4  # 10, 13, 16, 19
    assert FrameRange(end=parse_position("100")).expected_count(20, 10) == 20
    assert FrameRange(start=parse_position("2s")).expected_count(None, 10) is None


def test_end_before_start_and_bad_stride_are_refused() -> None:
    with pytest.raises(ValueError, match="must come after"):
        FrameRange(parse_position("10"), parse_position("10"))
    with pytest.raises(ValueError, match="stride"):
        FrameRange(stride=0)
    with pytest.raises(ValueError):
        FramePosition()
    assert str(FrameRange(parse_position("1:00"), stride=2)) == "--start 1:00 --stride 2"
