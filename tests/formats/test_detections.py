"""Person boxes from COCO-style results and PoseTrack files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.formats.detections import load_boxes


def test_coco_results_with_posetrack_image_ids(tmp_path: Path) -> None:
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([
        {"image_id": 10034180000, "bbox": [10, 20, 30, 40], "score": 0.9, "category_id": 1},
        {"image_id": 10034180002, "bbox": [0, 0, 5, 5], "score": 0.5, "category_id": 1},
        {"image_id": 10094730000, "bbox": [1, 1, 2, 2], "score": 0.7, "category_id": 1},
    ]))
    boxes = load_boxes(path, sequence="003418")
    assert sorted(boxes) == [0, 2]
    np.testing.assert_allclose(boxes[0], [[10, 20, 40, 60, 0.9]])


def test_posetrack_file_is_keyed_by_image_position(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({
        "images": [{"id": 7}, {"id": 3}],
        "annotations": [{"image_id": 3, "bbox": [1, 2, 3, 4]}],
    }))
    boxes = load_boxes(path)
    np.testing.assert_allclose(boxes[1], [[1, 2, 4, 6, 1.0]])


@pytest.mark.parametrize("content,message", [
    ("{oops", "not valid JSON"),
    ('{"x": 1}', "no list of boxes"),
    ('[{"image_id": 0}]', "lacks an integer image_id and a numeric bbox"),
    ('[{"image_id": 0, "bbox": [0, 0, NaN, 1]}]', "non-finite"),
])
def test_bad_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        load_boxes(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_boxes(tmp_path / "absent.json")
