"""The measurement scripts' new parts: teachers beside ours, LSPet and end to end.

The teachers need onnxruntime, ensemble_boxes and ``../shared/data/teachers``; those tests skip
without them. The script run needs ``../shared/data/heldout``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TEACHERS = REPO.parent / "shared" / "data" / "teachers"


def _load(name: str):
    """A benchmark script as a module, loaded from its file (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_detector_runs_once_per_image_and_thresholds_its_boxes() -> None:
    measure_detector = _load("measure_detector")
    calls = []

    def detect(image):
        calls.append(image.shape)
        return np.array([[0, 0, 10, 10], [5, 5, 20, 20]], np.float32), np.array([0.9, 0.2], np.float32)

    teacher = measure_detector.TeacherDetector(detect, min_box_score=0.4)
    a, b = np.zeros((30, 40, 3), np.uint8), np.ones((30, 40, 3), np.uint8)
    (boxes, scores), _ = teacher.predict_raw([a, b], min_box_score=0.1)
    assert len(boxes) == 2 and len(calls) == 2
    ((boxes, scores),) = teacher.predict_raw([a], min_box_score=0.5)
    assert scores.tolist() == pytest.approx([0.9]) and len(calls) == 2  # the cached boxes, thresholded


def test_ours_minus_teacher_is_paired_over_images(capsys: pytest.CaptureFixture) -> None:
    measure_detector = _load("measure_detector")
    ours = {"recall": 0.5, "precision": 0.5, "per_image_tp_fp_fn": [[1, 1, 1], [2, 2, 2], [0, 0, 1]]}
    same = measure_detector.compare("x", ours, ours)
    assert same["recall_difference"] == 0.0 and same["recall_difference_interval95"] == [0.0, 0.0]
    assert "recall +0.000" in capsys.readouterr().out


def _teachers():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("ensemble_boxes")
    if not (TEACHERS / "movenet-thunder" / "movenet-thunder.onnx").is_file():
        pytest.skip(f"{TEACHERS} is not present")
    teacher_runs = _load("teacher_runs")
    return teacher_runs, teacher_runs.load_teachers(TEACHERS)


def test_teachers_on_one_heldout_image(shared_data: Path) -> None:
    teacher_runs, script = _teachers()
    from ftppose_cli.evaluation.end_to_end import match_people
    from ftppose_cli.evaluation.heldout import load_heldout, score_predictions

    data = load_heldout(shared_data / "heldout")
    image = next(p.image for p in data.people if p.dataset == "mmpose_coco")
    people = [p for p in data.people if p.image == image]
    pred, seconds = teacher_runs.thunder_predictions(script, people, data.image)
    assert pred.shape == (len(people), 17, 2) and seconds > 0
    assert score_predictions(people, pred)["overall"].pck[0.2] > 0.7  # Thunder on COCO people: about 0.9
    gt = np.stack([p.box_xyxy for p in people])
    boxes, scores = teacher_runs.fused_detect(script)(data.image(image))
    assert (scores >= 0.4).all() and (match_people(gt, boxes, scores) >= 0).any()
    boxes, scores = teacher_runs.rtmdet_detect(script)(data.image(image))
    assert boxes.shape == (len(scores), 4) and (match_people(gt, boxes, scores) >= 0).any()


def test_measure_pose_prints_the_end_to_end_section(shared_data: Path, tiny_checkpoint: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "pose.json"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "measure_pose.py"), "--weights",
                          str(tiny_checkpoint), "--ratios", "0", "--threads", "1", "--json", str(out)],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "[end to end] 26 people" in run.stdout
    result = json.loads(out.read_text())["end_to_end"]["ratio 0"]
    overall = result["scores"]["overall"]
    assert overall["people"] == 26 and 0 < overall["found"] <= 26 and result["detections"] >= overall["found"]
