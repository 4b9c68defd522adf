"""Detector training data: which teacher boxes are people to find."""

from __future__ import annotations


def test_unsure_fused_boxes_are_not_people_to_find() -> None:
    from ftppose_cli.training.detector_data import DETECTOR_BOX_SCORE, _teacher_boxes

    frame = {"persons": [{"box": [10, 10, 20, 40], "score": DETECTOR_BOX_SCORE + 0.1},
                         {"box": [50, 10, 20, 40], "score": DETECTOR_BOX_SCORE - 0.1}, {"box": [90, 10, 20, 40]}]}
    assert len(_teacher_boxes(frame, 1.0)) == 3  # the first labels carry confident boxes only
    assert _teacher_boxes(frame, 0.5, DETECTOR_BOX_SCORE) == [[5.0, 5.0, 15.0, 25.0], [45.0, 5.0, 55.0, 25.0]]
