"""PoseTrack 2017 / 2018 reading and writing: one data model, atomic writes, errors that name the frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS, POSETRACK_CATEGORY
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import read_sequence
from ftppose_cli.formats.posetrack_writer import sequence_document, write_sequence

HELDOUT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "heldout" / "mmpose_posetrack18"


@pytest.fixture
def heldout_files() -> list[Path]:
    files = sorted((HELDOUT / "annotations" / "val").glob("*.json"))
    if not files:
        pytest.skip("../shared/data/heldout/mmpose_posetrack18 is not present")
    return files


def test_reads_the_official_2018_files(heldout_files: list[Path]) -> None:
    for path in heldout_files:
        raw = json.loads(path.read_text())
        sequence = read_sequence(path)
        assert sequence.name == path.stem and sequence.layout == "2018"
        assert [f.file_name for f in sequence.frames] == [i["file_name"] for i in raw["images"]]
        people = sequence.frames[0].people
        assert people.keypoints.shape == (len(raw["annotations"]), NUM_JOINTS, 2)
        for p, annotation in enumerate(raw["annotations"]):
            # The file's own count of annotated joints agrees with our "not [0, 0, 0]" rule.
            assert people.annotated[p].sum() == annotation["num_keypoints"]
            assert people.track_ids[p] == annotation["track_id"]
            x, y, w, h = annotation["bbox_head"]
            assert people.head_boxes[p].tolist() == [x, y, x + w, y + h]
            assert np.isnan(people.scores[p]).all()  # the ground truth has "scores": []
        assert len(sequence.frames[0].ignore_regions) == len(raw["images"][0]["ignore_regions_x"])


def _sequence() -> PoseTrackSequence:
    """Three frames: two people (one with a missing joint and partly missing scores), nobody, one person."""
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(10, 500, size=(2, NUM_JOINTS, 2)).round(2)
    annotated = np.ones((2, NUM_JOINTS), bool)
    annotated[0, JOINT_INDEX["left_ear"]] = False
    scores = rng.uniform(0, 1, size=(2, NUM_JOINTS)).round(3)
    scores[1, 0] = np.nan
    people = PoseTrackPeople.from_arrays(keypoints, scores, track_ids=[4, 9], annotated=annotated,
                                         boxes=np.array([[1, 2, 30, 40], [5, 5, 50, 60]], float),
                                         head_boxes=np.array([[1, 2, 11, 12], [5, 5, 15, 25]], float))
    region = (np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]),)
    frames = [
        PoseTrackFrame("images/val/000001_mpii_test/000000.jpg", people, True, region, width=640, height=480),
        PoseTrackFrame("images/val/000001_mpii_test/000001.jpg", PoseTrackPeople.empty(), False),
        PoseTrackFrame("images/val/000001_mpii_test/000002.jpg", people.select(np.array([1])), True),
    ]
    return PoseTrackSequence("000001_mpii_test", frames)


def _assert_same_people(a: PoseTrackPeople, b: PoseTrackPeople, scores_as_written: bool = False) -> None:
    assert a.track_ids.tolist() == b.track_ids.tolist()
    assert np.array_equal(a.annotated, b.annotated)
    assert np.array_equal(np.where(a.annotated[..., None], a.keypoints, 0), np.where(b.annotated[..., None],
                                                                                     b.keypoints, 0))
    assert np.allclose(a.head_boxes, b.head_boxes, equal_nan=True)


def test_2018_round_trip_lists_every_frame_with_categories_and_scores(tmp_path: Path) -> None:
    sequence = _sequence()
    path = write_sequence(sequence, tmp_path / "seq.json", "2018")
    document = json.loads(path.read_text())
    assert document["categories"] == [POSETRACK_CATEGORY]
    assert len(document["images"]) == 3  # the empty frame is listed too
    assert [len(a["scores"]) for a in document["annotations"]] == [NUM_JOINTS] * 3
    # A partly missing score row is written with poseval's fallback value, so it scores the same.
    assert document["annotations"][1]["scores"][0] == -9999.0
    # An unannotated joint is exactly [0, 0, 0].
    ear = JOINT_INDEX["left_ear"]
    assert document["annotations"][0]["keypoints"][3 * ear:3 * ear + 3] == [0.0, 0.0, 0.0]
    back = read_sequence(path)
    assert [f.is_labeled for f in back.frames] == [True, False, True]
    for original, read in zip(sequence.frames, back.frames):
        _assert_same_people(original.people, read.people)
    assert np.array_equal(back.frames[0].ignore_regions[0], sequence.frames[0].ignore_regions[0])
    assert np.array_equal(back.frames[0].people.scores[0], sequence.frames[0].people.scores[0])


def test_2017_round_trip_maps_the_15_joint_ids(tmp_path: Path) -> None:
    sequence = _sequence()
    path = write_sequence(sequence, tmp_path / "seq.json", "2017")
    document = json.loads(path.read_text())
    first = document["annolist"][0]["annorect"][0]
    ids = [point["id"][0] for point in first["annopoints"][0]["point"]]
    assert ids == list(range(15))  # 2017 joint ids; the ears have none
    r_ankle = first["annopoints"][0]["point"][0]
    expected = sequence.frames[0].people.keypoints[0, JOINT_INDEX["right_ankle"]].tolist()
    assert [r_ankle["x"][0], r_ankle["y"][0]] == expected
    assert first["x1"] == [1.0] and first["y2"] == [12.0]
    back = read_sequence(path)
    assert back.layout == "2017" and len(back.frames) == 3
    original = sequence.frames[0].people
    read = back.frames[0].people
    scored = original.annotated.copy()
    scored[:, [JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"]]] = False  # 2017 has no ears
    assert np.array_equal(read.annotated, scored)
    assert np.array_equal(read.keypoints[scored], original.keypoints[scored])
    assert np.isnan(read.scores[1, 0])  # a missing score stays missing in this layout


def test_annotated_means_not_exactly_zero_zero_zero(tmp_path: Path) -> None:
    """poseval's converter drops a joint only when it is [0, 0, 0]: [0, 0, 1] and [5, 0, 0] count."""
    keypoints = [0.0] * (3 * NUM_JOINTS)
    keypoints[0:3] = [0, 0, 1]  # nose: annotated at the origin
    keypoints[3:6] = [5, 0, 0]  # head_bottom: annotated though invisible
    document = {"images": [{"id": 1, "file_name": "a/000000.jpg"}],
                "annotations": [{"image_id": 1, "track_id": 0, "keypoints": keypoints}],
                "categories": [POSETRACK_CATEGORY]}
    (tmp_path / "s.json").write_text(json.dumps(document))
    annotated = read_sequence(tmp_path / "s.json").frames[0].people.annotated[0]
    assert annotated[:3].tolist() == [True, True, False] and annotated.sum() == 2


def test_joints_are_mapped_by_category_names(tmp_path: Path) -> None:
    """A file may order its keypoints differently; poseval maps them by name, and so do we."""
    names = list(reversed(POSETRACK_CATEGORY["keypoints"]))
    keypoints = []
    for i, _ in enumerate(names):
        keypoints += [float(i + 1), float(i + 1), 1.0]
    document = {"images": [{"id": 1, "file_name": "a/000000.jpg"}],
                "annotations": [{"image_id": 1, "track_id": 0, "keypoints": keypoints}],
                "categories": [{**POSETRACK_CATEGORY, "keypoints": names}]}
    (tmp_path / "s.json").write_text(json.dumps(document))
    people = read_sequence(tmp_path / "s.json").frames[0].people
    assert people.keypoints[0, JOINT_INDEX["right_ankle"]].tolist() == [1.0, 1.0]  # listed first in the file
    assert people.keypoints[0, JOINT_INDEX["nose"]].tolist() == [17.0, 17.0]


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "seq.json"
    target.write_text("old")
    write_sequence(_sequence(), target)
    assert json.loads(target.read_text())["images"]
    bad = _sequence()
    bad.frames[0].people.keypoints[0, 0, 0] = np.nan  # cannot be written as strict JSON
    with pytest.raises(ValueError):
        write_sequence(bad, target)
    assert json.loads(target.read_text())["images"]  # the previous file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["seq.json"]


@pytest.mark.parametrize("layout", ["2018", "2017"])
def test_frame_timestamps_round_trip(tmp_path: Path, layout: str) -> None:
    sequence = _sequence()
    for frame, seconds in zip(sequence.frames, (0.0, 0.04, 0.1)):
        frame.timestamp = seconds
    sequence.frames[2].timestamp = None  # optional per frame
    back = read_sequence(write_sequence(sequence, tmp_path / "seq.json", layout))
    assert [f.timestamp for f in back.frames] == [0.0, 0.04, None]


def test_people_views_and_empty_frames() -> None:
    people = _sequence().frames[0].people
    person = people[1]
    assert person.track_id == 9 and person.keypoints.shape == (NUM_JOINTS, 2)
    assert PoseTrackPeople.from_persons(list(people)).track_ids.tolist() == [4, 9]
    assert sequence_document(_sequence(), "2017")["annolist"][1]["annorect"] == []


# ------------------------------------------------------------------------------------------- bad input


def _write(tmp_path: Path, document: dict | str) -> Path:
    path = tmp_path / "000002_mpii_test.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _valid() -> dict:
    return sequence_document(_sequence(), "2018")


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_sequence(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    return message


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    assert "not valid JSON (line 2" in _error(_write(tmp_path, '{"images": [\n  {"id": 1,,}]}'))


def test_nan_keypoint_names_sequence_frame_joint_and_track(tmp_path: Path) -> None:
    document = _valid()
    document["annotations"][0]["keypoints"][3] = float("nan")  # written as NaN, which Python's parser accepts
    message = _error(_write(tmp_path, json.dumps(document)))
    assert "sequence 000002_mpii_test, frame 0 (images/val/000001_mpii_test/000000.jpg)" in message
    assert "head_bottom of track 4 is NaN" in message


def test_nan_score_is_an_error_not_a_missing_score(tmp_path: Path) -> None:
    document = _valid()
    document["annotations"][2]["scores"][5] = float("nan")
    assert "frame 2" in _error(_write(tmp_path, json.dumps(document)))


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.pop("categories"), "`categories` is missing"),
    (lambda d: d["annotations"][0].pop("track_id"), "annotation 0 lacks `track_id`"),
    (lambda d: d["annotations"][0].pop("keypoints"), "annotation 0 lacks `keypoints`"),
    (lambda d: d["annotations"][1].update(keypoints=[1.0] * 50), "keypoints of track 9 must have 51 numbers"),
    (lambda d: d["annotations"][1].update(scores=[0.5] * 3), "scores of track 9 must have 17 values"),
    (lambda d: d["annotations"][1].update(image_id=77), "refers to image id 77"),
    (lambda d: d["annotations"][1].update(track_id="x"), "track_id must be an integer"),
    (lambda d: d["images"][0].update(ignore_regions_y=[]), "ignore_regions_x and ignore_regions_y"),
    (lambda d: d["categories"][0].update(keypoints=["nose"]), "does not name the joints"),
])
def test_missing_or_wrong_keys(tmp_path: Path, change, expected: str) -> None:
    document = _valid()
    change(document)
    assert expected in _error(_write(tmp_path, document))


def test_neither_layout(tmp_path: Path) -> None:
    assert "neither a PoseTrack 2018 file" in _error(_write(tmp_path, {"frames": []}))


def test_2017_errors_name_the_frame(tmp_path: Path) -> None:
    document = sequence_document(_sequence(), "2017")
    del document["annolist"][2]["annorect"]
    assert "frame 2 (images/val/000001_mpii_test/000002.jpg): lacks the `annorect` list" in _error(
        _write(tmp_path, document))
    document = sequence_document(_sequence(), "2017")
    document["annolist"][0]["annorect"][0]["annopoints"][0]["point"][0]["x"] = [float("nan")]
    assert "right_ankle of track 4" in _error(_write(tmp_path, json.dumps(document)))
