"""Label a corpus with the strong teachers: people boxes and 17 COCO keypoints for every frame.

Why a second labeller: the first corpus labels (``../shared/data/labels``: Yolo-Fastest boxes,
MediaPipe BlazePose) miss people in crowds and fail on about one crop in ten. This one uses the
teachers that ``../shared/data/teachers/README.md`` measured best here:

* boxes: RTMDet-nano at 320 px on the frame and on its mirror, YOLOX-nano at 416 px and, for
  frames larger than ``--large-from`` pixels, RTMDet-nano at 640 px (small people), merged by
  weighted box fusion, so a box that one model alone sees gets a lower score;
* keypoints: MoveNet Thunder on the square crop 1.25x the box's longer side, averaged with its
  run on the mirrored crop (left and right swapped back), with per-joint scores and the
  flip disagreement as a quality measure.

With ``--lspet DIR`` it also runs Thunder (with flip) on every LSPet image, on the box of its
ground-truth joints, for the face points LSPet lacks, and reports how well Thunder agrees with
the ground truth; and the box teachers on LSPet's training images (``lspet_boxes.json``), so the
detector also learns from its sports people, most of them large in the frame and many lying,
inverted or crouched, with the other people in the picture boxed too.

The output folder is a corpus that ``ftppose train --data`` and ``ftppose train-detector --data``
read: ``manifest.json``, ``videos`` and ``images`` linked to the source corpus, ``labels/`` in
schema ``ftppose-teacher-labels/2`` (one JSON per source file, every frame listed, empty frames
too) and ``lspet.json``. Files already labelled are skipped, so an interrupted run resumes.

Runs in the project's environment plus the labelling extra (``pip install -e ".[label]"``)::

    python scripts/label_corpus.py --data ../shared/data --out cache/corpus2 --lspet cache/lspet

It is a training-data tool: nothing in ``ftppose_cli`` imports it or the teachers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ftppose_cli.atomic import atomic_write_text  # noqa: E402
from ftppose_cli.evaluation.end_to_end import box_iou  # noqa: E402
from ftppose_cli.formats.joints import COCO_JOINTS  # noqa: E402
from ftppose_cli.training.detector_data import LSPET_BOXES  # noqa: E402
from ftppose_cli.video.sources import read_frames  # noqa: E402

SCHEMA = "ftppose-teacher-labels/2"
# Thunder's joints after a horizontal mirror: each left joint takes its right twin's place
COCO_MIRROR = [COCO_JOINTS.index(n.replace("left", "@").replace("right", "left").replace("@", "right"))
               for n in COCO_JOINTS]
BODY12 = list(range(5, 17))
CROP_PAD = 1.25  # Thunder's crop: side = CROP_PAD * the box's longer side, centred on the box
THUNDER_SIDE = 256
RTM_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
RTM_STD = np.array([57.375, 57.12, 58.395], np.float32)
LETTERBOX_PAD = 114
YOLOX_STRIDES = (8, 16, 32)
NMS_IOU = 0.45
FUSION_IOU = 0.55
KEEP_SCORE = 0.1  # fused boxes kept in the labels (the detector trainer picks its own threshold)
POSE_SCORE = 0.25  # fused boxes that get a Thunder pose
POSE_MIN_SIDE = 24  # ... and are at least this long on their longer side (pixels)
LARGE_INPUT_SCORE = 0.5  # RTMDet at 640 returns parts and duplicates at low scores (teachers README)
LSPET_BOX_GROWTH = 1.15  # LSPet's joint box -> a detector-like person box (joints lie inside the body)

_teachers: dict | None = None


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _init(teachers: str) -> None:
    global _teachers
    cv2.setNumThreads(1)
    warnings.filterwarnings("ignore", message="Zero area box skipped")  # boxes of the letterbox pad, dropped
    root = Path(teachers)
    _teachers = {
        "rtmdet": _session(root / "rtmdet-nano-person" / "rtmdet-nano-person.onnx"),
        "yolox": _session(root / "yolox-nano" / "yolox_nano_416.onnx"),
        "thunder": _session(root / "movenet-thunder" / "movenet-thunder.onnx"),
    }


def _letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    scale = min(side / h, side / w)
    canvas = np.full((side, side, 3), LETTERBOX_PAD, np.uint8)
    resized = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return canvas, scale


def rtmdet_boxes(image: np.ndarray, side: int) -> np.ndarray:
    """``(n, 5)`` x0, y0, x1, y1, score in image pixels (NMS is inside the model)."""
    canvas, scale = _letterbox(image, side)
    blob = ((canvas.astype(np.float32) - RTM_MEAN) / RTM_STD).transpose(2, 0, 1)[None]
    dets, labels = _teachers["rtmdet"].run(None, {"input": np.ascontiguousarray(blob)})
    dets = dets[0][labels[0] == 0]
    dets[:, :4] /= scale
    return dets.astype(np.float32)


def yolox_boxes(image: np.ndarray, side: int = 416) -> np.ndarray:
    """``(n, 5)`` person boxes from YOLOX-nano's raw head: decode the grid, score = objectness * person, NMS."""
    import torch
    from torchvision.ops import nms

    canvas, scale = _letterbox(image, side)
    out = _teachers["yolox"].run(None, {"images": canvas.astype(np.float32).transpose(2, 0, 1)[None]})[0][0]
    grids, strides = [], []
    for stride in YOLOX_STRIDES:
        n = side // stride
        gy, gx = np.mgrid[0:n, 0:n]
        grids.append(np.stack([gx.ravel(), gy.ravel()], 1))
        strides.append(np.full(n * n, stride))
    grid, stride = np.concatenate(grids).astype(np.float32), np.concatenate(strides)[:, None].astype(np.float32)
    centre = (out[:, :2] + grid) * stride
    size = np.exp(out[:, 2:4]) * stride
    score = out[:, 4] * out[:, 5]
    keep = score >= KEEP_SCORE / 2
    boxes = np.concatenate([centre - size / 2, centre + size / 2], 1)[keep] / scale
    score = score[keep]
    order = nms(torch.from_numpy(boxes), torch.from_numpy(score), NMS_IOU).numpy()
    return np.concatenate([boxes[order], score[order, None]], 1).astype(np.float32)


def _mirror_boxes(boxes: np.ndarray, width: int) -> np.ndarray:
    out = boxes.copy()
    out[:, 0], out[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return out


def detect_people(image: np.ndarray, large_from: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Fused ``(n, 5)`` boxes and each teacher view's own boxes (for the record)."""
    from ensemble_boxes import weighted_boxes_fusion

    h, w = image.shape[:2]
    views = {
        "rtmdet320": rtmdet_boxes(image, 320),
        "rtmdet320_flip": _mirror_boxes(rtmdet_boxes(np.ascontiguousarray(image[:, ::-1]), 320), w),
        "yolox416": yolox_boxes(image),
    }
    if max(h, w) >= large_from:
        large = rtmdet_boxes(image, 640)
        views["rtmdet640"] = large[large[:, 4] >= LARGE_INPUT_SCORE]
    norm = np.array([w, h, w, h], np.float32)
    clipped = [np.concatenate([np.clip(v[:, :4] / norm, 0, 1), v[:, 4:5]], 1) for v in views.values()]
    # YOLOX also boxes the letterbox padding below or beside the frame: clipped, they are lines
    clipped = [c[((c[:, 2] - c[:, 0]) * w >= 2) & ((c[:, 3] - c[:, 1]) * h >= 2)] for c in clipped]
    boxes = [c[:, :4].tolist() for c in clipped]
    scores = [c[:, 4].tolist() for c in clipped]
    labels = [[0] * len(c) for c in clipped]
    fused, fused_scores, _ = weighted_boxes_fusion(boxes, scores, labels, iou_thr=FUSION_IOU,
                                                   skip_box_thr=KEEP_SCORE / 2)
    fused = np.concatenate([np.asarray(fused, np.float32).reshape(-1, 4) * norm,
                            np.asarray(fused_scores, np.float32).reshape(-1, 1)], 1)
    fused = fused[fused[:, 4] >= KEEP_SCORE]
    return fused[np.argsort(-fused[:, 4])], views


def _crop(image: np.ndarray, box_xyxy: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The square Thunder crop (black outside the image) and its ``(x0, y0, side)`` in image pixels."""
    x0, y0, x1, y1 = box_xyxy[:4]
    side = CROP_PAD * max(x1 - x0, y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = cx - side / 2, cy - side / 2
    s = THUNDER_SIDE / side
    affine = np.array([[s, 0, -s * left], [0, s, -s * top]], np.float32)
    crop = cv2.warpAffine(image, affine, (THUNDER_SIDE, THUNDER_SIDE),
                          flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crop, (float(left), float(top), float(side))


def _thunder(crop_rgb: np.ndarray) -> np.ndarray:
    out = _teachers["thunder"].run(None, {"input:0": crop_rgb[None].astype(np.int32)})[0]
    return out[0, 0]  # (17, 3): y, x, score in the crop, 0-1


def thunder_pose(image_bgr: np.ndarray, box_xyxy: np.ndarray) -> tuple[np.ndarray, float, tuple]:
    """Keypoints ``(17, 3)`` x, y (image pixels), score: the crop and its mirror averaged.

    Also returns the flip disagreement over the 12 body joints (mean distance in crop sides,
    0.02 = 2 % of the crop) and the crop ``(x0, y0, side)``.
    """
    crop, (left, top, side) = _crop(image_bgr, box_xyxy)
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    plain = _thunder(rgb)
    mirrored = _thunder(np.ascontiguousarray(rgb[:, ::-1]))[COCO_MIRROR]
    mirrored[:, 1] = 1.0 - mirrored[:, 1]
    flip_err = float(np.linalg.norm(plain[BODY12, :2] - mirrored[BODY12, :2], axis=1).mean())
    mean = (plain + mirrored) / 2
    kp = np.stack([left + mean[:, 1] * side, top + mean[:, 0] * side, mean[:, 2]], 1)
    return kp.astype(np.float32), flip_err, (left, top, side)


def _round(values, digits: int = 2) -> list:
    return [round(float(v), digits) for v in values]


def label_frame(image: np.ndarray, large_from: int) -> list[dict]:
    h, w = image.shape[:2]
    boxes, views = detect_people(image, large_from)
    persons = []
    for box in boxes:
        x0, y0 = max(0.0, box[0]), max(0.0, box[1])
        x1, y1 = min(float(w), box[2]), min(float(h), box[3])
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        person = {"box": _round([x0, y0, x1 - x0, y1 - y0], 1), "score": round(float(box[4]), 3),
                  "votes": {name: _best_overlap(box, v) for name, v in views.items()}}
        if box[4] >= POSE_SCORE and max(x1 - x0, y1 - y0) >= POSE_MIN_SIDE:
            kp, flip_err, crop = thunder_pose(image, np.array([x0, y0, x1, y1], np.float32))
            person["crop"] = _round(crop, 1)
            person["kp"] = [_round(k[:2], 1) + [round(float(k[2]), 3)] for k in kp]
            person["flip_err"] = round(flip_err, 4)
        persons.append(person)
    return persons


def _best_overlap(box: np.ndarray, view: np.ndarray) -> float:
    """The score of the view's box that overlaps ``box`` best (IoU >= 0.5), 0 if none: who saw this person."""
    seen = box_iou(box[:4], view[:, :4])[0] >= 0.5
    return round(float(view[seen, 4].max()), 3) if seen.any() else 0.0


def label_source(task: tuple[str, str, str, str, int, int]) -> tuple[str, int, float]:
    """Label one video or image; writes its JSON atomically. Returns (source, frames, seconds)."""
    data, out, source, kind, stride, large_from = task
    start = time.perf_counter()
    path = Path(data) / source
    frames, width, height, count = [], 0, 0, 0
    for index, image in read_frames(path):
        height, width = image.shape[:2]
        if index % stride == 0:
            frames.append({"frame": index, "persons": label_frame(image, large_from)})
        count = index + 1
    seconds = time.perf_counter() - start
    labels = {
        "schema": SCHEMA, "source": source, "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "kind": kind, "width": width, "height": height, "num_frames": count, "frame_stride": stride,
        "teachers": {"boxes": "weighted box fusion (IoU 0.55, mean score over views) of RTMDet-nano person 320 "
                              "+ its mirror, YOLOX-nano 416, and RTMDet-nano 640 (scores >= 0.5) on frames "
                              f">= {large_from} px", "pose": "MoveNet Thunder + mirror, averaged"},
        "keypoint_names": list(COCO_JOINTS), "seconds": round(seconds, 1), "frames": frames,
    }
    atomic_write_text(Path(out) / "labels" / f"{source}.json", json.dumps(labels, separators=(",", ":")),
                      overwrite=True)
    return source, len(frames), seconds


def _lspet_images(root: str, indices: list[int]):
    """``(index, name under root, BGR image)`` of the LSPet images that read."""
    for i in indices:
        name = f"images/im{i + 1:05d}.jpg"
        image = cv2.imread(str(Path(root) / name), cv2.IMREAD_COLOR)
        if image is not None:
            yield i, name, image


def label_lspet_chunk(task: tuple[str, list[int]]) -> list[dict]:
    """Thunder (with flip) on LSPet images, each on the box of its ground-truth joints."""
    root, indices = task
    from scipy.io import loadmat

    joints = loadmat(str(Path(root) / "joints.mat"))["joints"]  # (14, 3, N): x, y, visible
    rows = []
    for i, name, image in _lspet_images(root, indices):
        box = lspet_box(joints[:, :, i], image.shape[1], image.shape[0])
        kp, flip_err, crop = thunder_pose(image, box)
        rows.append({"index": i, "image": name, "width": image.shape[1], "height": image.shape[0],
                     "box": _round([box[0], box[1], box[2] - box[0], box[3] - box[1]], 1), "crop": _round(crop, 1),
                     "kp": [_round(k[:2], 1) + [round(float(k[2]), 3)] for k in kp], "flip_err": round(flip_err, 4)})
    return rows


def label_lspet_boxes_chunk(task: tuple[str, list[int], int]) -> list[dict]:
    """The fused teacher boxes (as for corpus frames) of LSPet images: every person, not only the labelled one."""
    root, indices, large_from = task
    rows = []
    for i, name, image in _lspet_images(root, indices):
        boxes, _ = detect_people(image, large_from)
        rows.append({"index": i, "image": name, "width": image.shape[1], "height": image.shape[0],
                     "boxes": [_round([b[0], b[1], b[2] - b[0], b[3] - b[1]], 1) + [round(float(b[4]), 3)]
                               for b in boxes]})
    return rows


def lspet_box(joints: np.ndarray, width: int, height: int) -> np.ndarray:
    """The person box of one LSPet person: their in-image joints' tight box grown by LSPET_BOX_GROWTH."""
    xy = joints[:, :2]
    inside = (xy[:, 0] > 0) & (xy[:, 1] > 0) & (xy[:, 0] < width) & (xy[:, 1] < height)
    xy = xy[inside] if inside.sum() >= 2 else np.array([[0, 0], [width, height]], np.float32)
    lo, hi = xy.min(0), xy.max(0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * LSPET_BOX_GROWTH + 4
    lo, hi = np.maximum(centre - half, 0), np.minimum(centre + half, [width, height])
    return np.array([lo[0], lo[1], hi[0], hi[1]], np.float32)


def report_lspet(out: Path) -> dict:
    """How Thunder agrees with LSPet's ground truth, and the head-joint fit ``teacher_labels`` uses.

    * PCK@0.1 / 0.2 (box's longer side) of Thunder on LSPet's 12 limb joints, train and val split;
    * per score band, the share of Thunder's limb joints within 0.1 of the truth: where a score
      stops meaning "right" (``THUNDER_VISIBLE``);
    * ``HEAD_FROM_FACE``: least squares of LSPet's neck and head top on Thunder's face points,
      on the training images only.
    """
    from scipy.io import loadmat

    from ftppose_cli.formats.lspet import LSPET_JOINTS, LSPET_VAL_COUNT
    from ftppose_cli.training.teacher_labels import fit_head_from_face

    record = json.loads((out / "lspet.json").read_text())
    joints = loadmat(str(Path(record["root"]) / "joints.mat"))["joints"]
    total = joints.shape[2]
    coco = {name: i for i, name in enumerate(COCO_JOINTS)}
    limbs = [(k, coco[name]) for k, name in enumerate(LSPET_JOINTS) if name in coco]
    rows = {"train": [], "val": []}
    for row in record["people"]:
        rows["val" if row["index"] >= total - LSPET_VAL_COUNT else "train"].append(row)
    report: dict = {}
    for split, people in rows.items():
        errors, scores = [], []
        for row in people:
            gt = joints[:, :, row["index"]]
            kp = np.asarray(row["kp"], np.float32)
            side = max(row["box"][2], row["box"][3])
            for k, c in limbs:
                if gt[k, 2] > 0:
                    errors.append(np.linalg.norm(kp[c, :2] - gt[k, :2]) / side)
                    scores.append(kp[c, 2])
        errors, scores = np.asarray(errors), np.asarray(scores)
        report[split] = {"people": len(people), "pck@0.1": float((errors <= 0.1).mean()),
                         "pck@0.2": float((errors <= 0.2).mean())}
        if split == "train":
            bands = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 1.01]
            report["right_within_0.1_by_score"] = {
                f"{lo:.1f}-{hi:.1f}": [int(((scores >= lo) & (scores < hi)).sum()),
                                       float((errors[(scores >= lo) & (scores < hi)] <= 0.1).mean())]
                for lo, hi in zip(bands[:-1], bands[1:]) if ((scores >= lo) & (scores < hi)).any()}
    face = [coco[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                              "right_shoulder")]
    for name in ("head_top", "head_bottom"):
        k = LSPET_JOINTS.index(name)
        used = [r for r in rows["train"] if joints[k, 2, r["index"]] > 0
                and np.asarray(r["kp"], np.float32)[face, 2].min() >= 0.3]
        kp = np.stack([np.asarray(r["kp"], np.float32) for r in used])
        target = np.stack([joints[k, :2, r["index"]] for r in used]).astype(np.float32)
        coef, error = fit_head_from_face(kp, target, np.array([max(r["box"][2:]) for r in used]))
        report[f"fit_{name}"] = {"people": len(used), "coef": [round(c, 3) for c in coef],
                                 "median_error_in_box_sides": round(error, 4)}
    print(json.dumps(report, indent=1))
    return report


def report_agreement(out: Path, data: Path) -> dict:
    """The new labels against the first corpus labels (``DATA/labels``: Yolo-Fastest + BlazePose).

    Boxes: the share of old boxes that a new box (fused score >= 0.4) matches at IoU >= 0.5, and
    the reverse. Poses: for people both labellers kept (each schema's training filter), PCK@0.1 /
    0.2 of the box side between the two on the 12 limb joints both were sure of. Speed: the
    labelling seconds per frame the files record.
    """
    from ftppose_cli.training.teacher_labels import _passes_filter, _passes_filter_v2, blazepose_to_posetrack

    old_found = old_total = new_found = new_total = frames = 0
    seconds, errors = 0.0, []
    for new_path in sorted((out / "labels").rglob("*.json")):
        new = json.loads(new_path.read_text())
        old_path = data / "labels" / new_path.relative_to(out / "labels")
        if not old_path.exists():
            continue
        old = {f["frame"]: f["persons"] for f in json.loads(old_path.read_text())["frames"]}
        seconds += new["seconds"]
        for frame in new["frames"]:
            frames += 1
            sure = [p for p in frame["persons"] if p["score"] >= 0.4]
            before = old.get(frame["frame"], [])
            overlap = box_iou(_xyxy(before), _xyxy(sure)) >= 0.5  # (old, new)
            old_total, new_total = old_total + len(before), new_total + len(sure)
            old_found += int(overlap.any(1).sum())
            new_found += int(overlap.any(0).sum())
            posed = np.array([_passes_filter_v2(p) for p in sure], bool)
            for i, person in enumerate(before):
                match = np.flatnonzero(overlap[i] & posed)
                if not _passes_filter(person) or not len(match):
                    continue
                _, _, w, h = person["box"]
                old_xy, old_vis = blazepose_to_posetrack(np.asarray(person["pose"]["kp"], np.float32))
                kp = np.asarray(sure[match[0]]["kp"], np.float32)
                limbs = list(range(5, 17))  # COCO and PoseTrack agree on the limb joints' order from 5 on
                sure_joints = (old_vis[limbs] >= 0.5) & (kp[limbs, 2] >= 0.3)
                d = np.linalg.norm(old_xy[limbs] - kp[limbs, :2], axis=1) / max(w, h)
                errors.extend(d[sure_joints].tolist())
    errors = np.asarray(errors)
    report = {"frames": frames, "old_boxes": old_total, "old_boxes_matched_by_new": old_found / max(old_total, 1),
              "new_boxes": new_total, "new_boxes_matched_by_old": new_found / max(new_total, 1),
              "joints_compared": len(errors), "pose_agreement_pck@0.1": float((errors <= 0.1).mean()),
              "pose_agreement_pck@0.2": float((errors <= 0.2).mean()),
              "labelling_seconds_per_frame": seconds / max(frames, 1)}
    print(json.dumps(report, indent=1))
    return report


def _xyxy(persons: list[dict]) -> np.ndarray:
    return np.array([[x, y, x + w, y + h] for x, y, w, h in (p["box"] for p in persons)], np.float32).reshape(-1, 4)


def _link(out: Path, data: Path) -> None:
    for name in ("manifest.json", "videos", "images"):
        link = out / name
        if not link.exists():
            link.symlink_to((data / name).resolve())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="source corpus (manifest.json, videos/, images/)")
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to write (resumes)")
    parser.add_argument("--teachers", type=Path, help="teacher models (default: DATA/teachers)")
    parser.add_argument("--lspet", type=Path, help="LSPet folder (images/, joints.mat) to give face points")
    parser.add_argument("--stride", type=int, default=1, help="label every n-th video frame (default: every frame)")
    parser.add_argument("--large-from", type=int, default=960,
                        help="frames whose longer side is at least this also get RTMDet at 640 px")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="label only these sources (paths under DATA)")
    parser.add_argument("--report", action="store_true", help="only print the LSPet agreement and head fit of OUT")
    args = parser.parse_args()
    if args.report:
        report_agreement(args.out, args.data)
        if (args.out / "lspet.json").exists():
            report_lspet(args.out)
        return 0
    teachers = args.teachers or args.data / "teachers"
    args.out.mkdir(parents=True, exist_ok=True)
    _link(args.out, args.data)
    manifest = json.loads((args.data / "manifest.json").read_text())
    entries = [(e["file"], group[:-1], e.get("frames", 1)) for group, items in manifest.items() for e in items]
    if args.only:
        entries = [e for e in entries if e[0] in set(args.only)]
    todo = [(str(args.data), str(args.out), f, kind, args.stride, args.large_from) for f, kind, _ in
            sorted(entries, key=lambda e: -e[2]) if not (args.out / "labels" / f"{f}.json").exists()]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers, _init, (str(teachers),)) as pool:
        for done, (source, frames, seconds) in enumerate(pool.imap_unordered(label_source, todo), 1):
            print(f"[{done}/{len(todo)}] {source}: {frames} frames in {seconds:.0f} s", flush=True)
        if args.lspet and not (args.out / "lspet.json").exists():
            from scipy.io import loadmat

            count = loadmat(str(args.lspet / "joints.mat"))["joints"].shape[2]
            chunks = [(str(args.lspet), list(range(i, min(i + 250, count)))) for i in range(0, count, 250)]
            rows = []
            for done, chunk in enumerate(pool.imap(label_lspet_chunk, chunks), 1):
                rows.extend(chunk)
                print(f"LSPet {done * 250}/{count}", flush=True)
            record = {"schema": SCHEMA + "+lspet", "root": str(args.lspet.resolve()),
                      "keypoint_names": list(COCO_JOINTS),
                      "box": f"ground-truth joints' tight box grown {LSPET_BOX_GROWTH}x", "people": rows}
            atomic_write_text(args.out / "lspet.json", json.dumps(record, separators=(",", ":")), overwrite=True)
        if args.lspet and not (args.out / LSPET_BOXES).exists():
            from scipy.io import loadmat

            from ftppose_cli.formats.lspet import LSPET_VAL_COUNT

            train = loadmat(str(args.lspet / "joints.mat"))["joints"].shape[2] - LSPET_VAL_COUNT  # val: never
            chunks = [(str(args.lspet), list(range(i, min(i + 250, train))), args.large_from)
                      for i in range(0, train, 250)]
            rows = []
            for done, chunk in enumerate(pool.imap(label_lspet_boxes_chunk, chunks), 1):
                rows.extend(chunk)
                print(f"LSPet boxes {min(done * 250, train)}/{train}", flush=True)
            record = {"schema": SCHEMA + "+lspet-boxes", "root": str(args.lspet.resolve()),
                      "boxes": "x, y, w, h, fused score (the corpus frames' teachers and fusion)", "images": rows}
            atomic_write_text(args.out / LSPET_BOXES, json.dumps(record, separators=(",", ":")), overwrite=True)
    if (args.out / "lspet.json").exists():
        report_lspet(args.out)
    print(f"done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
