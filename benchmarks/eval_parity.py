"""Parity harness: `ftppose eval` against the official evaluators on random PoseTrack cases.

Each case is a few random sequences written as PoseTrack files (crowds,
occluded and invisible joints, jitter, left/right swaps, missed and extra
people, duplicates, track switches, sparse labelled frames, ignore regions,
whole-pixel coordinates that land exactly on the hit radius, tied and
missing scores). The official tool scores it in its own virtual environment,
as a subprocess; ftppose scores the same files; the largest difference of
every figure over all cases is printed.

The official tools are not part of ftppose and are never imported by it:
check them out (``leonid-pishchulin/poseval``, ``anDoer/PoseTrack21``) and
give each its own virtual environment, unchanged. Both rank tied scores with
numpy's unstable argsort, whose tie order changed in numpy 1.25 (AVX-512) and
2.0 (AVX2); pin the numpy they were written for (the kit pins 1.22, which has
no Python 3.11 wheel; 1.23.5 is the same sort and still has ``np.int``)::

    python -m venv /work/oracle/venv18 && /work/oracle/venv18/bin/pip install numpy==1.23.5 pandas==2.0.3 \
        scipy==1.10.1 shapely==2.0.1 motmetrics==1.4.0 click tqdm
    python -m venv /work/oracle/venv21 && /work/oracle/venv21/bin/pip install numpy==1.23.5 scipy==1.10.1 \
        shapely==2.0.1 tqdm
    python benchmarks/eval_parity.py --cases 200 --oracle-python /work/oracle/venv18/bin/python \
        --poseval /work/oracle/poseval                          # PoseTrack18: poseval (-e -t)
    python benchmarks/eval_parity.py --version 21 --cases 200 --oracle-python /work/oracle/venv21/bin/python \
        --pt21 /work/oracle/pt21/eval/posetrack21               # PoseTrack21: the kit (HOTA, PosemAP)

``--record FILE --record-cases N`` writes the first N cases' seeds, a digest
of their files and the oracle's numbers as the fixture that
``tests/evaluation/test_official_parity.py`` checks without the oracle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WIDTH, HEIGHT = 1280, 720
JOINTS = ("nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
          "right_knee", "left_ankle", "right_ankle")
EARS = (3, 4)
LEFT_RIGHT = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
# A standing person, x and y in person heights from the hip centre (y down).
TEMPLATE = np.array([(0, -0.42), (0, -0.36), (0, -0.52), (0.04, -0.44), (-0.04, -0.44), (0.1, -0.32),
                     (-0.1, -0.32), (0.14, -0.17), (-0.14, -0.17), (0.16, -0.03), (-0.16, -0.03), (0.07, 0.0),
                     (-0.07, 0.0), (0.08, 0.24), (-0.08, 0.24), (0.08, 0.48), (-0.08, 0.48)])
# poseval's 15 scored joints in its id order (0 right_ankle ... 14 head_top), which its output files use.
POSEVAL_JOINTS = ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
                  "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "head_bottom",
                  "nose", "head_top")
# The PoseTrack21 kit's order (the file order without the ears).
KIT_JOINTS = tuple(name for i, name in enumerate(JOINTS) if i not in EARS)
GROUPS = {"Head": ("head_top", "head_bottom", "nose"), "Shoulder": ("right_shoulder", "left_shoulder"),
          "Elbow": ("right_elbow", "left_elbow"), "Wrist": ("right_wrist", "left_wrist"),
          "Hip": ("right_hip", "left_hip"), "Knee": ("right_knee", "left_knee"),
          "Ankle": ("right_ankle", "left_ankle")}
CATEGORY = {"supercategory": "person", "id": 1, "name": "person", "keypoints": list(JOINTS), "skeleton": []}


# ------------------------------------------------------------------------------------------------ cases


class _CaseStyle:
    """The knobs one case turns, drawn once so that cases differ in kind, not only in noise."""

    def __init__(self, rng: np.random.Generator, version: str) -> None:
        self.version = version
        self.whole_pixels = rng.random() < 0.4  # official GT is whole pixels: distances land on 0.5 exactly
        self.crowd = rng.random() < 0.3
        self.occlusion = rng.uniform(0.0, 0.4)
        self.invisible_listed = rng.uniform(0.0, 0.5)  # of the occluded GT joints: listed with v=0, not dropped
        self.jitter = float(rng.choice([0.05, 0.15, 0.3, 0.5, 0.8]))  # in head sizes
        self.miss = rng.uniform(0.0, 0.3)
        self.swap = rng.uniform(0.0, 0.3)
        self.extra = rng.uniform(0.0, 0.4)
        self.duplicate = rng.uniform(0.0, 0.2)
        self.joint_drop = rng.uniform(0.0, 0.3)
        self.track_switch = rng.uniform(0.0, 0.3)
        self.ignore = rng.uniform(0.0, 0.5)
        modes = ["uniform", "quantized", "constant", "per_person"]
        modes += ["missing", "absent"] if version == "18" else ["absent"]
        self.scores = str(rng.choice(modes))
        self.shuffled_category = version == "18" and rng.random() < 0.2  # poseval maps joints by name


def build_case(seed: int, version: str = "18") -> dict[str, tuple[dict, dict]]:
    """``{sequence name: (ground truth document, prediction document)}`` for one random case."""
    rng = np.random.default_rng(seed)
    style = _CaseStyle(rng, version)
    names = rng.choice(1000, size=int(rng.integers(1, 5)), replace=False)
    return {f"{int(n):06d}_mpii_test": _sequence(rng, style, f"{int(n):06d}_mpii_test") for n in names}


def _labelled_frames(rng: np.random.Generator, frames: int, occupied: np.ndarray) -> np.ndarray:
    """Dense, every k-th or random; at least two with somebody in them (poseval stops on one)."""
    kind = rng.integers(3)
    if kind == 0:
        labelled = np.ones(frames, bool)
    elif kind == 1:
        labelled = np.arange(frames) % int(rng.integers(2, 5)) == 0
    else:
        labelled = rng.random(frames) < 0.4
    if (labelled & occupied).sum() < 2:
        labelled[rng.choice(np.flatnonzero(occupied), 2, replace=False)] = True
    return labelled


def _sequence(rng: np.random.Generator, style: _CaseStyle, name: str) -> tuple[dict, dict]:
    frames = int(rng.integers(3, 21))
    tracks = int(rng.integers(6, 14)) if style.crowd else int(rng.integers(1, 7))
    spread = 0.25 if style.crowd else 1.0
    height = rng.uniform(90, 380, tracks)
    centre = np.stack([rng.uniform(WIDTH * (0.5 - spread / 2.2), WIDTH * (0.5 + spread / 2.2), tracks),
                       rng.uniform(HEIGHT * 0.35, HEIGHT * 0.65, tracks)], axis=1)
    velocity = rng.normal(0, 4, (tracks, 2))
    shape = rng.normal(0, 0.03, (tracks, len(JOINTS), 2))
    first = rng.integers(0, max(1, frames // 2), tracks)
    last = np.minimum(frames, first + rng.integers(2, frames + 1, tracks))
    if rng.random() < 0.8 or tracks == 1:
        first[0], last[0] = 0, frames
    occupied = np.array([((first <= f) & (f < last)).any() for f in range(frames)])
    labelled = _labelled_frames(rng, frames, occupied)
    if style.version == "21":
        labelled &= occupied  # the kit stops on a labelled frame without anybody (no head sizes to read)
    gt_tracks = rng.permutation(50)[:tracks]
    pred_ids = {t: int(rng.integers(0, 9999)) for t in range(tracks)}
    while len(set(pred_ids.values())) < tracks:
        pred_ids = {t: int(rng.integers(0, 9999)) for t in range(tracks)}
    switch_frame = {t: int(rng.integers(0, frames)) for t in range(tracks) if rng.random() < style.track_switch}

    gt_images, gt_annotations, pred_images, pred_annotations = [], [], [], []
    for f in range(frames):
        image_id = int(f"1{name[:6]}{f:04d}")
        image = {"id": image_id, "file_name": f"images/val/{name}/{f:06d}.jpg", "frame_id": image_id,
                 "vid_id": name[:6], "nframes": frames, "is_labeled": bool(labelled[f]), "has_no_densepose": True,
                 "width": WIDTH, "height": HEIGHT}
        present = [t for t in range(tracks) if first[t] <= f < last[t]]
        poses = {t: (centre[t] + velocity[t] * f + (TEMPLATE + shape[t] + rng.normal(0, 0.01, shape[t].shape))
                     * height[t]) for t in present}
        gt_people = [_gt_person(rng, style, poses[t], height[t], int(gt_tracks[t]), image_id,
                                len(gt_annotations) + k) for k, t in enumerate(present)] if labelled[f] else []
        regions = _ignore_regions(rng, style, poses, height) if labelled[f] else []
        if style.version == "21" and regions and not _someone_stays(gt_people, regions):
            regions = []  # the kit stops when ignore regions leave a labelled frame without anybody
        if regions or style.version == "21":
            image["ignore_regions_x"] = [[float(x) for x, _ in region] for region in regions]
            image["ignore_regions_y"] = [[float(y) for _, y in region] for region in regions]
        gt_images.append(image)
        pred_images.append({k: v for k, v in image.items() if not k.startswith("ignore_regions")})
        gt_annotations += gt_people
        people = _predicted_people(rng, style, poses, height, pred_ids, switch_frame, f)
        for track_id, xy, visible in people:
            pred_annotations.append(_pred_person(rng, style, xy, visible, track_id, image_id,
                                                 len(pred_annotations)))
    gt = {"images": gt_images, "annotations": gt_annotations, "categories": [CATEGORY]}
    category = dict(CATEGORY)
    if style.shuffled_category:
        order = rng.permutation(len(JOINTS))
        category["keypoints"] = [JOINTS[i] for i in order]
        for annotation in pred_annotations:
            rows = np.array(annotation["keypoints"], dtype=object).reshape(len(JOINTS), 3)[order]
            annotation["keypoints"] = rows.reshape(-1).tolist()
            if annotation.get("scores"):
                annotation["scores"] = [annotation["scores"][i] for i in order]
    pred = {"images": pred_images, "annotations": pred_annotations, "categories": [category]}
    return gt, pred


def _number(value: float, whole: bool) -> int | float:
    return round(value) if whole else round(float(value), 2)


def _ignore_regions(rng: np.random.Generator, style: _CaseStyle, poses: dict[int, np.ndarray],
                    height: np.ndarray) -> list[list[tuple[float, float]]]:
    regions = []
    while rng.random() < style.ignore and len(regions) < 3:
        if poses and rng.random() < 0.6:  # over (part of) somebody
            t = list(poses)[int(rng.integers(len(poses)))]
            cx, cy = poses[t][int(rng.integers(len(JOINTS)))]
            size = height[t] * rng.uniform(0.1, 0.8)
        else:
            cx, cy, size = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(20, 300)
        if rng.random() < 0.5:
            corners = [(cx - size, cy - size), (cx + size, cy - size), (cx + size, cy + size), (cx - size, cy + size)]
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 8))))
            radii = size * rng.uniform(0.3, 1.2, len(angles))
            corners = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a, r in zip(angles, radii)]
        regions.append([(float(round(x)), float(round(y))) for x, y in corners])
    return regions


def _someone_stays(people: list[dict], regions: list[list[tuple[float, float]]]) -> bool:
    """True when some annotated joint is clear of every region's bounding box by more than a pixel."""
    boxes = [(min(x for x, _ in r) - 1, min(y for _, y in r) - 1, max(x for x, _ in r) + 1, max(y for _, y in r) + 1)
             for r in regions]
    for person in people:
        for x, y, _ in np.reshape(person["keypoints"], (-1, 3)).tolist():
            if x > 0 and y > 0 and not any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in boxes):
                return True
    return False


def _gt_person(rng: np.random.Generator, style: _CaseStyle, xy: np.ndarray, height: float, track_id: int,
               image_id: int, index: int) -> dict:
    whole = style.whole_pixels or rng.random() < 0.5
    keypoints = []
    empty = rng.random() < 0.03  # a person with no annotated joint
    for j in range(len(JOINTS)):
        occluded = empty or j in EARS or rng.random() < style.occlusion
        if occluded and (empty or j in EARS or rng.random() >= style.invisible_listed):
            keypoints += [0, 0, 0]
        else:
            keypoints += [_number(xy[j, 0], whole), _number(xy[j, 1], whole), 0 if occluded else 1]
    head_centre = (xy[1] + xy[2]) / 2
    size = np.array([0.13, 0.17]) * height * rng.uniform(0.8, 1.2, 2)
    if style.whole_pixels:
        size = np.maximum(np.round(size), 4)
    head = [_number(head_centre[0] - size[0] / 2, whole), _number(head_centre[1] - size[1] / 2, whole),
            _number(size[0], whole), _number(size[1], whole)]
    low, high = xy.min(axis=0), xy.max(axis=0)
    person = {"id": index, "image_id": image_id, "category_id": 1, "track_id": track_id, "keypoints": keypoints,
              "scores": [], "bbox_head": head,
              "bbox": [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]}
    if style.version == "21":
        person["person_id"] = track_id + 1000
    return person


def _predicted_people(rng: np.random.Generator, style: _CaseStyle, poses: dict[int, np.ndarray],
                      height: np.ndarray, pred_ids: dict[int, int], switch_frame: dict[int, int],
                      frame: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(track id, xy (17, 2), listed (17,)) per predicted person, track ids unique in the frame."""
    people: list[tuple[int, np.ndarray, np.ndarray]] = []
    used: set[int] = set()
    ids = dict(pred_ids)
    switched = sorted(t for t, f in switch_frame.items() if frame >= f and t in poses)
    for a, b in zip(switched[::2], switched[1::2]):  # two tracks trade ids from their switch frame on
        ids[a], ids[b] = ids[b], ids[a]
    for t, xy in poses.items():
        if rng.random() < style.miss:
            continue
        head_size = 0.6 * np.hypot(0.13, 0.17) * height[t]
        guess = xy + rng.normal(0, style.jitter * head_size, xy.shape)
        if rng.random() < style.swap:
            pairs = LEFT_RIGHT if rng.random() < 0.5 else [LEFT_RIGHT[int(rng.integers(len(LEFT_RIGHT)))]]
            for left, right in pairs:
                guess[[left, right]] = guess[[right, left]]
        if style.whole_pixels and rng.random() < 0.5:
            guess = np.round(xy + np.round(rng.normal(0, style.jitter * head_size, xy.shape)))
        listed = rng.random(len(JOINTS)) >= style.joint_drop
        people.append((ids[t], guess, listed))
        used.add(ids[t])
        if rng.random() < style.duplicate:  # a second guess at the same person
            people.append((_fresh_id(rng, used), guess + rng.normal(0, 0.3 * head_size, xy.shape),
                           rng.random(len(JOINTS)) >= style.joint_drop))
    while rng.random() < style.extra and len(people) < 20:  # somebody who is not there
        h = rng.uniform(90, 380)
        xy = np.array([rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)]) + TEMPLATE * h
        people.append((_fresh_id(rng, used), xy, rng.random(len(JOINTS)) >= style.joint_drop))
    order = rng.permutation(len(people))  # file order is not track order
    return [people[i] for i in order]


def _fresh_id(rng: np.random.Generator, used: set[int]) -> int:
    while True:
        track_id = int(rng.integers(0, 9999))
        if track_id not in used:
            used.add(track_id)
            return track_id


def _pred_person(rng: np.random.Generator, style: _CaseStyle, xy: np.ndarray, listed: np.ndarray, track_id: int,
                 image_id: int, index: int) -> dict:
    whole = style.whole_pixels and rng.random() < 0.5
    xy = np.clip(xy, -30, [WIDTH + 30, HEIGHT + 30])
    keypoints = []
    for j in range(len(JOINTS)):
        if listed[j]:
            keypoints += [_number(xy[j, 0], whole), _number(xy[j, 1], whole), int(rng.random() < 0.8)]
        else:
            keypoints += [0, 0, 0]
    person: dict[str, Any] = {"id": index, "image_id": image_id, "category_id": 1, "track_id": track_id,
                              "keypoints": keypoints}
    if style.scores == "uniform":
        person["scores"] = np.round(rng.uniform(0.01, 1.0, len(JOINTS)), 4).tolist()
    elif style.scores == "quantized":
        person["scores"] = (rng.integers(1, 11, len(JOINTS)) / 10).tolist()
    elif style.scores == "constant":
        person["scores"] = [1.0] * len(JOINTS)
    elif style.scores == "per_person":
        person["scores"] = [round(float(rng.uniform(0.01, 1.0)), 2)] * len(JOINTS)
    elif style.scores == "missing":
        person["scores"] = []
    return person


def write_case(files: dict[str, tuple[dict, dict]], root: Path) -> tuple[Path, Path]:
    gt_dir, pred_dir = root / "gt", root / "pred"
    gt_dir.mkdir(parents=True, exist_ok=True)
    pred_dir.mkdir(parents=True, exist_ok=True)
    for name, (gt, pred) in files.items():
        (gt_dir / f"{name}.json").write_text(json.dumps(gt))
        (pred_dir / f"{name}.json").write_text(json.dumps(pred))
    return gt_dir, pred_dir


def case_digest(files: dict[str, tuple[dict, dict]]) -> str:
    """A digest of the case's files: the recorded fixture notices when the generator changes."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------- figures


def _groups(per_joint: dict[str, float], prefix: str) -> dict[str, float]:
    """Head ... Ankle as plain means (NaN propagates), as both official tools print them."""
    return {f"{prefix}.{group}": float(np.mean([per_joint[f"{prefix}.{n}"] for n in names]))
            for group, names in GROUPS.items()}


def poseval_figures(python: str, poseval_root: Path, gt_dir: Path, pred_dir: Path, out_dir: Path) -> dict[str, float]:
    """Run poseval (``-e -t``) and read its full-precision output files."""
    command = [python, "-m", "poseval.evaluate", "-g", f"{gt_dir}/", "-p", f"{pred_dir}/", "-e", "-t", "-o",
               str(out_dir)]
    done = subprocess.run(command, cwd=poseval_root, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"poseval failed on {gt_dir}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    ap = json.loads((out_dir / "total_AP_metrics.json").read_text())
    mot = json.loads((out_dir / "total_MOT_metrics.json").read_text())
    figures: dict[str, float] = {}
    for family, source, key in (("ap", ap, "ap"), ("ap_precision", ap, "pre"), ("ap_recall", ap, "rec"),
                                ("mota", mot, "mota"), ("motp", mot, "motp"), ("mot_precision", mot, "pre"),
                                ("mot_recall", mot, "rec")):
        values = [math.nan if v is None else float(v) for v in source[key]]
        joints = {f"{family}.{name}": values[i] for i, name in enumerate(POSEVAL_JOINTS)}
        figures.update(joints)
        if family in ("ap", "mota"):
            figures.update(_groups(joints, family))
        figures[f"{family}.Total"] = values[len(POSEVAL_JOINTS)]
    return figures


# Run by the kit's python: evaluates with the kit's own classes and prints the full-precision results as JSON.
# The kit keeps per-joint mAP inside its sequence combination; this glue combines the sequences the way its
# PosemAP._compute_final_fields does and calls the kit's compute_metrics on the result.
_PT21_DRIVER = r"""
import contextlib, io, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import posetrack21.trackeval as trackeval
from posetrack21.trackeval.metrics.map import PosemAP

gt, pred = sys.argv[2], sys.argv[3]
quiet = {"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
         "OUTPUT_PAPER_SUMMARY": False, "LOG_ON_ERROR": None, "BREAK_ON_ERROR": True}
dataset = {"GT_FOLDER": gt, "TRACKERS_FOLDER": pred, "PRINT_CONFIG": False}
out = {}
with contextlib.redirect_stdout(io.StringIO()):
    res, _ = trackeval.Evaluator(quiet).evaluate([trackeval.datasets.PoseTrack(dataset)],
                                                 [trackeval.metrics.HOTAeypoints()])
    runs = res["PoseTrack"]
    hota = runs[list(runs)[0]]["COMBINED_SEQ"]["person"]["HOTAeypoints"]
    for field in ("HOTA", "DetA", "AssA", "LocA"):
        out[field] = (100 * np.mean(hota[field], axis=0)).tolist()  # the kit's summary: mean over alpha
    res, _ = trackeval.PoseEvaluator(quiet).evaluate([trackeval.datasets.PoseTrack(dataset)], [PosemAP()])
    runs = res["PoseTrack"]
    per_sequence = runs[list(runs)[0]]
    scores, labels, counts, offset = {j: {} for j in range(15)}, {j: {} for j in range(15)}, [], 0
    for name, value in per_sequence.items():
        if name == "COMBINED_SEQ":
            continue
        seq = value["person"]["PosemAP"]
        for j in range(15):
            for t in seq["scores_all"][j]:
                scores[j][t + offset] = seq["scores_all"][j][t]
                labels[j][t + offset] = seq["labels_all"][j][t]
        offset += seq["gt_kpts_ctr"].shape[1]
        counts.append(seq["gt_kpts_ctr"])
    ap, precision, recall = PosemAP.compute_metrics(scores, labels, np.concatenate(counts, axis=1))
    out["mAP"], out["mAP_precision"], out["mAP_recall"] = (a[:, 0].tolist() for a in (ap, precision, recall))
    out["mAP_groups"] = per_sequence["COMBINED_SEQ"]["person"]["PosemAP"]["map"]
print(json.dumps(out))
"""


def pt21_figures(python: str, kit_root: Path, gt_dir: Path, pred_dir: Path) -> dict[str, float]:
    """Run the PoseTrack21 kit (keypoint HOTA, then PosemAP) through its own classes; per joint and total."""
    done = subprocess.run([python, "-c", _PT21_DRIVER, str(kit_root), f"{gt_dir}/", f"{pred_dir}/"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the PoseTrack21 kit failed on {gt_dir}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    figures: dict[str, float] = {}
    for family in ("HOTA", "DetA", "AssA", "LocA"):
        joints = {f"{family}.{name}": result[family][i] for i, name in enumerate(KIT_JOINTS)}
        figures.update(joints)
        figures.update(_groups(joints, family))
        figures[f"{family}.Total"] = result[family][len(KIT_JOINTS)]
    for family, key in (("ap", "mAP"), ("ap_precision", "mAP_precision"), ("ap_recall", "mAP_recall")):
        figures.update({f"{family}.{name}": result[key][i] for i, name in enumerate(KIT_JOINTS)})
        figures[f"{family}.Total"] = result[key][len(KIT_JOINTS)]
    short = {"Head": "Head", "Shoulder": "Shou", "Elbow": "Elb", "Wrist": "Wri", "Hip": "Hip", "Knee": "Knee",
             "Ankle": "Ankl"}
    figures.update({f"ap.{group}": float(result["mAP_groups"][short[group]]) for group in GROUPS})
    return figures


def ftppose_figures(gt_dir: Path, pred_dir: Path, version: str = "2018") -> dict[str, float]:
    """The same figures from ``ftppose_cli.evaluation`` (what ``ftppose eval --json`` writes)."""
    from ftppose_cli.evaluation.ap import SCORED_JOINTS
    from ftppose_cli.evaluation.scoring import evaluate_folders

    result = evaluate_folders(gt_dir, pred_dir, version)
    figures: dict[str, float] = {}
    ap, mot = result.ap, result.mot
    for family, values in (("ap", ap.ap), ("ap_precision", ap.precision), ("ap_recall", ap.recall),
                           ("mota", mot.scores.mota), ("motp", mot.scores.motp),
                           ("mot_precision", mot.scores.precision), ("mot_recall", mot.scores.recall)):
        figures.update({f"{family}.{name}": float(v) for name, v in zip(SCORED_JOINTS, values)})
    figures.update({f"ap.{group}": float(v) for group, v in ap.groups.items()})
    figures.update({f"mota.{group}": float(v) for group, v in mot.mota_groups.items()})
    figures["ap_precision.Total"] = _nan_mean(ap.precision)
    figures["ap_recall.Total"] = _nan_mean(ap.recall)
    totals = mot.totals
    figures.update({"motp.Total": totals["motp"], "mot_precision.Total": totals["precision"],
                    "mot_recall.Total": totals["recall"]})
    return figures


def ftppose_pt21_figures(gt_dir: Path, pred_dir: Path) -> dict[str, float]:
    """PoseTrack21 figures from ``ftppose_cli.evaluation``: mAP with its precision / recall, keypoint HOTA."""
    from ftppose_cli.evaluation.ap import SCORED_JOINTS
    from ftppose_cli.evaluation.scoring import evaluate_folders

    result = evaluate_folders(gt_dir, pred_dir, "21")
    ap = result.ap
    figures: dict[str, float] = {}
    for family, values in (("ap", ap.ap), ("ap_precision", ap.precision), ("ap_recall", ap.recall)):
        figures.update({f"{family}.{name}": float(v) for name, v in zip(SCORED_JOINTS, values)})
    figures.update({f"ap.{group}": float(v) for group, v in ap.groups.items()})
    figures["ap_precision.Total"] = _nan_mean(ap.precision)
    figures["ap_recall.Total"] = _nan_mean(ap.recall)
    hota = getattr(result, "hota", None)
    if hota is not None:
        for family in ("HOTA", "DetA", "AssA", "LocA"):
            figures.update({f"{family}.{name}": v for name, v in hota.per_joint(family).items()})
            figures.update({f"{family}.{group}": v for group, v in hota.groups(family).items()})
    return figures


def _nan_mean(values: np.ndarray) -> float:
    finite = np.asarray(values, float)[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


# ----------------------------------------------------------------------------------------- comparison


def difference(a: float, b: float) -> float:
    """|a - b|, 0 when both are NaN (undefined on both sides), inf when only one is."""
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b)


def family_of(key: str) -> str:
    family, name = key.split(".", 1)
    scope = "total" if name == "Total" else "group" if name in GROUPS else "joint"
    return f"{family} ({scope})"


class Tally:
    """The largest difference per metric family, and where it was."""

    def __init__(self) -> None:
        self.worst: dict[str, tuple[float, str]] = {}

    def add(self, case: str, oracle: dict[str, float], ours: dict[str, float]) -> float:
        largest = 0.0
        for key, expected in oracle.items():
            d = difference(expected, ours.get(key, math.nan))
            family = family_of(key)
            if family not in self.worst or d > self.worst[family][0]:
                self.worst[family] = (d, f"{case} {key}: oracle {expected:.6f}, ftppose {ours.get(key, math.nan):.6f}")
            largest = max(largest, d)
        return largest

    def report(self) -> str:
        width = max(map(len, self.worst))
        return "\n".join(f"  {family:<{width}}  max |diff| {d:.2e}" + (f"   ({where})" if d > 0 else "")
                         for family, (d, where) in sorted(self.worst.items()))


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="first case seed; case i uses seed + i")
    parser.add_argument("--version", choices=("18", "21"), default="18")
    parser.add_argument("--oracle-python", required=True, help="python of the oracle's virtual environment")
    parser.add_argument("--poseval", type=Path, help="poseval checkout (the folder holding poseval/)")
    parser.add_argument("--pt21", type=Path, help="PoseTrack21 kit checkout (eval/posetrack21)")
    parser.add_argument("--record", type=Path, help="write a fixture of the first --record-cases cases here")
    parser.add_argument("--record-cases", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="keep the case files here (default: a temporary folder)")
    args = parser.parse_args()
    if args.version == "18" and args.poseval is None or args.version == "21" and args.pt21 is None:
        parser.error("--poseval is needed for --version 18, --pt21 for --version 21")

    tally, recorded, worst_case = Tally(), [], (0.0, None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        for i in range(args.cases):
            seed = args.seed + i
            files = build_case(seed, args.version)
            case_dir = root / f"case_{seed}"
            gt_dir, pred_dir = write_case(files, case_dir)
            if args.version == "18":
                oracle = poseval_figures(args.oracle_python, args.poseval, gt_dir, pred_dir, case_dir / "out")
                ours = ftppose_figures(gt_dir, pred_dir, "2018")
            else:
                oracle = pt21_figures(args.oracle_python, args.pt21, gt_dir, pred_dir)
                ours = ftppose_pt21_figures(gt_dir, pred_dir)
            largest = tally.add(f"seed {seed}", oracle, ours)
            if largest > worst_case[0]:
                worst_case = (largest, seed)
            if args.record and i < args.record_cases:
                recorded.append({"seed": seed, "digest": case_digest(files), "figures": _jsonable(oracle)})
            if (i + 1) % 25 == 0:
                print(f"... {i + 1} cases, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    official = "poseval" if args.version == "18" else "the PoseTrack21 kit"
    print(f"{args.cases} PoseTrack{args.version} cases (seeds {args.seed}..{args.seed + args.cases - 1}), "
          f"ftppose vs {official}:")
    print(tally.report())
    print(f"largest difference of any figure: {worst_case[0]:.2e}" + (f" (seed {worst_case[1]})" if worst_case[1]
                                                                          is not None else ""))
    if args.record:
        args.record.write_text(json.dumps(fixture(args.version, recorded), separators=(",", ":")) + "\n")
        print(f"recorded {len(recorded)} cases to {args.record}")


def fixture(version: str, recorded: list[dict]) -> dict:
    """The test fixture: figure names once, then per case its seed, digest and values (10 digits, NaN as null)."""
    names = sorted(recorded[0]["figures"]) if recorded else []
    return {"version": version, "generator": "benchmarks/eval_parity.py build_case", "figures": names,
            "cases": [{"seed": case["seed"], "digest": case["digest"],
                       "values": [None if case["figures"][n] is None else float(f"{case['figures'][n]:.10g}")
                                  for n in names]} for case in recorded]}


def _jsonable(figures: dict[str, float]) -> dict[str, float | None]:
    return {k: None if math.isnan(v) else v for k, v in figures.items()}


if __name__ == "__main__":
    main()
