"""Run the teacher person detector (Yolo-Fastest-1.1 body, darknet) on the held-out images and save
its boxes, so ``measure_detector.py --boxes`` can score the teacher with the same matching rules.

Why: our detector is distilled from this teacher, so the teacher's held-out recall and precision
are the ceiling that distillation alone can reach. The darknet reader exists only in OpenCV 4.x
(PyPI's opencv-python is 5.x), so this runs in its own environment, never in ftppose's:

    python -m venv /tmp/cv4 && /tmp/cv4/bin/pip install "opencv-python-headless<5" "numpy<2"
    /tmp/cv4/bin/python benchmarks/teacher_boxes.py --data ../shared/data --out /tmp/teacher_boxes.json
    python benchmarks/measure_detector.py --boxes /tmp/teacher_boxes.json --conf 0.3

Inference mirrors how ``shared/data/labels`` were made: 320x320 input, the image and its mirror,
then NMS at IoU 0.45 over both views. Boxes down to score 0.05 are kept; pick the threshold when
scoring. The output maps each image path (relative to ``heldout/``) to ``[x0, y0, x1, y1, score]``
rows in pixels.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import cv2
import numpy as np

MIN_SCORE = 0.05
NMS_IOU = 0.45


def load_teacher(folder: Path) -> tuple[cv2.dnn.Net, int, int]:
    cfg = folder / "yolo-fastest-1.1_body.cfg"
    text = cfg.read_text()
    width = int(re.search(r"^width=(\d+)", text, re.M).group(1))
    height = int(re.search(r"^height=(\d+)", text, re.M).group(1))
    return cv2.dnn.readNetFromDarknet(str(cfg), str(folder / "yolo-fastest-1.1_body.weights")), width, height


def detect(net: cv2.dnn.Net, size: tuple[int, int], image: np.ndarray) -> np.ndarray:
    """Boxes from the image and its mirror, merged by NMS (the labels' flip TTA)."""
    h, w = image.shape[:2]
    rows = []
    for mirrored in (False, True):
        view = np.ascontiguousarray(image[:, ::-1]) if mirrored else image
        net.setInput(cv2.dnn.blobFromImage(view, 1 / 255.0, size, swapRB=True, crop=False))
        for out in net.forward(net.getUnconnectedOutLayersNames()):
            for r in out:
                score = float(r[4] * r[5:].max())
                if score < MIN_SCORE:
                    continue
                x0, x1 = (r[0] - r[2] / 2) * w, (r[0] + r[2] / 2) * w
                if mirrored:
                    x0, x1 = w - x1, w - x0
                rows.append([x0, (r[1] - r[3] / 2) * h, x1, (r[1] + r[3] / 2) * h, score])
    if not rows:
        return np.zeros((0, 5), np.float32)
    a = np.asarray(rows, np.float32)
    xywh = [[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in a.tolist()]
    keep = cv2.dnn.NMSBoxes(xywh, a[:, 4].tolist(), MIN_SCORE, NMS_IOU)
    return a[np.asarray(keep, int).ravel()]


def main() -> int:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(here.parent / "shared" / "data"))
    ap.add_argument("--out", required=True, help="JSON file to write")
    args = ap.parse_args()
    data = Path(args.data)
    net, width, height = load_teacher(data / "teachers" / "yolo-fastest-body")
    root = data / "heldout"
    images = sorted((root / "mmpose_coco").glob("*.jpg")) + sorted((root / "mmpose_posetrack18").rglob("*.jpg"))
    boxes = {str(p.relative_to(root)): detect(net, (width, height), cv2.imread(str(p))).tolist() for p in images}
    Path(args.out).write_text(json.dumps(boxes))
    print(f"{len(boxes)} images, {sum(len(b) for b in boxes.values())} boxes with score >= {MIN_SCORE} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
