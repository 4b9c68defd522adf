"""Property tests of the boxes reader: any JSON either reads into finite (n, 5) boxes or raises the project's error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from ftppose_cli.errors import FtpposeError
from ftppose_cli.formats.detections import parse_boxes
from tests.json_fuzz import FUZZ_SETTINGS, JSON_VALUES, mutated

VALID_COCO = [
    {"image_id": 10034180000, "bbox": [10, 20, 30, 40], "score": 0.9, "category_id": 1},
    {"image_id": 10034180002, "bbox": [0.5, 0, 5, 5.5], "score": 0.5, "category_id": 1},
]
VALID_POSETRACK = {"images": [{"id": 7}, {"id": 3}], "annotations": [{"image_id": 3, "bbox": [1, 2, 3, 4]}]}


def _reads_or_fails_cleanly(document: object) -> None:
    try:
        boxes = parse_boxes(document, "boxes.json", sequence="003418")
    except FtpposeError as error:
        message = str(error)
        assert message.startswith("boxes.json: ") and "\n" not in message and len(message) < 400
        return
    for frame, rows in boxes.items():
        assert isinstance(frame, int) and rows.dtype == np.float32 and rows.ndim == 2 and rows.shape[1] == 5
        assert np.isfinite(rows).all()


def test_the_valid_documents_read() -> None:
    assert sorted(parse_boxes(VALID_COCO, "a.json", sequence="003418")) == [0, 2]
    assert sorted(parse_boxes(VALID_POSETRACK, "a.json")) == [1]


@FUZZ_SETTINGS
@given(mutated(VALID_COCO))
def test_coco_results_with_one_odd_value(document: object) -> None:
    _reads_or_fails_cleanly(document)


@FUZZ_SETTINGS
@given(mutated(VALID_POSETRACK))
def test_posetrack_boxes_with_one_odd_value(document: object) -> None:
    _reads_or_fails_cleanly(document)


@FUZZ_SETTINGS
@given(JSON_VALUES)
def test_any_json_value(value: object) -> None:
    for document in (value, [value], {"annotations": value}, {**VALID_POSETRACK, "images": value}):
        _reads_or_fails_cleanly(document)


@pytest.mark.parametrize("document, problem", [
    ([{"image_id": float("inf"), "bbox": [0, 0, 1, 1]}], "entry 0 lacks an integer image_id"),
    ([{"image_id": 1, "bbox": [10**400, 0, 1, 1]}], "entry 0 lacks an integer image_id and a numeric bbox"),
    ([{"image_id": 1, "bbox": [1e308, 0, 1e308, 1]}], "entry 0 \\(image 1\\) has a non-finite box"),
    ({"images": [{"id": [1]}], "annotations": []}, "image 0 has an id that is not an integer"),
], ids=["infinite-image-id", "400-digit-coordinate", "box-past-float32", "list-image-id"])
def test_odd_values_are_one_line_errors(document: object, problem: str) -> None:
    with pytest.raises(FtpposeError, match=f"odd.json: {problem}"):
        parse_boxes(document, "odd.json")
