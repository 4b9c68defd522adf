"""Detector training data: which teacher boxes are people to find."""

from __future__ import annotations


def test_unsure_fused_boxes_are_not_people_to_find() -> None:
    from ftppose_cli.training.detector_data import DETECTOR_BOX_SCORE, _teacher_boxes

    frame = {"persons": [{"box": [10, 10, 20, 40], "score": DETECTOR_BOX_SCORE + 0.1},
                         {"box": [50, 10, 20, 40], "score": DETECTOR_BOX_SCORE - 0.1}, {"box": [90, 10, 20, 40]}]}
    assert len(_teacher_boxes(frame, 1.0)) == 3  # the first labels carry confident boxes only
    assert _teacher_boxes(frame, 0.5, DETECTOR_BOX_SCORE) == [[5.0, 5.0, 15.0, 25.0], [45.0, 5.0, 55.0, 25.0]]


def test_lspet_training_images_join_the_frame_cache_with_every_person_boxed(tmp_path) -> None:
    """Teacher boxes of LSPet images are people to find; the labelled person is one even where no teacher saw them."""
    import json

    import cv2
    import numpy as np

    from ftppose_cli.training.detector_data import DETECTOR_BOX_SCORE, build_frame_cache, load_records, split_by_scene

    data = tmp_path / "corpus"
    (data / "images").mkdir(parents=True)
    (data / "manifest.json").write_text(json.dumps({"videos": [], "images": []}))
    for i in range(2):
        cv2.imwrite(str(data / "images" / f"im{i + 1:05d}.jpg"), np.full((60, 80, 3), 90, np.uint8))
    sure, unsure = DETECTOR_BOX_SCORE + 0.2, DETECTOR_BOX_SCORE - 0.2
    (data / "lspet.json").write_text(json.dumps({"root": str(data), "people": [
        {"index": 0, "box": [10, 5, 20, 50]}, {"index": 1, "box": [40, 5, 30, 50]}]}))
    (data / "lspet_boxes.json").write_text(json.dumps({"root": str(data), "images": [
        {"index": 0, "image": "images/im00001.jpg", "width": 80, "height": 60,
         "boxes": [[11, 6, 19, 48, sure], [50, 10, 10, 30, unsure]]},  # the labelled person, a doubtful box
        {"index": 1, "image": "images/im00002.jpg", "width": 80, "height": 60,
         "boxes": [[2, 2, 10, 20, sure]]}]}))  # someone else: the labelled person is added
    build_frame_cache(data, tmp_path / "cache", log=lambda line: None)
    records = load_records(tmp_path / "cache")
    assert [r.source for r in records] == ["lspet/images/im00001.jpg", "lspet/images/im00002.jpg"]
    np.testing.assert_allclose(records[0].boxes, [[11, 6, 30, 54]])
    np.testing.assert_allclose(records[1].boxes, [[2, 2, 12, 22], [40, 5, 70, 55]])
    assert all((tmp_path / "cache" / r.file).is_file() for r in records)
    train, val = split_by_scene(records)
    assert len(train) == 2 and not val
