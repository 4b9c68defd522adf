"""Measure the shipped person detector: held-out recall/precision at IoU 0.5, val-split numbers
against the teacher, and CPU latency per 640-pixel frame.

    python benchmarks/measure_detector.py [--weights weights/detector.safetensors]
        [--data ../shared/data] [--cache /work/cache/detector/frames512] [--threads 2] [--fit-check 17]
    python benchmarks/measure_detector.py --boxes teacher_boxes.json --conf 0.3   # saved boxes instead

``--boxes`` scores detections saved by another detector (``benchmarks/teacher_boxes.py`` writes the
teacher's) with exactly the same ground truth and matching, held-out only.

``--teacher`` (onnxruntime, ensemble_boxes and ``DATA/teachers``) also scores, in the same run, on the
same images with the same matching and intervals, the labelling teachers of
``scripts/label_corpus.py``: RTMDet-nano person at 320 alone (``--rtmdet-conf``, default 0.3 like
ours) and the labels' fused boxes (RTMDet-nano 320 + its mirror, YOLOX-nano 416, RTMDet 640 on
frames >= 960 px, weighted box fusion; ``--fused-conf``, default 0.4, the score from which a
labelled person becomes a training crop). Then ours minus each teacher, with a paired bootstrap
interval over images, so "within 0.05 of the teacher" is read off one run:

    python benchmarks/measure_detector.py --teacher --threads 1

Held-out ground truth (never trained on):
- COCO (``heldout/mmpose_coco/test_coco.json``, 4 images): every person annotation is a GT box;
  persons with ``num_keypoints == 0`` (slivers / tiny background people) and crowd boxes are
  "ignore" GT: a detection on them is neither a TP nor an FP, and missing them is no FN.
- PoseTrack18 (``heldout/mmpose_posetrack18``, the 3 annotated frames ``images/val/*/000000.jpg``):
  GT = the ``bbox`` field of each annotated person (mmpose's box: the keypoint extent enlarged
  ~1.3x, clipped to the image); unannotated people are covered by PoseTrack's ignore regions
  (``ignore_regions_x/y`` polygons, rasterised): an unmatched detection with >= 50 % of its box on
  an ignore region is not counted as FP. A second GT variant, the keypoint box enlarged 1.15x, is
  also reported because the ``bbox`` field is loose.
Matching: greedy by score, one-to-one, IoU >= 0.5. The operating threshold is the one stored in
``detector.json`` (chosen on the val split, not here); a threshold sweep is printed for context.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ftppose_cli.detection.detector import PersonDetector  # noqa: E402
from ftppose_cli.evaluation.bootstrap import difference_interval, ratio_interval  # noqa: E402
from ftppose_cli.training.detector_trainer import evaluate  # noqa: E402

SWEEP = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def coco_heldout(root: Path):
    d = json.loads((root / "mmpose_coco" / "test_coco.json").read_text())
    imgs, gts, kw, names = [], [], [], []
    for im in d["images"]:
        anns = [a for a in d["annotations"] if a["image_id"] == im["id"] and a.get("category_id", 1) == 1]
        boxes = np.asarray([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                            for a in anns], np.float32).reshape(-1, 4)
        ign = np.asarray([a.get("num_keypoints", 0) == 0 or a.get("iscrowd", 0) == 1 for a in anns], bool)
        imgs.append(cv2.imread(str(root / "mmpose_coco" / im["file_name"])))
        names.append(f"mmpose_coco/{im['file_name']}")
        gts.append(boxes)
        kw.append({"gt_ignore": ign})
    return imgs, gts, kw, names


def posetrack_heldout(root: Path, variant: str = "bbox"):
    base = root / "mmpose_posetrack18"
    imgs, gts, kw, names = [], [], [], []
    for f in sorted(glob.glob(str(base / "annotations" / "val" / "*.json"))):
        d = json.loads(Path(f).read_text())
        for im in d["images"]:
            path = base / im["file_name"]
            if not path.exists() or not im.get("is_labeled", True):
                continue
            img = cv2.imread(str(path))
            H, W = img.shape[:2]
            boxes = []
            for a in d["annotations"]:
                if a["image_id"] != im["id"]:
                    continue
                k = np.asarray(a["keypoints"], np.float32).reshape(-1, 3)
                vis = k[:, 2] > 0
                if not vis.any():
                    continue
                if variant == "bbox":
                    x, y, w, h = a["bbox"]
                    b = [x, y, x + w, y + h]
                else:  # keypoint extent enlarged 1.15x about its centre
                    x0, y0 = k[vis, 0].min(), k[vis, 1].min()
                    x1, y1 = k[vis, 0].max(), k[vis, 1].max()
                    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * 1.15, (y1 - y0) / 2 * 1.15
                    b = [cx - hw, cy - hh, cx + hw, cy + hh]
                boxes.append([min(max(b[0], 0), W), min(max(b[1], 0), H), min(max(b[2], 0), W), min(max(b[3], 0), H)])
            mask = np.zeros((H, W), np.uint8)
            for xs, ys in zip(im.get("ignore_regions_x", []), im.get("ignore_regions_y", [])):
                if len(xs) >= 3:
                    poly = np.round(np.stack([xs, ys], 1)).astype(np.int32)
                    cv2.fillPoly(mask, [poly], 1)
            imgs.append(img)
            names.append(f"mmpose_posetrack18/{im['file_name']}")
            gts.append(np.asarray(boxes, np.float32).reshape(-1, 4))
            kw.append({"ignore_mask": mask.astype(bool)})
    return imgs, gts, kw, names


def teacher_frames(cache: Path, every: int = 5, split: str = "val"):
    """Every ``every``-th kept frame of each clip of one split, with its teacher boxes as GT.

    The training split scored the same way tells underfitting (train as low as val) from
    overfitting (train far above val)."""
    from ftppose_cli.training import detector_data as dd

    records = dd.drop_suspect_negatives(dd.load_records(cache))
    train, val = dd.split_by_scene(records)
    by_src: dict[str, list] = {}
    for r in val if split == "val" else train:
        by_src.setdefault(r.source, []).append(r)
    picked = [r for src in sorted(by_src) for r in by_src[src][::every]]
    return [cv2.imread(str(cache / r.file)) for r in picked], [r.boxes for r in picked], None


class SavedBoxes:
    """Stands in for :class:`PersonDetector` in :func:`evaluate` with boxes saved by another detector.

    ``evaluate`` hands over pixels, not names, so each image is recognised by its bytes."""

    def __init__(self, path: str, images: list[np.ndarray], names: list[str], min_box_score: float):
        saved = json.loads(Path(path).read_text())
        missing = sorted(set(names) - set(saved))
        if missing:
            raise SystemExit(f"{path}: no boxes for {len(missing)} held-out images, e.g. {missing[0]}")
        self.min_box_score = min_box_score
        self._boxes = {img.tobytes(): np.asarray(saved[n], np.float32).reshape(-1, 5) for img, n in zip(images, names)}

    def predict_raw(self, images: list[np.ndarray], min_box_score: float) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = [self._boxes[img.tobytes()] for img in images]
        return [(r[r[:, 4] >= min_box_score, :4], r[r[:, 4] >= min_box_score, 4]) for r in rows]


def report(name: str, det: PersonDetector, imgs, gts, kw) -> dict:
    res = evaluate(det, imgs, gts, thresholds=tuple(sorted(set(SWEEP) | {det.min_box_score})), match_kwargs=kw)
    row = res["by_threshold"][det.min_box_score]
    n_gt = row["tp"] + row["fn"]
    print(f"{name:34s} images {len(imgs):4d}  GT {n_gt:4d}  @conf {det.min_box_score:.2f}: recall {row['recall']:.3f}  "
          f"precision {row['precision']:.3f}  (TP {row['tp']}, FP {row['fp']}, FN {row['fn']})")
    sweep = "  ".join(f"{t:.2f}:{r['recall']:.2f}/{r['precision']:.2f}" for t, r in res["by_threshold"].items())
    print(f"{'':34s} sweep conf:recall/precision  {sweep}")
    tp, fp, fn = row["per_image"].T
    recall_ci, precision_ci = ratio_interval(tp, tp + fn), ratio_interval(tp, tp + fp)
    print(f"{'':34s} 95% interval over images: recall {recall_ci[0]:.2f}-{recall_ci[1]:.2f}  "
          f"precision {precision_ci[0]:.2f}-{precision_ci[1]:.2f}")
    return {"images": len(imgs), "gt": n_gt, **{k: row[k] for k in ("recall", "precision", "tp", "fp", "fn")},
            "recall_interval95": list(recall_ci), "precision_interval95": list(precision_ci),
            "per_image_tp_fp_fn": row["per_image"].tolist()}


class TeacherDetector:
    """Stands in for :class:`PersonDetector` in :func:`evaluate`: a teacher's boxes, computed once per image.

    ``detect(image) -> (boxes, scores)`` returns every box the teacher keeps; ``predict_raw`` thresholds them."""

    def __init__(self, detect, min_box_score: float):
        self.detect, self.min_box_score = detect, min_box_score
        self._boxes: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.seconds = 0.0

    def predict_raw(self, images: list[np.ndarray], min_box_score: float) -> list[tuple[np.ndarray, np.ndarray]]:
        import hashlib

        out = []
        for img in images:
            key = hashlib.sha1(img.tobytes()).digest() + bytes(str(img.shape), "ascii")
            if key not in self._boxes:
                start = time.perf_counter()
                boxes, scores = self.detect(img)
                self.seconds += time.perf_counter() - start
                self._boxes[key] = (np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32))
            boxes, scores = self._boxes[key]
            keep = scores >= min_box_score
            out.append((boxes[keep], scores[keep]))
        return out

    @property
    def ms_per_image(self) -> float:
        return 1000.0 * self.seconds / max(len(self._boxes), 1)


def compare(name: str, ours: dict, theirs: dict) -> dict:
    """Ours minus the teacher's recall and precision, with a paired bootstrap interval over the same images."""
    a, b = np.asarray(ours["per_image_tp_fp_fn"]), np.asarray(theirs["per_image_tp_fp_fn"])
    recall_ci = difference_interval(a[:, 0], a[:, 0] + a[:, 2], b[:, 0], b[:, 0] + b[:, 2])
    precision_ci = difference_interval(a[:, 0], a[:, 0] + a[:, 1], b[:, 0], b[:, 0] + b[:, 1])
    d_recall, d_precision = ours["recall"] - theirs["recall"], ours["precision"] - theirs["precision"]
    print(f"{name:34s} recall {d_recall:+.3f} (95% {recall_ci[0]:+.2f} to {recall_ci[1]:+.2f})  "
          f"precision {d_precision:+.3f} (95% {precision_ci[0]:+.2f} to {precision_ci[1]:+.2f})")
    return {"recall_difference": d_recall, "recall_difference_interval95": list(recall_ci),
            "precision_difference": d_precision, "precision_difference_interval95": list(precision_ci)}


def time_frames(det: PersonDetector, frame: np.ndarray, repeats: int) -> tuple[float, float]:
    for _ in range(5):
        det.detect([frame])
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        det.detect([frame])
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts), min(ts)


def teacher_reports(args, ours: dict, both, both_kp) -> dict:
    """The teachers on the same held-out images, then ours minus each (the issue's "within 0.05")."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from teacher_runs import fused_detect, load_teachers, rtmdet_detect

    from ftppose_cli.training.teacher_labels import PERSON_SCORE

    script = load_teachers(args.teachers or Path(args.data) / "teachers")
    fused_conf = PERSON_SCORE if args.fused_conf is None else args.fused_conf
    teachers = {"RTMDet-nano 320": TeacherDetector(rtmdet_detect(script, 320), args.rtmdet_conf),
                "fused teachers": TeacherDetector(fused_detect(script, 0.0), fused_conf)}
    print("\nteachers on the same held-out images, same ground truth, matching and intervals (onnxruntime, 1 thread):")
    out = {}
    for label, teacher in teachers.items():
        out[label] = {"conf": teacher.min_box_score,
                      "heldout": report(f"{label}: heldout (bbox)", teacher, *both),
                      "heldout_kp115": report(f"{label}: heldout (kp-box)", teacher, *both_kp)}
        out[label]["ms_per_image"] = teacher.ms_per_image
        print(f"{'':34s} {teacher.ms_per_image:.0f} ms per held-out image (onnxruntime, 1 thread)")
    print(f"\nours (conf {ours['conf']:.2f}) minus the teacher, paired bootstrap over the same images:")
    for label in teachers:
        for key, variant in (("heldout", "bbox"), ("heldout_kp115", "kp-box")):
            out[label][f"ours_minus_teacher_{key}"] = compare(f"  vs {label} ({variant})", ours[key],
                                                              out[label][key])
    return out


def main() -> int:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(here / "weights" / "detector.safetensors"))
    ap.add_argument("--data", default=str(here.parent / "shared" / "data"))
    ap.add_argument("--cache", default="/work/cache/detector/frames512", help="frame cache of the val split")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--conf", type=float, default=None, help="override the stored threshold")
    ap.add_argument("--boxes", default=None,
                    help="score boxes saved in this JSON (benchmarks/teacher_boxes.py) instead of --weights")
    ap.add_argument("--fit-check", type=int, default=0, metavar="N",
                    help="also score the training scenes (every Nth frame) against the teacher, to tell "
                         "underfitting from overfitting")
    ap.add_argument("--teacher", action="store_true",
                    help="also score the labelling teachers (RTMDet-nano 320 alone, the fused boxes) on the held-out "
                         "images in this run; needs onnxruntime")
    ap.add_argument("--teachers", default=None, help="the teachers' ONNX folder (default DATA/teachers)")
    ap.add_argument("--rtmdet-conf", type=float, default=0.3, help="--teacher: RTMDet-nano's threshold")
    ap.add_argument("--fused-conf", type=float, default=None,
                    help="--teacher: the fused boxes' threshold (default 0.4, the labels' PERSON_SCORE)")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    root = Path(args.data) / "heldout"
    if args.boxes and not root.exists():
        raise SystemExit(f"{root} not found: --boxes scores held-out images only")
    if root.exists():
        c, p, pk = coco_heldout(root), posetrack_heldout(root, "bbox"), posetrack_heldout(root, "kp")
    if args.boxes:
        det = SavedBoxes(args.boxes, c[0] + p[0], c[3] + p[3], min_box_score=0.3 if args.conf is None else args.conf)
        print(f"saved boxes {args.boxes}, conf {det.min_box_score}")
    else:
        det = PersonDetector.from_checkpoint(args.weights, min_box_score=args.conf)
        print(f"detector {args.weights}: input {'+'.join(map(str, det.input_sizes))}, conf {det.min_box_score}, "
              f"torch threads {args.threads}, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    out = {"weights": args.boxes or args.weights, "conf": det.min_box_score}
    if root.exists():
        both = [a + b for a, b in zip(c[:3], p[:3])]
        out["heldout"] = report("heldout (COCO + PoseTrack18 bbox)", det, *both)
        out["coco"] = report("  COCO 4 images", det, *c[:3])
        out["posetrack_bbox"] = report("  PoseTrack18 3 frames, bbox", det, *p[:3])
        out["posetrack_kp115"] = report("  PoseTrack18 3 frames, kp-box x1.15", det, *pk[:3])
        both_kp = [a + b for a, b in zip(c[:3], pk[:3])]
        out["heldout_kp115"] = report("heldout (COCO + PoseTrack18 kp-box)", det, *both_kp)
        frame = c[0][0]
        if args.teacher and not args.boxes:
            out["teachers"] = teacher_reports(args, out, both, both_kp)
    else:
        print(f"{root} not found: skipping held-out accuracy")
        frame = None
    if args.boxes:
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1))
        return 0
    cache = Path(args.cache)
    if (cache / "index.json").exists():
        out["teacher_val"] = report("val scenes vs teacher (every 5th)", det, *teacher_frames(cache))
        if args.fit_check:
            out["teacher_train"] = report(f"train scenes vs teacher (every {args.fit_check}th)", det,
                                          *teacher_frames(cache, args.fit_check, "train"))
    else:
        print(f"{cache} not found: skipping val-split numbers")

    rng = np.random.default_rng(0)
    if frame is None:
        frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    f640x480 = cv2.resize(frame, (640, 480))
    med, best = time_frames(det, f640x480, args.repeats)
    print(f"latency 640x480 frame, batch 1, {args.threads} threads: median {med:.1f} ms (min {best:.1f} ms) "
          f"over {args.repeats} runs; load average now {os.getloadavg()[0]:.2f}")
    out["ms_640x480_median"], out["ms_640x480_min"] = med, best
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
