"""Does the temporal path earn its cost? The K-frame model against its own single-frame model on video.

Runs the annotate pipeline (ByteTrack, windows, decoding: what users get) on the validation
scenes' videos, with the teacher's boxes so both models see the same people, once with the
checkpoint as it is (K = 3 at ``--ratio``) and once with the same weights at K = 1 (the
single-frame model the temporal stage started from). Reports, per model:

* PCK@0.05 / 0.1 / 0.2 of the box's longer side against the teacher's keypoints (Thunder labels
  of ``scripts/label_corpus.py``, people passing the training filter, joints the teacher is sure of);
* steadiness: the mean frame-to-frame acceleration of each tracked joint,
  ``|p(t+1) - 2 p(t) + p(t-1)|``, in box sides (lower is steadier), over joints scored above
  ``--kpt-thr`` in three consecutive frames of one track; the teacher's own figure beside it;
* the pose model's milliseconds per person-frame.

    python benchmarks/measure_temporal.py --corpus /work/cache/corpus2 --threads 2
    python benchmarks/measure_temporal.py --corpus C --weights runs/k3/best.safetensors --max-frames 150

The validation scenes are never trained on; this is a validation measure, not a held-out one.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ftppose_cli.benchmarking.runner import with_window
from ftppose_cli.evaluation.end_to_end import box_iou
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.pipeline.annotator import AnnotateOptions, BoxesFileSource, VideoAnnotator
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_pose_weights
from ftppose_cli.training.teacher_labels import (
    TEACHER_VAL_SCENES,
    THUNDER_VISIBLE,
    _passes_filter_v2,
    thunder_to_posetrack,
)
from ftppose_cli.video.reader import VideoReader

BOX_SCORE = 0.4  # the teacher boxes given to the models: the detector-training threshold


def _teacher(labels: dict, max_frames: int | None) -> tuple[dict[int, np.ndarray], dict[int, list[dict]]]:
    """Boxes per frame (xyxy + score) and the people with a usable teacher pose per frame."""
    boxes, posed = {}, {}
    for frame in labels["frames"]:
        if max_frames is not None and frame["frame"] >= max_frames:
            break
        people = [p for p in frame["persons"] if p["score"] >= BOX_SCORE]
        boxes[frame["frame"]] = np.array([[x, y, x + w, y + h, p["score"]] for p in people for x, y, w, h in
                                          [p["box"]]], np.float32).reshape(-1, 5)
        posed[frame["frame"]] = [p for p in people if _passes_filter_v2(p)]
    return boxes, posed


def _run(model, video: Path, boxes: dict[int, np.ndarray], ratio: float, max_frames: int | None,
         kpt_thr: float) -> tuple[dict, float, int]:
    """PoseTrack JSON of the pipeline's output, seconds in the model, person-frames."""
    estimator = PoseEstimator(model, pruning_ratio=ratio)
    with tempfile.TemporaryDirectory() as tmp:
        annotator = VideoAnnotator(estimator, None, AnnotateOptions(output_dir=Path(tmp), write_video=False,
                                                                     overwrite=True, kpt_thr=kpt_thr))
        _, json_out = annotator.output_paths(video)
        with VideoReader(video) as reader:
            start = time.perf_counter()
            annotator.run_pipeline(_Head(reader, max_frames), json_out, None, BoxesFileSource(boxes))
            seconds = time.perf_counter() - start
        document = json.loads(json_out.read_text())
    return document, seconds, len(document["annotations"])


class _Head:
    """The first ``count`` frames of a reader (all of them when ``count`` is None)."""

    def __init__(self, reader: VideoReader, count: int | None) -> None:
        self.reader, self.count = reader, count

    def __getattr__(self, name: str):  # info, truncated, warnings: the reader's
        return getattr(self.reader, name)

    def __iter__(self):
        for i, frame in enumerate(self.reader):
            if self.count is not None and i >= self.count:
                return
            yield frame


def _people(document: dict) -> dict[int, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]]:
    """frame -> [(track, box xyxy, xy (17, 2), score (17,))] from a PoseTrack 2018 output."""
    out: dict[int, list] = {}
    for a in document["annotations"]:
        kp = np.asarray(a["keypoints"], np.float32).reshape(-1, 3)
        x, y, w, h = a["bbox"]
        out.setdefault(int(a["image_id"]), []).append((int(a["track_id"]), np.array([x, y, x + w, y + h]),
                                                       kp[:, :2], kp[:, 2]))
    return out


def _scores(predicted: dict, posed: dict[int, list[dict]], kpt_thr: float) -> dict[str, float]:
    hits = {t: 0 for t in (0.05, 0.1, 0.2)}
    joints = 0
    tracks: dict[int, dict[int, tuple[np.ndarray, np.ndarray, float]]] = {}
    teacher_tracks: dict[int, dict[int, tuple[np.ndarray, np.ndarray, float]]] = {}
    for frame, people in predicted.items():
        for track, box, xy, score in people:
            side = float(max(box[2] - box[0], box[3] - box[1]))
            tracks.setdefault(track, {})[frame] = (xy, score >= kpt_thr, side)
        boxes = np.array([p[1] for p in people]).reshape(-1, 4)
        for label in posed.get(frame, []):
            x, y, w, h = label["box"]
            overlap = box_iou(np.array([x, y, x + w, y + h]), boxes)[0]
            if not len(overlap) or overlap.max() < 0.7:
                continue
            match = people[int(overlap.argmax())]
            gt, visible = thunder_to_posetrack(np.asarray(label["kp"], np.float32))
            visible = visible > 0
            error = np.linalg.norm(match[2] - gt, axis=1) / max(w, h)
            joints += int(visible.sum())
            for t in hits:
                hits[t] += int((error[visible] <= t).sum())
            teacher_tracks.setdefault(match[0], {})[frame] = (gt, visible, max(w, h))
    result = {f"pck@{t}": hits[t] / max(joints, 1) for t in hits}
    result["joints"] = joints
    result["acceleration"] = _acceleration(tracks)
    result["teacher_acceleration"] = _acceleration(teacher_tracks)
    return result


def _acceleration(tracks: dict[int, dict[int, tuple[np.ndarray, np.ndarray, float]]]) -> float:
    """Mean |p(t+1) - 2p(t) + p(t-1)| / box side over joints confident in all three frames of a track."""
    values = []
    for frames in tracks.values():
        for t, (xy, ok, side) in frames.items():
            if t - 1 in frames and t + 1 in frames:
                before, after = frames[t - 1], frames[t + 1]
                mask = ok & before[1] & after[1]
                accel = np.linalg.norm(after[0] - 2 * xy + before[0], axis=1) / side
                values.extend(accel[mask].tolist())
    return float(np.mean(values)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="corpus labelled by scripts/label_corpus.py")
    parser.add_argument("--weights", type=Path, default=default_pose_weights())
    parser.add_argument("--ratio", type=float, default=0.5, help="pruning ratio of the K-frame run (annotate's)")
    parser.add_argument("--scenes", default=",".join(TEACHER_VAL_SCENES))
    parser.add_argument("--max-frames", type=int, default=None, help="first n frames of each video")
    parser.add_argument("--kpt-thr", type=float, default=THUNDER_VISIBLE)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    scenes = set(args.scenes.split(","))
    videos = [e["file"] for e in manifest["videos"] if e["scene"] in scenes]
    model = load_model(args.weights, "cpu")
    models = {f"K={model.config.window}, ratio {args.ratio:g}": (model, args.ratio),
              "K=1 (same weights)": (with_window(model, 1), 0.0)}
    print(f"checkpoint {args.weights}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}; "
          f"videos: {', '.join(videos)}")
    totals: dict[str, dict] = {}
    for name, (net, ratio) in models.items():
        predicted_all, seconds, crops, posed_all = {}, 0.0, 0, {}
        for offset, video in enumerate(videos):
            labels = json.loads((args.corpus / "labels" / f"{video}.json").read_text())
            boxes, posed = _teacher(labels, args.max_frames)
            document, took, count = _run(net, args.corpus / video, boxes, ratio, args.max_frames, args.kpt_thr)
            seconds, crops = seconds + took, crops + count
            shift = offset * 1_000_000  # frames of different videos never neighbour each other
            for frame, people in _people(document).items():
                predicted_all[shift + frame] = [(offset * 100_000 + t, *rest) for t, *rest in people]
            posed_all.update({shift + f: p for f, p in posed.items()})
        totals[name] = {**_scores(predicted_all, posed_all, args.kpt_thr), "ms_per_person_frame":
                        1000 * seconds / max(crops, 1), "person_frames": crops}
    print(f"{'':24s} {'PCK@.05':>8s} {'PCK@.1':>8s} {'PCK@.2':>8s} {'accel':>8s} {'ms/person-frame':>16s}")
    for name, r in totals.items():
        print(f"{name:24s} {r['pck@0.05']:8.3f} {r['pck@0.1']:8.3f} {r['pck@0.2']:8.3f} {r['acceleration']:8.4f} "
              f"{r['ms_per_person_frame']:16.1f}")
    first = next(iter(totals.values()))
    print(f"{'teacher (Thunder + flip)':24s} {'':8s} {'':8s} {'':8s} {first['teacher_acceleration']:8.4f}")
    print(f"scored joints: {first['joints']}, person-frames: {first['person_frames']}")
    if args.json:
        args.json.write_text(json.dumps({"weights": str(args.weights), "results": totals}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
