"""Second teacher pass on the boxes the corpus labeller could not use.

The corpus labels (``../shared/data/labels``) ran MediaPipe BlazePose on a
square crop around each detector box. In crowds BlazePose takes the most
prominent person in the crop, often a neighbour, and the corpus filter then
drops the box (``box_offset``, ``torso_in_box``); in other crops it finds no
pose or two that disagree under mirroring. Those are exactly the people the
pose model sees too few of: crowds, seated rows, people partly hidden.

This pass re-runs the same teacher on the same crop with everything outside
the box (grown by ``--margin`` on each side) painted black, so the neighbours
are gone, and keeps the new pose only when it passes the corpus filter
(upper-body variant: flip error, box offset, torso in box, upper-body
visibility). Every other record is copied unchanged. The output is a corpus
folder (``manifest.json``, ``videos``, ``images`` linked to the original, and
a new ``labels/``) that ``ftppose train --data`` reads as it reads the
original.

Runs in its own virtual environment, since MediaPipe needs numpy < 2::

    python -m venv mpvenv && mpvenv/bin/pip install mediapipe==0.10.21 "numpy<2"
    mpvenv/bin/python scripts/relabel_hard_boxes.py ../shared/data /path/to/corpus_relabel

It is a training-data tool: nothing in ``ftppose_cli`` imports it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

PAD = 1.25  # the corpus labeller's crop: side = PAD * longer box side, centred on the box
BODY12 = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
COCO17 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
UPPER = [11, 12, 13, 14, 15, 16, 23, 24]
_PAIRS = [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20),
          (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)]
MIRROR = list(range(33))
for _a, _b in _PAIRS:
    MIRROR[_a], MIRROR[_b] = _b, _a

_pose = None


def _init() -> None:
    global _pose
    cv2.setNumThreads(1)
    import mediapipe as mp

    _pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.3)


def _landmarks(crop_bgr: np.ndarray) -> np.ndarray | None:
    """(33, 3) [u, v, visibility] in crop-normalised coordinates, or None."""
    result = _pose.process(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB))
    if not result.pose_landmarks:
        return None
    return np.array([[p.x, p.y, p.visibility] for p in result.pose_landmarks.landmark], np.float64)


def _masked_crop(image: np.ndarray, box: list[float], margin: float,
                 pad: float = PAD) -> tuple[np.ndarray, int, int, int]:
    """The labeller's square crop (side ``pad`` x the longer box side) with everything outside the grown box black."""
    x, y, w, h = box
    side = int(round(max(w, h) * pad))
    x0, y0 = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
    keep = np.zeros(image.shape[:2], np.uint8)
    gx, gy = margin * w, margin * h
    keep[max(0, int(y - gy)):max(0, int(np.ceil(y + h + gy))), max(0, int(x - gx)):max(0, int(np.ceil(x + w + gx)))] = 1
    masked = image * keep[..., None]
    padded = cv2.copyMakeBorder(masked, side, side, side, side, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return padded[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side], x0, y0, side


def _relabel(image: np.ndarray, person: dict, margin: float, pad: float = PAD) -> dict | None:
    """A new ``crop``/``status``/``pose`` for ``person`` that passes the filter, or None."""
    crop, x0, y0, side = _masked_crop(image, person["box"], margin, pad)
    if crop.size == 0:
        return None
    p = _landmarks(crop)
    if p is None:
        return None
    q = _landmarks(np.ascontiguousarray(crop[:, ::-1]))
    if q is None:
        return None
    q = q[MIRROR]
    q[:, 0] = 1.0 - q[:, 0]
    dist = np.linalg.norm(p[:, :2] - q[:, :2], axis=1)
    kp = np.column_stack([x0 + p[:, 0] * side, y0 + p[:, 1] * side, p[:, 2]])
    x, y, w, h = person["box"]
    torso = kp[[11, 12, 23, 24], :2].mean(0)
    quality = {
        "mean_vis": round(float(p[:, 2].mean()), 3),
        "mean_vis_body": round(float(p[BODY12, 2].mean()), 3),
        "inside": bool(np.all((p[:, :2] >= 0) & (p[:, :2] <= 1))),
        "inside_coco17": bool(np.all((p[COCO17, :2] >= 0) & (p[COCO17, :2] <= 1))),
        "flip_err": round(float(dist.mean()), 4),
        "flip_err_body": round(float(dist[BODY12].mean()), 4),
        "box_offset": round(float(abs(torso[0] - (x + w / 2)) / max(w, 1e-6)), 3),
        "torso_in_box": bool(x <= torso[0] <= x + w and y <= torso[1] <= y + h),
    }
    passes = (quality["flip_err_body"] <= 0.05 and quality["box_offset"] <= 0.25 and quality["torso_in_box"]
              and p[UPPER, 2].mean() >= 0.5)
    if not passes:
        return None
    return {
        "crop": [x0, y0, side],
        "status": "ok",
        "pose": {"kp": [[round(float(a), 1), round(float(b), 1), round(float(v), 3)] for a, b, v in kp],
                 "quality": quality},
        "relabel": f"crop {pad} x box, masked outside the box grown by {margin}",
    }


def _is_hard(person: dict) -> bool:
    """A box the corpus filter (upper-body variant) rejects."""
    if person["status"] != "ok":
        return True
    q = person["pose"]["quality"]
    upper = np.asarray(person["pose"]["kp"], np.float64)[UPPER, 2].mean()
    return not (q["flip_err_body"] <= 0.05 and q["box_offset"] <= 0.25 and q["torso_in_box"] and upper >= 0.5)


def _frames(path: Path, wanted: set[int]):
    """Frames of a video (sequential decode, as the corpus labeller counted them) or the one image."""
    if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}:
        if 0 in wanted:
            yield 0, cv2.imread(str(path), cv2.IMREAD_COLOR)
        return
    cap = cv2.VideoCapture(str(path))
    index = 0
    while wanted and index <= max(wanted):
        ok, image = cap.read()
        if not ok:
            break
        if index in wanted:
            yield index, image
        index += 1
    cap.release()


def _job(task: tuple[str, str, str, float, float]) -> tuple[str, int, int, float]:
    data, label_file, out_root, margin, pad = task
    started = time.time()
    labels = json.loads(Path(label_file).read_text())
    hard = {fr["frame"]: [i for i, p in enumerate(fr["persons"]) if _is_hard(p)] for fr in labels["frames"]}
    hard = {f: idx for f, idx in hard.items() if idx}
    by_frame = {fr["frame"]: fr for fr in labels["frames"]}
    tried = gained = 0
    for index, image in _frames(Path(data) / labels["source"], set(hard)):
        for i in hard[index]:
            tried += 1
            update = _relabel(image, by_frame[index]["persons"][i], margin, pad)
            if update is not None:
                by_frame[index]["persons"][i].update(update)
                gained += 1
    labels.setdefault("relabel_passes", []).append(
        {"tried": tried, "gained": gained, "margin": margin, "pad": pad, "seconds": round(time.time() - started, 1)})
    out = Path(out_root) / "labels" / Path(label_file).relative_to(Path(data) / "labels")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(labels))
    os.replace(tmp, out)
    return labels["source"], tried, gained, time.time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="teacher corpus (manifest.json, videos/, images/, labels/)")
    parser.add_argument("out", type=Path, help="new corpus folder (labels/ written, the rest linked)")
    parser.add_argument("--margin", type=float, default=0.1, help="grow the box by this fraction of its size per side")
    parser.add_argument("--pad", type=float, default=PAD,
                        help="crop side as a multiple of the longer box side (the corpus labeller used 1.25)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data = args.data.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "videos", "images"):
        link = args.out / name
        if not link.exists():
            link.symlink_to(data / name)
    label_files = sorted((data / "labels").rglob("*.json"))
    tasks = [(str(data), str(f), str(args.out), args.margin, args.pad) for f in label_files
             if not (args.out / "labels" / f.relative_to(data / "labels")).exists()]
    total_tried = total_gained = 0
    with multiprocessing.Pool(args.workers, initializer=_init) as pool:
        for source, tried, gained, seconds in pool.imap_unordered(_job, tasks):
            total_tried += tried
            total_gained += gained
            print(f"{source}: {gained}/{tried} hard boxes relabelled ({seconds:.0f} s)", flush=True)
    print(f"total: {total_gained}/{total_tried} hard boxes relabelled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
