"""The second teacher pass: which boxes it retries, what it hides, what it keeps.

MediaPipe is not a dependency of ftppose, so the teacher call is replaced by
a fixed pose; the masking, the mirror check and the filter are the script's own.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "relabel_hard_boxes.py"
_spec = importlib.util.spec_from_file_location("relabel_hard_boxes", _PATH)
relabel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(relabel)


def _upright_pose() -> np.ndarray:
    """(33, 3) crop-normalised landmarks of a person centred in the crop, mirror-symmetric, all visible."""
    kp = np.full((33, 3), [0.5, 0.5, 0.9])
    for left, right in relabel._PAIRS:
        kp[left, 0], kp[right, 0] = 0.45, 0.55  # left/right in image: mirrored labels land on each other
    kp[[11, 12], 1] = 0.3
    kp[[23, 24], 1] = 0.6
    return kp


def _person(status: str = "ok", offset: float = 0.0, flip: float = 0.01) -> dict:
    kp = np.zeros((33, 3))
    kp[:, 2] = 0.9
    return {"box": [40.0, 20.0, 40.0, 80.0], "status": status,
            "pose": None if status != "ok" else {"kp": kp.tolist(), "quality": {
                "flip_err_body": flip, "box_offset": offset, "torso_in_box": offset < 0.5}}}


def test_only_boxes_the_corpus_filter_rejects_are_retried() -> None:
    assert not relabel._is_hard(_person())
    assert relabel._is_hard(_person(offset=0.6))
    assert relabel._is_hard(_person(flip=0.2))
    assert relabel._is_hard(_person(status="no_pose"))


def test_masked_crop_blacks_out_everything_outside_the_grown_box() -> None:
    image = np.full((120, 160, 3), 200, np.uint8)
    crop, x0, y0, side = relabel._masked_crop(image, [40.0, 20.0, 40.0, 80.0], margin=0.1)
    assert side == 100 and crop.shape == (100, 100, 3)
    assert (x0, y0) == (10, 10)
    # Inside the box (grown by 4 px sideways) the image is kept, beyond it black.
    assert crop[50, 50].tolist() == [200, 200, 200]
    assert crop[50, 34].tolist() == [200, 200, 200]
    assert crop[50, 20].tolist() == [0, 0, 0]
    assert crop[50, 80].tolist() == [0, 0, 0]


def test_a_pose_that_passes_the_filter_is_kept_in_image_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relabel, "_landmarks", lambda crop: _upright_pose())
    image = np.full((120, 160, 3), 200, np.uint8)
    update = relabel._relabel(image, _person(offset=0.6), margin=0.1)
    assert update is not None and update["status"] == "ok"
    kp = np.asarray(update["pose"]["kp"])
    assert kp[0, :2].tolist() == [60.0, 60.0]  # crop centre = box centre
    assert update["pose"]["quality"]["flip_err_body"] == 0.0
    assert update["pose"]["quality"]["box_offset"] == 0.0


def test_a_pose_on_a_neighbour_or_without_a_mirror_match_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    image = np.full((120, 160, 3), 200, np.uint8)
    neighbour = _upright_pose()
    neighbour[:, 0] += 0.35  # torso far right of the box centre
    monkeypatch.setattr(relabel, "_landmarks", lambda crop: neighbour)
    assert relabel._relabel(image, _person(offset=0.6), margin=0.1) is None
    monkeypatch.setattr(relabel, "_landmarks", lambda crop: None)
    assert relabel._relabel(image, _person(status="no_pose"), margin=0.1) is None


def test_a_wider_crop_leaves_more_black_context_around_the_same_box() -> None:
    image = np.full((120, 160, 3), 200, np.uint8)
    crop, x0, y0, side = relabel._masked_crop(image, [40.0, 20.0, 40.0, 80.0], margin=0.0, pad=2.0)
    assert side == 160 and (x0, y0) == (-20, -20)
    assert crop[80, 80].tolist() == [200, 200, 200]  # box centre
    assert crop[80, 50].tolist() == [0, 0, 0]  # left of the box: masked
    assert crop[5, 80].tolist() == [0, 0, 0]  # above the image: padding
