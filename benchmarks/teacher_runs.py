"""The labelling teachers as the measurement scripts run them, for figures beside ours.

``scripts/label_corpus.py`` owns the teachers (MoveNet Thunder + flip, RTMDet-nano, YOLOX-nano,
their weighted box fusion); this module only loads that script and wraps its functions in the
shapes the measurements need, so the teacher measured is exactly the teacher that labelled:

* :func:`thunder_estimate`: boxes -> Thunder + flip on each, COCO-17 mapped to our 17 joints
  with ``thunder_to_posetrack`` (head_bottom / head_top derived from the face);
* :func:`fused_detect`: the labels' fused boxes kept from ``PERSON_SCORE`` (0.4, the score from
  which a labelled person becomes a training crop), clipped to the image as the labeller clips;
* :func:`rtmdet_detect`: RTMDet-nano at 320 alone.

Needs ``onnxruntime`` and ``ensemble_boxes`` (the labelling extra) and the ONNX files of
``../shared/data/teachers``. Nothing in ``ftppose_cli`` imports this or the teachers.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEACHERS = REPO.parent / "shared" / "data" / "teachers"
LARGE_FROM = 960  # label_corpus.py's --large-from default: frames this large also get RTMDet at 640
FUSED_LABEL = "RTMDet+YOLOX fused"
THUNDER_LABEL = "Thunder+flip"

_script: ModuleType | None = None


def label_corpus() -> ModuleType:
    """``scripts/label_corpus.py`` as a module (loaded once)."""
    global _script
    if _script is None:
        path = REPO / "scripts" / "label_corpus.py"
        spec = importlib.util.spec_from_file_location("label_corpus", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _script = module
    return _script


def load_teachers(teachers: str | Path = DEFAULT_TEACHERS) -> ModuleType:
    """The script with its ONNX sessions loaded (one thread each); SystemExit with the reason if it cannot."""
    teachers = Path(teachers)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise SystemExit("--teacher needs onnxruntime (pip install onnxruntime ensemble-boxes)") from None
    if not (teachers / "movenet-thunder" / "movenet-thunder.onnx").is_file():
        raise SystemExit(f"--teacher: no teacher models in {teachers} (pass --teachers DIR)")
    script = label_corpus()
    script._init(str(teachers))
    return script


def thunder_estimate(script: ModuleType) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(image, boxes (k, 4)) -> joints (k, 17, 2)`` in our joint order: Thunder + flip per box."""
    from ftppose_cli.training.teacher_labels import thunder_to_posetrack

    def estimate(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        out = []
        for box in np.asarray(boxes, np.float32).reshape(-1, 4):
            kp, _, _ = script.thunder_pose(image, box)
            out.append(thunder_to_posetrack(kp)[0])
        return np.stack(out) if out else np.zeros((0, 17, 2), np.float32)

    return estimate


def thunder_predictions(script: ModuleType, people, image: Callable[[Path], np.ndarray]) -> tuple[np.ndarray, float]:
    """Thunder + flip on every person's own box ``(n, 17, 2)``, and the seconds spent in it."""
    estimate = thunder_estimate(script)
    pred = np.zeros((len(people), 17, 2), np.float32)
    seconds = 0.0
    for i, person in enumerate(people):
        picture = image(person.image)
        start = time.perf_counter()
        pred[i] = estimate(picture, person.box_xyxy[None])[0]
        seconds += time.perf_counter() - start
    return pred, seconds


def _clip(boxes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes clipped to the image, those left under 2 pixels dropped (as ``label_frame`` does)."""
    xyxy = boxes[:, :4].copy()
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    keep = (xyxy[:, 2] - xyxy[:, 0] >= 2) & (xyxy[:, 3] - xyxy[:, 1] >= 2)
    return xyxy[keep], boxes[keep, 4]


def fused_detect(script: ModuleType, score: float | None = None
                 ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``image -> (boxes, scores)``: the labels' fused boxes from ``score`` (default the labels' 0.4;
    0 keeps every box the labeller keeps, from its ``KEEP_SCORE`` 0.1)."""
    from ftppose_cli.training.teacher_labels import PERSON_SCORE

    threshold = PERSON_SCORE if score is None else score

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fused, _ = script.detect_people(image, LARGE_FROM)
        boxes, scores = _clip(fused[fused[:, 4] >= threshold], image.shape[1], image.shape[0])
        return boxes, scores

    return detect


def rtmdet_detect(script: ModuleType, side: int = 320) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``image -> (boxes, scores)``: RTMDet-nano person alone at ``side`` pixels, every box it returns."""

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dets = script.rtmdet_boxes(image, side)
        return dets[:, :4], dets[:, 4]

    return detect

