"""The corpus labeller: its geometry on its own, and a real labelling run where the teachers are present."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
_spec = importlib.util.spec_from_file_location("label_corpus", ROOT / "scripts" / "label_corpus.py")
label_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(label_corpus)


def test_mirrored_boxes_map_back_to_the_frame() -> None:
    boxes = np.array([[10, 5, 30, 50, 0.9]], np.float32)
    assert np.allclose(label_corpus._mirror_boxes(boxes, 100), [[70, 5, 90, 50, 0.9]])


def test_a_view_votes_only_for_the_box_it_overlaps() -> None:
    view = np.array([[0, 0, 10, 10, 0.7], [50, 50, 60, 60, 0.9]], np.float32)
    assert label_corpus._best_overlap(np.array([1, 1, 10, 10, 1], np.float32), view) == pytest.approx(0.7)
    assert label_corpus._best_overlap(np.array([20, 20, 30, 30, 1], np.float32), view) == 0.0


def test_letterbox_keeps_the_aspect_and_pads_right_and_below() -> None:
    canvas, scale = label_corpus._letterbox(np.zeros((100, 200, 3), np.uint8), 320)
    assert scale == pytest.approx(1.6) and canvas.shape == (320, 320, 3)
    assert (canvas[170:, :] == label_corpus.LETTERBOX_PAD).all() and (canvas[:150, :] == 0).all()


def test_lspet_box_grows_the_joints_box_and_stays_in_the_image() -> None:
    joints = np.array([[20, 30, 1], [60, 130, 1], [-10, 50, 0]], np.float32)  # the third lies outside
    x0, y0, x1, y1 = label_corpus.lspet_box(joints, 100, 140)
    assert x0 < 20 and x1 > 60 and y0 < 30 and y1 == 140  # grown, then clipped at the bottom edge
    assert x0 >= 0 and (x0 + x1) / 2 == pytest.approx(40)


@pytest.mark.skipif(not (DATA / "teachers" / "movenet-thunder").exists(), reason="needs ../shared/data/teachers")
def test_a_real_photo_gets_every_person_boxed_and_posed(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("ensemble_boxes")
    image = "images/tfjs-models/three_people.jpg"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "label_corpus.py"), "--data", str(DATA), "--out",
                    str(tmp_path), "--workers", "1", "--only", image], check=True, capture_output=True, timeout=300)
    labels = json.loads((tmp_path / "labels" / f"{image}.json").read_text())
    assert labels["schema"] == "ftppose-teacher-labels/2" and labels["kind"] == "image"
    people = [p for p in labels["frames"][0]["persons"] if p["score"] >= 0.4]
    assert len(people) == 3 and all(len(p["kp"]) == 17 for p in people)
    from ftppose_cli.training.teacher_labels import _passes_filter_v2, load_teacher_samples

    kept = [p for p in people if _passes_filter_v2(p)]
    assert kept  # the seated man's and the waving man's poses disagree with their mirrors more than it allows
    samples = load_teacher_samples(tmp_path)  # the corpus folder links the manifest and images back
    assert len(samples) == len(kept) and all(s.source == image for s in samples)
