"""The annotate pipeline on small generated videos, with injected boxes."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.inputs import expand_inputs
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotator import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.video.frame_range import FrameRange, parse_position
from tests import video_factory as factory


def _annotator(checkpoint: Path, out: Path, **options) -> VideoAnnotator:
    estimator = PoseEstimator(load_model(checkpoint), pruning_ratio=0.5)
    return VideoAnnotator(estimator, None, AnnotateOptions(output_dir=out, batch_size=4, **options))


def _boxes(frames: int, people: list[tuple[int, int]] | None = None, skip: set[int] = frozenset()) -> BoxesFileSource:
    """Two people by default, absent in the frames of ``skip``."""
    people = people or [(2, 2), (30, 4)]
    return BoxesFileSource({
        i: np.array([[x, y, x + 20, y + 40, 0.9] for x, y in people], np.float32)
        for i in range(frames) if i not in skip
    })


def test_json_lists_every_frame_with_tracks_and_categories(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)  # 20 frames, 64x48
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(20, skip={5, 6}))
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert [img["frame_id"] for img in document["images"]] == list(range(20))
    assert document["categories"][0]["keypoints"][2] == "head_top"
    per_frame = {}
    for ann in document["annotations"]:
        per_frame.setdefault(ann["image_id"], []).append(ann)
        assert len(ann["keypoints"]) == 51 and len(ann["scores"]) == 17 and len(ann["bbox"]) == 4
    assert 5 not in per_frame and 6 not in per_frame  # empty frames still listed, with nobody
    assert {a["track_id"] for a in document["annotations"]} == {0, 1}
    assert report.frames == 20 and report.person_frames == 36 and report.tracks == 2
    assert report.backbone_crops == report.person_frames  # each person-frame through the backbone once
    assert document["ftppose"]["interrupted"] is False


def test_overlay_keeps_size_timestamps_and_audio(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.vfr_video(tmp_path, audio_codec="aac")
    _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(100))
    out = tmp_path / "out" / "vfr.mp4"
    assert factory.frame_times(out) == factory.frame_times(video)
    assert factory.count_packets(out, "audio") == factory.count_packets(video, "audio")
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_json_gives_each_frame_its_own_time_for_variable_frame_rate(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.vfr_video(tmp_path)
    expected = [float(t) for t in factory.frame_times(video)]
    assert len(set(np.diff(expected).round(6))) > 1  # irregular: index / fps would be wrong
    annotator = _annotator(tiny_checkpoint, tmp_path / "out", write_video=False, overwrite=True)
    annotator.annotate(video, _boxes(12))
    document = json.loads((tmp_path / "out" / "vfr.json").read_text())
    assert [image["timestamp"] for image in document["images"]] == expected
    annotator.options.json_layout = "2017"
    annotator.annotate(video, _boxes(12))
    document = json.loads((tmp_path / "out" / "vfr.json").read_text())
    assert [entry["timestamp"] for entry in document["annolist"]] == [[t] for t in expected]


def test_odd_size_and_rotated_videos(tiny_checkpoint: Path, tmp_path: Path) -> None:
    for video, size in ((factory.odd_size_video(tmp_path), (321, 239)), (factory.rotated_video(tmp_path), (48, 64))):
        _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(40))
        with av.open(str(tmp_path / "out" / f"{video.stem}.mp4")) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == size


def test_no_people_still_gives_every_frame(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, BoxesFileSource({}))
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert len(document["images"]) == 20 and document["annotations"] == [] and report.tracks == 0


def test_existing_outputs_are_kept_unless_overwrite(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "plain.json").write_text("mine")
    with pytest.raises(InputError, match="output exists"):
        _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(20))
    assert (tmp_path / "out" / "plain.json").read_text() == "mine"
    _annotator(tiny_checkpoint, tmp_path / "out", overwrite=True).annotate(video, _boxes(20))
    assert json.loads((tmp_path / "out" / "plain.json").read_text())["images"]


def test_posetrack17_layout_and_json_only(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    _annotator(tiny_checkpoint, tmp_path / "out", json_layout="2017", write_video=False).annotate(video, _boxes(20))
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert len(document["annolist"]) == 20
    points = document["annolist"][0]["annorect"][0]["annopoints"][0]["point"]
    assert sorted(p["id"][0] for p in points) == list(range(15))
    assert not (tmp_path / "out" / "plain.mp4").exists()


class _InterruptAfter:
    """A person source that acts like Ctrl-C once ``frames`` frames have been asked for."""

    def __init__(self, frames: int) -> None:
        self.inner = _boxes(1000)
        self.left = frames

    def detect(self, images):
        if self.left <= 0:
            raise KeyboardInterrupt
        self.left -= len(images)
        return self.inner.detect(images)


def test_interruption_leaves_valid_flagged_json_and_a_playable_video(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _InterruptAfter(8))
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert report.interrupted and document["ftppose"]["interrupted"] is True
    frames = len(document["images"])
    assert 0 < frames < 20 and frames == report.frames
    with av.open(str(tmp_path / "out" / "plain.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == frames


@pytest.mark.parametrize("make,problem", [
    (factory.empty_file, "empty"),
    (factory.text_file_named_mp4, "not a readable video file"),
    (factory.audio_only, "no video stream"),
    (factory.header_only_video, "no decodable video frames"),
])
def test_bad_videos_raise_one_clear_error_and_write_nothing(tiny_checkpoint: Path, tmp_path: Path, make, problem: str
                                                            ) -> None:
    video = make(tmp_path)
    with pytest.raises(InputError, match=problem) as info:
        _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(10))
    assert str(video) in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_truncated_video_keeps_what_decoded(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.truncated_video(tmp_path)
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(40))
    assert report.truncated and 0 < report.frames < 40
    document = json.loads((tmp_path / "out" / "truncated.json").read_text())
    assert len(document["images"]) == report.frames


def test_boxes_outside_the_frame_or_past_its_end_are_reported_not_used(tiny_checkpoint: Path, tmp_path: Path
                                                                       ) -> None:
    video = factory.plain_video(tmp_path)  # 20 frames, 64x48
    inside, left_above, right = [2, 2, 22, 42, 0.9], [-80, -90, -40, -10, 0.9], [70, 2, 90, 40, 0.9]
    boxes = {i: np.array([inside, left_above, right] if i < 20 else [inside], np.float32) for i in range(25)}
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, BoxesFileSource(boxes))
    assert report.warnings == ["dropped 40 boxes lying wholly outside the frame (the first in frame 0)",
                               "5 boxes for frames 20 to 24 were not used: the video has 20 frames"]
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert len(document["annotations"]) == 20 and len(report.warnings) == 2
    xy = np.array([a["keypoints"] for a in document["annotations"]]).reshape(-1, 17, 3)[..., :2]
    assert (xy >= -10).all()  # within the crop of the box inside; the dropped ones gave joints near (-60, -50)


def test_report_lists_every_output_and_the_json_lists_itself(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(video, _boxes(20))
    assert report.outputs == [tmp_path / "out" / "plain.mp4", tmp_path / "out" / "plain.json"]
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert document["ftppose"]["report"]["outputs"] == [str(p) for p in report.outputs]


def test_part_of_a_video_keeps_source_frame_ids_and_plays_from_zero(tiny_checkpoint: Path, tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)  # 20 frames at 10 fps
    selection = FrameRange(parse_position("0.4s"), parse_position("15"), stride=3)
    progress = []
    people = _boxes(20, skip={0, 1, 2, 3})  # counted by position, the four frames annotated would have no boxes
    report = _annotator(tiny_checkpoint, tmp_path / "out", selection=selection).annotate(
        video, people, progress=lambda done, total, now: progress.append((done, total)))
    document = json.loads((tmp_path / "out" / "plain.json").read_text())
    assert [img["frame_id"] for img in document["images"]] == [4, 7, 10, 13] and report.frames == 4
    assert sorted({a["image_id"] for a in document["annotations"]}) == [4, 7, 10, 13]  # boxes by source frame
    assert document["ftppose"]["selection"] == {"start": "0.4s", "end": "15", "stride": 3}
    assert factory.frame_times(tmp_path / "out" / "plain.mp4") == [0, Fraction(3, 10), Fraction(6, 10),
                                                                   Fraction(9, 10)]
    assert progress[0] == (0, 4) and progress[-1] == (4, 4) and len(progress) == 5  # from the start, per frame


def test_a_still_comes_back_as_an_image_of_its_format(tiny_checkpoint: Path, tmp_path: Path) -> None:
    (photo,) = factory.write_images(tmp_path, ["photo.png"])
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(photo, _boxes(1))
    assert report.outputs == [tmp_path / "out" / "photo.png", tmp_path / "out" / "photo.json"]
    assert (tmp_path / "out" / "photo.png").read_bytes()[:4] == b"\x89PNG"
    document = json.loads((tmp_path / "out" / "photo.json").read_text())
    assert [img["file_name"] for img in document["images"]] == [str(photo)]
    assert len(document["annotations"]) == 2 and report.frames == 1


def test_an_image_folder_is_one_tracked_sequence(tiny_checkpoint: Path, tmp_path: Path) -> None:
    factory.write_images(tmp_path / "walk", ["f10.jpg", "f2.jpg", "f1.jpg"])
    (sequence,), _ = expand_inputs([str(tmp_path / "walk")])
    report = _annotator(tiny_checkpoint, tmp_path / "out").annotate(sequence, _boxes(3))
    assert report.outputs == [tmp_path / "out" / "walk", tmp_path / "out" / "walk.json"]
    assert sorted(p.name for p in (tmp_path / "out" / "walk").iterdir()) == ["f1.jpg", "f10.jpg", "f2.jpg"]
    document = json.loads((tmp_path / "out" / "walk.json").read_text())
    assert [Path(img["file_name"]).name for img in document["images"]] == ["f1.jpg", "f2.jpg", "f10.jpg"]
    assert {a["track_id"] for a in document["annotations"]} == {0, 1} and report.tracks == 2


def test_boxes_of_part_of_a_video_are_dropped_and_reported_by_source_frame(tiny_checkpoint: Path,
                                                                          tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)  # 20 frames, 64x48
    inside, outside = [2, 2, 22, 42, 0.9], [-80, -90, -40, -10, 0.9]
    boxes = {i: np.array([inside, outside] if i >= 5 else [inside], np.float32) for i in range(22)}
    # With --end, decoding stops there: the boxes after it are not "past the end of the video".
    cut = _annotator(tiny_checkpoint, tmp_path / "cut", selection=FrameRange(parse_position("4"),
                                                                             parse_position("12"), stride=3))
    report = cut.annotate(video, BoxesFileSource(boxes))
    assert report.frames == 3 and report.warnings == [
        "dropped 2 boxes lying wholly outside the frame (the first in frame 7)"]  # frames 4, 7, 10 were read
    # Without one the whole video is read: its length is what it has, not the last frame the stride reached.
    strided = _annotator(tiny_checkpoint, tmp_path / "strided", selection=FrameRange(stride=4))
    report = strided.annotate(video, BoxesFileSource(boxes))
    assert report.frames == 5 and report.warnings == [
        "dropped 3 boxes lying wholly outside the frame (the first in frame 8)",
        "4 boxes for frames 20 to 21 were not used: the video has 20 frames"]
