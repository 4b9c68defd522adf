"""Which prediction goes with which ground truth: a folder's sequences read in pairs, and checked as pairs.

Files pair by name (``gt/seq.json`` with ``pred/seq.json``) and frames by
position, as poseval pairs them; a prediction that lists other frames, or
repeats a track id in a frame, would be scored wrongly rather than fail, so
it is refused here with the sequence and frame named.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import read_sequence

MAX_TRACK_ID = 10000  # poseval offsets track ids by sequence index x 10000 and asserts they stay below


@dataclass(frozen=True)
class SequencePair:
    """A ground-truth sequence and the prediction for it; the paths name them in errors."""

    name: str
    ground_truth: PoseTrackSequence
    prediction: PoseTrackSequence
    gt_path: Path
    pred_path: Path

    def where(self, position: int, frame: PoseTrackFrame) -> str:
        """A frame of this pair as error messages name it."""
        return f"sequence {self.name}, frame {position} ({frame.file_name})"


def load_sequence_pairs(gt_dir: str | Path, pred_dir: str | Path) -> list[SequencePair]:
    """Read every ``*.json`` of ``gt_dir`` and the file of the same name in ``pred_dir``."""
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    for folder, what in ((gt_dir, "ground-truth"), (pred_dir, "prediction")):
        if folder.is_file():
            raise InputError(folder, f"is a file; the {what} must be a folder of per-sequence *.json files")
        if not folder.is_dir():
            raise InputError(folder, f"{what} folder does not exist")
    # glob lists in directory order, as poseval's load_data_dir; that order decides tie ranks.
    gt_files = [Path(p) for p in glob.glob(os.path.join(glob.escape(str(gt_dir)), "*.json"))]
    if not gt_files:
        raise InputError(gt_dir, "no ground-truth *.json files")
    pairs = []
    for gt_path in gt_files:
        pred_path = pred_dir / gt_path.name
        if not pred_path.is_file():
            raise InputError(pred_path, f"the prediction for sequence {gt_path.stem} is missing")
        pairs.append(SequencePair(gt_path.stem, read_sequence(gt_path), read_sequence(pred_path), gt_path,
                                  pred_path))
    return pairs


def detect_version(pairs: list[SequencePair]) -> str:
    """"21" when the ground truth carries PoseTrack21's ``person_id``, else its layout ("2017" / "2018")."""
    sequences = [pair.ground_truth for pair in pairs]
    if any((frame.people.person_ids >= 0).any() for sequence in sequences for frame in sequence.frames):
        return "21"
    return "2017" if all(sequence.layout == "2017" for sequence in sequences) else "2018"


def check_pairing(pair: SequencePair) -> None:
    """Frames are paired by position, so a prediction must list the same frames in the same order."""
    gt, pred = pair.ground_truth.frames, pair.prediction.frames
    if len(gt) != len(pred):
        raise InputError(pair.pred_path, f"sequence {pair.name}: the prediction lists {len(pred)} frames, the ground "
                                         f"truth {len(gt)}; every frame must be listed, also empty ones")
    for position, (gt_frame, pred_frame) in enumerate(zip(gt, pred)):
        if os.path.basename(gt_frame.file_name) != os.path.basename(pred_frame.file_name):
            raise InputError(pair.pred_path, f"sequence {pair.name}, frame {position}: the prediction lists "
                                             f"{pred_frame.file_name}, the ground truth {gt_frame.file_name} "
                                             f"(frames must be in the same order)")
        tracks = pred_frame.people.track_ids
        if len(np.unique(tracks)) != len(tracks):
            raise InputError(pair.pred_path, f"{pair.where(position, pred_frame)}: a track id is used twice")
    for path, frames in ((pair.gt_path, gt), (pair.pred_path, pred)):
        for position, frame in enumerate(frames):
            tracks = frame.people.track_ids
            if len(tracks) and tracks.max() >= MAX_TRACK_ID:
                raise InputError(path, f"{pair.where(position, frame)}: track ids must be below {MAX_TRACK_ID}")
