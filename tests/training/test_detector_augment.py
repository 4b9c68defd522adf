"""Detector training samples: boxes cut by the crop, people pasted from the pose crop cache, decoys."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from ftppose_cli.training import detector_augment as da
from ftppose_cli.training import detector_data as dd
from tests.crop_factory import synthetic_crop_cache


@pytest.fixture(scope="module")
def crop_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_crop_cache(tmp_path_factory.mktemp("crops"))


@pytest.fixture(scope="module")
def frame_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frames")
    (root / "frames").mkdir()
    records = []
    for i in range(4):
        image = np.full((96, 128, 3), 40, np.uint8)
        cv2.rectangle(image, (30, 20), (54, 70), (220, 220, 220), -1)
        cv2.imwrite(str(root / "frames" / f"{i:03d}.jpg"), image)
        records.append({"file": f"frames/{i:03d}.jpg", "scene": "street", "source": "videos/street.mp4",
                        "boxes": [[30, 20, 54, 70]]})
    (root / "index.json").write_text(json.dumps({"version": dd.CACHE_VERSION, "max_side": 512, "records": records}))
    return root


def test_boxes_mostly_cut_off_become_ignore_areas() -> None:
    boxes = np.array([[10, 10, 30, 50], [90, 10, 130, 50], [-100, 0, 10, 40]], np.float32)
    kept, ignored = da._clip_boxes(boxes, 0, 0, 100, 100)
    np.testing.assert_array_equal(kept, [[10, 10, 30, 50]])
    # the second keeps a quarter of its area and the third a tenth: neither is a person to find
    np.testing.assert_array_equal(ignored, [[90, 10, 100, 50], [0, 0, 10, 40]])
    # a person cut to 60 % of their box is a positive by default and an ignore area at min_visible 0.8
    half = np.array([[40, 10, 140, 50]], np.float32)
    assert len(da._clip_boxes(half, 0, 0, 100, 100)[0]) == 1
    kept, ignored = da._clip_boxes(half, 0, 0, 100, 100, min_visible=0.8)
    assert len(kept) == 0 and len(ignored) == 1


def test_pasted_people_come_only_from_the_allowed_scenes(crop_cache: Path) -> None:
    cutouts = da.PersonCutouts(crop_cache, exclude_scenes={"a"})
    scenes = np.load(crop_cache / "meta.npz")["scene"]
    used = {str(scenes[i]) for group in cutouts.by_scene for i in group}
    assert used == {"b"}
    with pytest.raises(ValueError, match="no people to paste"):
        da.PersonCutouts(crop_cache, exclude_scenes={"a", "b"})


def test_a_pasted_person_is_drawn_inside_its_box(crop_cache: Path) -> None:
    cutouts = da.PersonCutouts(crop_cache, exclude_scenes=set())
    rng = random.Random(3)
    found = 0
    for _ in range(20):
        canvas = np.zeros((160, 160, 3), np.uint8)
        canvas, kept, ignored = cutouts.paste(canvas, rng)
        assert len(kept) + len(ignored) <= 1
        if len(kept) == 0:
            continue
        found += 1
        x0, y0, x1, y1 = kept[0]
        assert 0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 160
        changed = canvas.max(axis=2) > 0
        inside = changed[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))].sum()
        assert inside > 0.5 * changed.sum()  # the silhouette lies (mostly) within the box
    assert found >= 5


def test_pasting_adds_people_and_keeps_the_frames_own(frame_cache: Path, crop_cache: Path) -> None:
    records = dd.load_records(frame_cache)
    cutouts = da.PersonCutouts(crop_cache, exclude_scenes=set())
    plain = da.DetectorTrainSet(frame_cache, records, size=64, mosaic=0.0, seed=5)
    pasted = da.DetectorTrainSet(frame_cache, records, size=64, mosaic=0.0, seed=5, cutouts=cutouts, paste=1.0)
    added = 0
    for index in range(8):
        _, boxes, ignore = plain.sample(index)
        _, boxes_p, ignore_p = pasted.sample(index)
        np.testing.assert_array_equal(boxes_p[:len(boxes)], boxes)
        np.testing.assert_array_equal(ignore_p[:len(ignore)], ignore)
        added += len(boxes_p) + len(ignore_p) - len(boxes) - len(ignore)
    assert added >= 8  # 1-3 people a sample, a few of them mostly off the canvas


def test_a_decoy_is_a_silhouette_of_texture_with_no_box(crop_cache: Path) -> None:
    cutouts = da.PersonCutouts(crop_cache, exclude_scenes=set())
    texture = np.full((50, 50, 3), 200, np.uint8)
    drawn = 0
    for seed in range(10):
        person = cutouts.paste(np.zeros((160, 160, 3), np.uint8), random.Random(seed))[0]
        canvas, kept, ignored = cutouts.paste(np.zeros((160, 160, 3), np.uint8), random.Random(seed), texture=texture)
        assert len(kept) == 0 and len(ignored) == 0
        # the same draw paints the silhouette the person would have (the person's own dark pixels aside)
        assert not ((person.max(axis=2) > 0) & (canvas.max(axis=2) == 0)).any()
        assert canvas.max() <= 200
        drawn += int((canvas == 200).all(axis=2).any())
    assert drawn >= 5


def test_background_patches_avoid_the_teacher_boxes(frame_cache: Path) -> None:
    data = da.DetectorTrainSet(frame_cache, dd.load_records(frame_cache), size=64, mosaic=0.0, seed=0)
    rng = random.Random(0)
    patches = [data._background(rng) for _ in range(20)]
    found = [p for p in patches if p is not None]
    assert len(found) >= 10
    assert all(p.max() < 120 for p in found)  # the person is a bright rectangle on a dark frame


def test_decoys_change_the_picture_and_add_no_boxes(frame_cache: Path, crop_cache: Path) -> None:
    records = dd.load_records(frame_cache)
    cutouts = da.PersonCutouts(crop_cache, exclude_scenes=set())
    plain = da.DetectorTrainSet(frame_cache, records, size=64, mosaic=0.0, seed=5, cutouts=cutouts)
    decoyed = da.DetectorTrainSet(frame_cache, records, size=64, mosaic=0.0, seed=5, cutouts=cutouts, decoys=1.0)
    changed = 0
    for index in range(8):
        image, boxes, ignore = plain.sample(index)
        image_d, boxes_d, ignore_d = decoyed.sample(index)
        np.testing.assert_array_equal(boxes_d, boxes)
        np.testing.assert_array_equal(ignore_d, ignore)
        changed += int(not np.array_equal(image_d, image))
    assert changed >= 4


def test_zoom_sets_the_size_of_the_frame_on_the_canvas(frame_cache: Path) -> None:
    records = dd.load_records(frame_cache)
    data = da.DetectorTrainSet(frame_cache, records, size=64, mosaic=0.0, seed=0, zoom=(0.5, 0.5))
    _, boxes, _ = data.sample(0)
    # a 128-pixel-wide frame whose longer side is half the 64-pixel canvas: scaled by 1/4
    assert len(boxes) == 1 and boxes[0, 3] - boxes[0, 1] == pytest.approx(50 / 4, abs=0.5)
