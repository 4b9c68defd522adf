"""Held-out pose accuracy of a checkpoint at a few pruning ratios, next to the average-pose baseline.

Scores human-annotated still images with ground-truth boxes (COCO and
PoseTrack18 people, see :mod:`ftppose_cli.evaluation.heldout`): PCK at 0.05,
0.1 and 0.2 of the box's longer side, PCKh@0.5 where a head box exists, and
model milliseconds per person crop. Then, end to end on the same images: the built-in
detector finds the people and the model runs on its boxes (see
:mod:`ftppose_cli.evaluation.end_to_end`; a person not found scores 0).

    python benchmarks/measure_pose.py                                   # weights/pose, ../shared/data/heldout
    python benchmarks/measure_pose.py --weights /work/cache/runs/tiny_k1/best.safetensors --flip-test
    python benchmarks/measure_pose.py --train-cache /work/cache/pose_crops   # + the training people's mean pose
    python benchmarks/measure_pose.py --lspet /work/cache/lspet --lspet-every 10   # + LSPet val (100 of its 1,000)
    python benchmarks/measure_pose.py --teacher --lspet /work/cache/lspet --threads 1   # + the teacher beside ours

``--lspet DIR`` also scores LSPet's validation split (its last 1,000 images, never trained on):
the box is ``scripts/label_corpus.py``'s ``lspet_box`` of the person's joints, PCK of its longer
side on LSPet's 14 visible joints (neck as head_bottom, head top as head_top).
``--teacher`` (onnxruntime and ``../shared/data/teachers``) adds the labelling teacher on the
same people: MoveNet Thunder + flip on the same boxes, and end to end the labels' fused
RTMDet+YOLOX boxes (score >= 0.4, ``--teacher-score``) + Thunder + flip. ``--detector`` picks the end-to-end
detector (default ``weights/detector``, its stored threshold); ``--no-end-to-end`` skips it.

Two image-blind reference lines: "average pose" is the leave-one-out mean of the other held-out
people of the same dataset (it knows what they share); "training mean" (with ``--train-cache``) is
the mean pose of the training people of a crop cache, all that an image-blind model could know.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from ftppose_cli.benchmarking.heldout import EndToEndPredictions, evaluate_heldout, predict_end_to_end
from ftppose_cli.benchmarking.runner import with_window
from ftppose_cli.evaluation.end_to_end import score_end_to_end
from ftppose_cli.evaluation.heldout import (
    HeldoutResult,
    HeldoutSet,
    average_pose_baseline,
    fixed_pose_baseline,
    load_heldout,
    score_predictions,
)
from ftppose_cli.formats.joints import POSETRACK_JOINTS
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, resolve_device

REPO = Path(__file__).resolve().parents[1]
TEACHER = "Thunder+flip"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=default_pose_weights())
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "heldout")
    parser.add_argument("--ratios", default="0,0.5,0.9")
    parser.add_argument("--window", type=int, default=None, help="run at this K (default: the checkpoint's)")
    parser.add_argument("--flip-test", action="store_true")
    parser.add_argument("--per-joint", action="store_true",
                        help="also print PCK@0.2 per joint and side-agnostic PCK@0.2 (mirrored joints accepted)")
    parser.add_argument("--posetrack-box-scale", type=float, default=1.0,
                        help="give the model PoseTrack people's boxes scaled by this about their centre "
                             "(PCK still uses the original box): what the looser PoseTrack box costs")
    parser.add_argument("--train-cache", type=Path, default=None,
                        help="crop cache of the training data (ftppose train --cache): also score its training "
                             "people's mean pose placed in each box")
    parser.add_argument("--lspet", type=Path, default=None,
                        help="LSPet folder (images/, joints.mat): also score its validation split (last 1,000 images)")
    parser.add_argument("--lspet-every", type=int, default=1, metavar="N",
                        help="score every N-th image of LSPet's validation split (default: all 1,000)")
    parser.add_argument("--teacher", action="store_true",
                        help="also score the labelling teacher (MoveNet Thunder + flip; end to end with the fused "
                             "RTMDet+YOLOX boxes) on the same people; needs onnxruntime")
    parser.add_argument("--teachers", type=Path, default=REPO.parent / "shared" / "data" / "teachers",
                        help="the teachers' ONNX folder (default ../shared/data/teachers)")
    parser.add_argument("--teacher-score", type=float, default=None,
                        help="end to end, the teacher's fused-box threshold (default 0.4, the labels' PERSON_SCORE)")
    parser.add_argument("--detector", type=Path, default=default_detector_weights(),
                        help="end to end, the person detector (default weights/detector, at its stored threshold)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the end-to-end figure")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write every result here")
    return parser.parse_args()


def _line(label: str, result: HeldoutResult, name: str = "overall") -> str:
    s = result.scores[name]
    pckh = "   -  " if s.pckh is None else f"{s.pckh:6.3f}"
    ms = "" if result.ms_per_crop is None else f"{result.ms_per_crop:9.1f}"
    return f"{label:14s} {s.pck[0.05]:8.3f} {s.pck[0.1]:8.3f} {s.pck[0.2]:8.3f} {pckh:>8s} {ms}"


def _table(name: str, results: dict[float, HeldoutResult], references: dict[str, HeldoutResult],
           per_joint: bool) -> None:
    """One group's lines: each ratio with its interval, then the reference lines (the teacher's with its own)."""
    print(f"{'':14s} {'PCK@.05':>8s} {'PCK@.1':>8s} {'PCK@.2':>8s} {'PCKh@.5':>8s} {'ms/crop':>9s}")
    for r, result in results.items():
        print(_line(f"ratio {r:g}", result, name))
        print(_interval_line(result, name))
    for label, reference in references.items():
        print(_line(label, reference, name))
        if label == TEACHER:
            print(_interval_line(reference, name))
    if per_joint:
        _per_joint(name, {**{f"ratio {r:g}": res for r, res in results.items()}, **references})


def _per_joint(name: str, results: dict[str, HeldoutResult]) -> None:
    labels = list(results)
    print(f"  PCK@0.2 per joint{'':6s}" + "".join(f"{label:>14s}" for label in labels))
    for joint in POSETRACK_JOINTS:
        values = [results[label].scores[name].per_joint[joint] for label in labels]
        if any(v is not None for v in values):
            print(f"  {joint:23s}" + "".join(f"{'-' if v is None else f'{v:.2f}':>14s}" for v in values))
    print(f"  {'side-agnostic PCK@0.2':23s}" + "".join(f"{results[label].scores[name].side_agnostic:14.3f}"
                                                       for label in labels))
    for way in ("towards", "away"):
        calls = [results[label].scores[name].facing for label in labels]
        cells = "".join(f"{str(c[f'{way}_right']) + '/' + str(c[way]):>14s}" for c in calls)
        print(f"  {'facing ' + way + ': right':23s}" + cells)


def _interval_line(result: HeldoutResult, name: str) -> str:
    low_high = [result.scores[name].pck_interval[t] for t in (0.05, 0.1, 0.2)]
    return f"{'  95% interval':14s} " + " ".join(f"{f'{lo:.2f}-{hi:.2f}':>8s}" for lo, hi in low_high)


def _teacher_result(teacher, data: HeldoutSet) -> HeldoutResult:
    """Thunder + flip on every person's own box, scored like the model."""
    from teacher_runs import thunder_predictions

    pred, seconds = thunder_predictions(teacher, data.people, data.image)
    return HeldoutResult(TEACHER, score_predictions(data.people, pred), crops=len(data.people), seconds=seconds)


def _lspet_section(args, model, device, ratios, references_of, teacher) -> dict:
    """LSPet's validation split: the model at each ratio (and the teacher) on the box of each person's joints."""
    from teacher_runs import label_corpus

    from ftppose_cli.formats.lspet import LSPET_DATASET, load_lspet_val

    people = load_lspet_val(args.lspet, label_corpus().lspet_box, every=args.lspet_every)
    data = HeldoutSet(args.lspet, people)
    results = {r: evaluate_heldout(model, data, r, args.flip_test, device) for r in ratios}
    references = references_of(data)
    if teacher is not None:
        references[TEACHER] = _teacher_result(teacher, data)
    s = results[ratios[0]].scores[LSPET_DATASET]
    every = "" if args.lspet_every == 1 else f", every {args.lspet_every}th"
    print(f"\n[{LSPET_DATASET}] {s.people} people, {s.joints} joints (LSPet's last 1,000 images{every}; "
          f"box: lspet_box of the joints, PCK of its longer side; neck = head_bottom, head top = head_top)")
    _table(LSPET_DATASET, results, references, args.per_joint)
    return {"root": str(args.lspet), "every": args.lspet_every, "ratios": [results[r].to_dict() for r in ratios],
            **{label.replace(" ", "_").replace("+", "_"): ref.to_dict() for label, ref in references.items()}}


def _e2e_rows(label: str, people, run: EndToEndPredictions) -> list[str]:
    scores = score_end_to_end(people, run.pred, run.found)
    rows = []
    for name in ["overall", *sorted({p.dataset for p in people})]:
        s = scores[name]
        images = {p.image for p in people if name == "overall" or p.dataset == name}
        boxes = sum(run.detections[i] for i in images)
        (lo1, hi1), (lo2, hi2) = s.pck_interval[0.1], s.pck_interval[0.2]
        rows.append(f"{label if name == 'overall' else '':14s} {name:19s} {f'{s.found}/{s.people}':>7s} {boxes:6d} "
                    f"{s.pck[0.1]:8.3f} {s.pck[0.2]:8.3f}   {lo1:.2f}-{hi1:.2f}  {lo2:.2f}-{hi2:.2f}")
    return rows


def _end_to_end_section(args, model, device, ratios, data: HeldoutSet, teacher) -> dict:
    """Built-in detector + pose model on the held-out images, matched to the annotated people."""
    from ftppose_cli.detection.detector import PersonDetector

    detector = PersonDetector.from_checkpoint(args.detector, device=device)

    def detect(image):
        return detector.predict_raw([image])[0]

    runs: dict[str, EndToEndPredictions] = {}
    for r in ratios:
        estimator = PoseEstimator(model, device=device, pruning_ratio=r, flip_test=args.flip_test)

        def estimate(image, boxes, estimator=estimator):
            return estimator.estimate_stills([image], [np.asarray(boxes, np.float32)])[0][0]

        runs[f"ratio {r:g}"] = predict_end_to_end(data.people, data.image, detect, estimate)
    if teacher is not None:
        from teacher_runs import fused_detect, thunder_estimate

        runs[TEACHER] = predict_end_to_end(data.people, data.image, fused_detect(teacher, args.teacher_score),
                                           thunder_estimate(teacher))
    scores = {label: score_end_to_end(data.people, run.pred, run.found) for label, run in runs.items()}
    joints = scores[f"ratio {ratios[0]:g}"]["overall"].joints
    sizes = "+".join(map(str, detector.input_sizes))
    print(f"\n[end to end] {len(data.people)} people, {joints} joints: detector {args.detector} "
          f"(input {sizes}, conf {detector.min_box_score:.2f}) + the model on its boxes")
    if teacher is not None:
        from ftppose_cli.training.teacher_labels import PERSON_SCORE

        score = PERSON_SCORE if args.teacher_score is None else args.teacher_score
        print(f"{TEACHER}: the labels' fused RTMDet+YOLOX boxes (score >= {score:.2f}) + Thunder + flip on them")
    print("each detection matched one-to-one (greedy by score) to a ground-truth box at IoU >= 0.5; PCK over all "
          "labelled joints, a person not found scoring 0")
    print(f"{'':14s} {'':19s} {'found':>7s} {'boxes':>6s} {'PCK@.1':>8s} {'PCK@.2':>8s}   95% interval @.1, @.2")
    for label, run in runs.items():
        for row in _e2e_rows(label, data.people, run):
            print(row)
    for label, run in runs.items():
        found = max(int(run.found.sum()), 1)
        print(f"  {label}: detector {1000 * run.seconds_detect / len(run.detections):.0f} ms per image, "
              f"pose {1000 * run.seconds_pose / found:.0f} ms per person found")
    return {"detector": str(args.detector), "conf": detector.min_box_score,
            **{label: {"detections": int(sum(run.detections.values())),
                       "scores": {name: s.to_dict() for name, s in scores[label].items()}}
               for label, run in runs.items()}}


def main() -> None:
    args = _parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    teacher = None
    if args.teacher:
        from teacher_runs import load_teachers

        teacher = load_teachers(args.teachers)
    model = load_model(args.weights, device)
    if args.window is not None:
        model = with_window(model, args.window).to(device)
    data = load_heldout(args.data)
    ratios = [float(r) for r in args.ratios.split(",")]
    counts = ", ".join(f"{name}: {sum(p.dataset == name for p in data.people)}" for name in data.datasets)
    print(f"checkpoint {args.weights} (size {model.config.size}, K={model.config.window}), "
          f"flip test {'on' if args.flip_test else 'off'}, {device}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"held-out people: {len(data.people)} ({counts})")
    if not model.temporal:
        print("single-frame model: the pruning ratio has no effect on its predictions")
    baseline = average_pose_baseline(data)
    references = {"average pose": baseline}
    mean_pose = None
    if args.train_cache:
        from ftppose_cli.training.datasets import CropCache

        cache = CropCache(args.train_cache)
        train, _ = cache.split_by_scene(cache.val_scenes)
        mean_pose = cache.mean_pose(train)
        references["training mean"] = fixed_pose_baseline(data, mean_pose)
        print(f"training mean pose: {len(train)} people of {args.train_cache}")
    if teacher is not None:
        print(f"teacher: MoveNet Thunder + flip ({args.teachers}) on the same boxes, COCO-17 mapped to our joints "
              f"(head_bottom / head_top from its face points)")
        references[TEACHER] = _teacher_result(teacher, data)
    box_scale = {"posetrack18": args.posetrack_box_scale}
    if args.posetrack_box_scale != 1.0:
        print(f"PoseTrack people's boxes given to the model scaled by {args.posetrack_box_scale:g}")
    results = {r: evaluate_heldout(model, data, r, args.flip_test, device, box_scale=box_scale) for r in ratios}
    for name in ["overall", *data.datasets]:
        s = baseline.scores[name]
        print(f"\n[{name}] {s.people} people, {s.joints} joints ({s.head_joints} with a head box)")
        _table(name, results, references, args.per_joint)
    extra = {}
    if args.lspet:
        def references_of(lspet: HeldoutSet) -> dict[str, HeldoutResult]:
            out = {"average pose": average_pose_baseline(lspet)}
            if mean_pose is not None:
                out["training mean"] = fixed_pose_baseline(lspet, mean_pose)
            return out

        extra["lspet"] = _lspet_section(args, model, device, ratios, references_of, teacher)
    if not args.no_end_to_end:
        if Path(args.detector).with_suffix(".safetensors").exists():
            extra["end_to_end"] = _end_to_end_section(args, model, device, ratios, data, teacher)
        else:
            print(f"\n{args.detector} not found: skipping the end-to-end figure")
    if args.json:
        if args.train_cache:
            extra["training_mean_pose"] = references["training mean"].to_dict()
        if teacher is not None:
            extra["teacher"] = references[TEACHER].to_dict()
        args.json.write_text(json.dumps({"weights": str(args.weights), "average_pose": baseline.to_dict(), **extra,
                                         "ratios": [results[r].to_dict() for r in ratios]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
