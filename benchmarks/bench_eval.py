"""How long does `ftppose eval` take on a PoseTrack18-val-sized folder?

Generates 170 sequences of 60 frames (30 of them labelled, like the val
split's density) with 4-9 people per frame, ignore regions on some frames,
and predictions on every frame (jittered joints, scores, a missed and an
extra person now and then, occasional track-id swaps), writes them as
PoseTrack 2018 files in a temporary folder, then times
:func:`evaluate_folders` (reading included). Target: a few seconds.

    python benchmarks/bench_eval.py                 # 170 sequences, best of 3
    python benchmarks/bench_eval.py --sequences 20 --repeats 1
    python benchmarks/bench_eval.py --version 21    # PoseTrack21 rules: mAP and keypoint HOTA
    python benchmarks/bench_eval.py --no-scores     # every score missing (-9999): one big tie to rank
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ftppose_cli.evaluation.scoring import evaluate_folders
from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_writer import write_sequence

WIDTH, HEIGHT = 1920, 1080


def _sequence_people(rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Smoothly moving people: keypoints (frames, n, 17, 2) and head boxes (frames, n, 4)."""
    people = int(rng.integers(4, 10))
    start = rng.uniform([200, 200], [WIDTH - 200, HEIGHT - 300], size=(people, 2))
    velocity = rng.normal(0, 3, size=(people, 2))
    centers = start[None] + velocity[None] * np.arange(frames)[:, None, None]
    offsets = rng.normal(0, 40, size=(people, NUM_JOINTS, 2))
    keypoints = np.round(centers[:, :, None, :] + offsets[None])  # the official files have whole pixels
    head = rng.uniform(30, 90, size=people)
    corner = centers - np.array([0.5, 1.5]) * head[None, :, None]
    head_boxes = np.round(np.concatenate([corner, corner + head[None, :, None]], axis=2))
    return keypoints, head_boxes


def make_pair(rng: np.random.Generator, name: str, frames: int = 60,
              scored: bool = True) -> tuple[PoseTrackSequence, PoseTrackSequence]:
    keypoints, head_boxes = _sequence_people(rng, frames)
    people = keypoints.shape[1]
    labelled = set(range(0, frames, 2))
    gt_frames, pred_frames = [], []
    for f in range(frames):
        file_name = f"images/val/{name}/{f:06d}.jpg"
        regions: tuple[np.ndarray, ...] = ()
        if f in labelled and rng.random() < 0.3:
            x, y = rng.uniform(0, WIDTH - 300), rng.uniform(0, HEIGHT - 300)
            regions = (np.array([[x, y], [x + 250, y], [x + 250, y + 250], [x, y + 250]]),)
        gt_people = PoseTrackPeople.empty()
        if f in labelled:
            annotated = rng.random((people, NUM_JOINTS)) > 0.15
            annotated[:, 3:5] = False  # PoseTrack never annotates the ears
            gt_people = PoseTrackPeople.from_arrays(keypoints[f], track_ids=np.arange(people),
                                                    head_boxes=head_boxes[f], annotated=annotated)
        gt_frames.append(PoseTrackFrame(file_name, gt_people, f in labelled, regions, width=WIDTH, height=HEIGHT))
        keep = rng.random(people) > 0.05
        xy = keypoints[f][keep] + rng.normal(0, 6, size=(int(keep.sum()), NUM_JOINTS, 2))
        track_ids = np.flatnonzero(keep)
        if rng.random() < 0.05 and len(track_ids) > 1:
            track_ids[[0, 1]] = track_ids[[1, 0]]
        if rng.random() < 0.1:
            xy = np.concatenate([xy, rng.uniform(100, 800, size=(1, NUM_JOINTS, 2))])
            track_ids = np.append(track_ids, 100 + f)
        xy = np.round(xy, 2)  # as the annotate writer rounds them
        scores = np.round(rng.uniform(0.05, 1.0, size=(len(xy), NUM_JOINTS)), 4)
        if not scored:
            scores = None
        pred_frames.append(PoseTrackFrame(file_name, PoseTrackPeople.from_arrays(xy, scores, track_ids),
                                          width=WIDTH, height=HEIGHT))
    return PoseTrackSequence(name, gt_frames), PoseTrackSequence(name, pred_frames)


def generate(root: Path, sequences: int, seed: int = 0, scored: bool = True) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    gt_dir, pred_dir = root / "gt", root / "pred"
    for s in range(sequences):
        name = f"{s:06d}_mpii_test"
        gt, pred = make_pair(rng, name, scored=scored)
        write_sequence(gt, gt_dir / f"{name}.json")
        write_sequence(pred, pred_dir / f"{name}.json")
    return gt_dir, pred_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=170)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--version", choices=("2018", "21"), default="2018")
    parser.add_argument("--no-scores", action="store_true", help="predictions without scores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        gt_dir, pred_dir = generate(Path(tmp), args.sequences, scored=not args.no_scores)
        print(f"generated {args.sequences} sequences in {time.perf_counter() - start:.1f} s")
        times, cpu_times = [], []
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            result = evaluate_folders(gt_dir, pred_dir, args.version)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
        tracking = (f"MOTA Total {result.mot.totals['mota']:.1f}" if result.mot is not None
                    else f"HOTA Total {result.hota.totals['HOTA']:.1f}")
        print(f"frames scored: {result.frames_scored}, AP Total {result.ap.total:.1f}, {tracking}")
        # CPU time as well: on a shared machine the wall time also measures the neighbours.
        print(f"evaluate_folders: best {min(times):.2f} s wall ({min(cpu_times):.2f} s CPU), all "
              + ", ".join(f"{t:.2f}" for t in times) + " s")


if __name__ == "__main__":
    main()
