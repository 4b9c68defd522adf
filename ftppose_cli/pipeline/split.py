"""Run mode of `eval`: predict every sequence of a PoseTrack split, then score it.

Running the model is the pipeline's job, so this lives here; the scoring it
ends with is :func:`ftppose_cli.evaluation.scoring.evaluate_folders`, which
reads files and knows nothing of models.

PoseTrack ships each sequence as a folder of JPEGs with one annotation file;
the prediction must list the same frames, in the same order, with the same
file names. :class:`SequenceFrames` reads the frames the annotation lists
(a frame whose image is absent, as in the small samples some projects ship,
is still listed: it is read as a black frame with nobody in it, and a warning
says how many), and the annotate pipeline does the rest.

Under torchrun the sequences are shared between the processes (each writes
its own predictions), and rank 0 scores the whole folder once all are done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.distributed import Ranks, shard
from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.results import EvaluationResult
from ftppose_cli.evaluation.scoring import evaluate_folders
from ftppose_cli.formats.detections import load_boxes
from ftppose_cli.formats.posetrack import PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import read_sequence
from ftppose_cli.pipeline.annotator import BoxesFileSource, PersonSource, VideoAnnotator, VideoReport
from ftppose_cli.video.frames import Frame, VideoInfo


def split_annotations(root: Path, split: str) -> Path:
    """The folder of per-sequence annotation files of ``split`` under a PoseTrack root."""
    for candidate in (root / "annotations" / split, root / "posetrack_data" / "annotations" / split):
        if candidate.is_dir() and any(candidate.glob("*.json")):
            return candidate
    raise InputError(root, f"no annotations/{split}/*.json under this PoseTrack root")


class SequenceFrames:
    """The frames of one annotated sequence, in annotation order, as the pipeline's frame source."""

    def __init__(self, root: Path, sequence: PoseTrackSequence, source: Path, fps: float = 25.0) -> None:
        self.root = root
        self.sequence = sequence
        self.paths = [root / f.file_name for f in sequence.frames]
        present = [p for p in self.paths if p.is_file()]
        if not present:
            raise InputError(source, f"none of the {len(self.paths)} images it lists exist under {root}")
        first = cv2.imread(str(present[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise InputError(present[0], "not a readable image")
        height, width = first.shape[:2]
        rate = Fraction(fps).limit_denominator()
        self.info = VideoInfo(path=source, width=width, height=height, rotation=0, fps=rate,
                              time_base=1 / rate, frame_count=len(self.paths),
                              duration=len(self.paths) / fps, has_audio=False, codec="jpeg")
        missing = len(self.paths) - len(present)
        self.truncated = False
        self.warnings: list[str] = (
            [f"{missing} of {len(self.paths)} listed images are absent; listed with nobody in them"] if missing else [])

    def __iter__(self) -> Iterator[Frame]:
        blank = np.zeros((self.info.height, self.info.width, 3), np.uint8)
        for index, path in enumerate(self.paths):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
            if image is None:
                image = blank
            elif image.shape[:2] != blank.shape[:2]:
                raise InputError(path, f"size {image.shape[1]}x{image.shape[0]} differs from the sequence's "
                                 f"{self.info.width}x{self.info.height}")
            yield Frame(index=index, image=image, pts=index, time_base=self.info.time_base,
                        time=float(index * self.info.time_base))


class GroundTruthBoxes(BoxesFileSource):
    """Person boxes from the ground truth (papers' "GT boxes" setting); box score 1."""

    def __init__(self, sequence: PoseTrackSequence) -> None:
        boxes = {}
        for index, frame in enumerate(sequence.frames):
            people = frame.people
            rows = []
            for p in range(len(people)):
                box = people.boxes[p]
                if not np.isfinite(box).all():  # no bbox field: the tight box of the annotated joints
                    pts = people.keypoints[p][people.annotated[p]]
                    if len(pts) < 2:
                        continue
                    lo, hi = pts.min(0), pts.max(0)
                    pad = 0.1 * (hi - lo)
                    box = np.concatenate([lo - pad, hi + pad])
                rows.append([*box, 1.0])
            if rows:
                boxes[index] = np.asarray(rows, np.float32)
        super().__init__(boxes)


@dataclass
class SplitRun:
    predictions: Path
    reports: list[VideoReport] = field(default_factory=list)
    result: EvaluationResult | None = None


def predict_split(
    root: Path, split: str, annotator: VideoAnnotator, out_dir: Path, boxes: str | Path = "detector",
    version: str | None = "2018", ranks: Ranks | None = None,
) -> SplitRun:
    """Predict every sequence of ``split`` into ``out_dir`` (one JSON each), then score them.

    ``boxes``: ``"detector"`` (the annotator's detector), ``"gt"`` (ground-truth
    boxes) or a detections file in the COCO results layout with PoseTrack image ids.
    ``version`` None takes the scoring rules from the ground truth. With
    several ``ranks`` this rank predicts its share; rank 0 gets every rank's
    reports and the score, the others their own reports and no score.
    """
    gt_dir = split_annotations(root, split)
    run = SplitRun(out_dir)
    detections = None
    if boxes not in ("detector", "gt"):
        detections = Path(boxes)
    gt_files = sorted(gt_dir.glob("*.json"))
    ranks = ranks or Ranks()  # one process unless torchrun started several
    for gt_file in shard(gt_files, [f.stat().st_size for f in gt_files], ranks):
        sequence = read_sequence(gt_file)
        frames = SequenceFrames(root, sequence, gt_file)
        if boxes == "gt":
            people: PersonSource | None = GroundTruthBoxes(sequence)
        elif detections is not None:
            people = BoxesFileSource(load_boxes(detections, sequence=_sequence_digits(gt_file.stem)))
        else:
            people = None
        report = annotator.run_pipeline(frames, out_dir / gt_file.name, people=people,
                                           frame_names=[f.file_name for f in sequence.frames])
        run.reports.append(report)
    gathered = ranks.gather(run.reports)  # also waits until every rank has written its predictions
    if gathered is not None:
        run.reports = [report for share in gathered for report in share]
        run.result = evaluate_folders(gt_dir, out_dir, version)
    return run


def _sequence_digits(stem: str) -> str | None:
    """``"003418_mpii_test"`` -> ``"003418"``, the digits PoseTrack image ids carry."""
    head = stem.split("_", 1)[0]
    return head if head.isdigit() else None
