"""Property tests of the PoseTrack reader: any JSON either reads or raises the project's one-line error.

Before, a mutation fuzzer found 14 places where an odd but parseable value
(``track_id: null``, ``image_id: [0]``, a 400-digit integer, ``-Infinity``,
a list as a joint name, deep nesting...) ended `ftppose eval` in a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from ftppose_cli.errors import FtpposeError
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import parse_sequence, read_sequence
from ftppose_cli.formats.posetrack_writer import sequence_document
from tests.json_fuzz import FUZZ_SETTINGS, JSON_VALUES, mutated


def _valid_sequence() -> PoseTrackSequence:
    """Two frames with timestamps: two people with boxes, scores and an ignore region; then nobody."""
    keypoints = 10 + np.arange(2 * NUM_JOINTS * 2, dtype=float).reshape(2, NUM_JOINTS, 2)
    people = PoseTrackPeople.from_arrays(keypoints, np.full((2, NUM_JOINTS), 0.5), track_ids=[1, 2],
                                         boxes=np.array([[1.0, 2.0, 30.0, 40.0], [5.0, 5.0, 50.0, 60.0]]),
                                         head_boxes=np.array([[1.0, 2.0, 11.0, 12.0], [5.0, 5.0, 15.0, 25.0]]))
    region = (np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 5.0]]),)
    return PoseTrackSequence("000001_mpii_test", [
        PoseTrackFrame("images/a/000000.jpg", people, True, region, width=64, height=48, timestamp=0.0),
        PoseTrackFrame("images/a/000001.jpg", PoseTrackPeople.empty(), False, timestamp=0.04),
    ])


VALID_2018 = sequence_document(_valid_sequence(), "2018")
VALID_2017 = sequence_document(_valid_sequence(), "2017")


def _reads_or_fails_cleanly(document: object) -> None:
    try:
        parse_sequence(document, "fuzz.json")
    except FtpposeError as error:
        message = str(error)
        assert message.startswith("fuzz.json: ") and "\n" not in message and len(message) < 400


def test_the_valid_documents_read() -> None:
    assert len(parse_sequence(VALID_2018, "a.json").frames) == len(parse_sequence(VALID_2017, "a.json").frames) == 2


@FUZZ_SETTINGS
@given(mutated(VALID_2018))
def test_2018_documents_with_one_odd_value(document: object) -> None:
    _reads_or_fails_cleanly(document)


@FUZZ_SETTINGS
@given(mutated(VALID_2017))
def test_2017_documents_with_one_odd_value(document: object) -> None:
    _reads_or_fails_cleanly(document)


@FUZZ_SETTINGS
@given(JSON_VALUES)
def test_any_json_value_in_any_place(value: object) -> None:
    for document in (value, {"images": value}, {"annolist": value}, {**VALID_2018, "annotations": value}):
        _reads_or_fails_cleanly(document)


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["annotations"][0].update(track_id=None), "track_id must be an integer, got None"),
    (lambda d: d["annotations"][0].update(image_id=[0]), "annotation 0 refers to image id [0], which is not listed"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(0, 10**400), "keypoints of track 1 must be numbers"),
    (lambda d: d["images"][0].update(frame_id=-float("inf")), "frame_id must be an integer, got -inf"),
    (lambda d: d["categories"][0]["keypoints"].__setitem__(3, ["left_ear"]), "`keypoints` must be joint names"),
    (lambda d: d["images"][0].update(id=[0]), "image id must be a number or a string, got [0]"),
    (lambda d: d["annotations"][0].update(track_id=2**64), "track_id must be an integer, got 18446744073709551616"),
])
def test_the_reported_2018_crashes_are_one_line_errors(change, problem: str) -> None:
    document = json.loads(json.dumps(VALID_2018))
    change(document)
    with pytest.raises(FtpposeError, match=problem.replace("[", "\\[").replace("]", "\\]")):
        parse_sequence(document, "odd.json")


def _first_point(document: dict) -> dict:
    return document["annolist"][0]["annorect"][0]["annopoints"][0]["point"][0]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["annolist"][0].update(is_labeled=[]), "`is_labeled` is missing or not a one-element list"),
    (lambda d: _first_point(d).update(is_visible=[[1, 2]]), "is_visible of .* must be one number, got \\[1, 2\\]"),
    (lambda d: d["annolist"][0].update(ignore_regions=5), "`ignore_regions` must be a list"),
    (lambda d: _first_point(d).update(id=[10**400]), "a point id of track 1 must be an integer"),
])
def test_the_reported_2017_crashes_are_one_line_errors(change, problem: str) -> None:
    document = json.loads(json.dumps(VALID_2017))
    change(document)
    with pytest.raises(FtpposeError, match=problem):
        parse_sequence(document, "odd.json")


@pytest.mark.parametrize("text, problem", [
    ('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}", "not readable JSON \\(nested too deeply\\)"),
    ('{"images": [' + "9" * 5000 + "]}", "not readable JSON \\(Exceeds the limit"),
], ids=["deep-nesting", "5000-digit-integer"])
def test_files_json_itself_cannot_hold(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "odd.json"
    path.write_text(text)
    with pytest.raises(FtpposeError, match=f"odd.json: {problem}"):
        read_sequence(path)
