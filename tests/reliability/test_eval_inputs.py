"""`ftppose eval` on bad inputs: one line naming the file and the problem, a non-zero exit, no traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.formats.joints import NUM_JOINTS
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_writer import write_sequence

NAME = "000001_mpii_test"


def _folders(root: Path, frames: int = 3) -> tuple[Path, Path]:
    """One sequence with one person, predicted exactly."""
    keypoints = 100 + 4.0 * np.arange(2 * NUM_JOINTS, dtype=float).reshape(1, NUM_JOINTS, 2)
    people = PoseTrackPeople.from_arrays(keypoints, np.full((1, NUM_JOINTS), 0.8), track_ids=[3],
                                         head_boxes=np.array([[90.0, 90.0, 120.0, 130.0]]))
    sequence = PoseTrackSequence(NAME, [PoseTrackFrame(f"images/val/{NAME}/{k:06d}.jpg", people, width=640,
                                                       height=480) for k in range(frames)])
    write_sequence(sequence, root / "gt" / f"{NAME}.json")
    write_sequence(sequence, root / "pred" / f"{NAME}.json")
    return root / "gt", root / "pred"


def test_json_report_that_cannot_be_written_is_refused_before_scoring(run_cli, tmp_path: Path) -> None:
    gt, pred = _folders(tmp_path)
    (tmp_path / "taken").write_text("")
    report = tmp_path / "taken" / "scores.json"
    result = run_cli("eval", "--gt", gt, "--pred", pred, "--json", report)
    assert result.exit_code == 1
    assert result.lines("error") == [f"{report}: its folder {tmp_path / 'taken'} is a file, not a folder"]
    assert "Average Precision" not in result.stdout


def _odd(change):
    def make(path: Path) -> None:
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))
    return make


@pytest.mark.parametrize("side", ["gt", "pred"])
@pytest.mark.parametrize("make, problem", [
    (_odd(lambda d: d["annotations"][0].update(track_id=None)), "track_id must be an integer, got None"),
    (_odd(lambda d: d["annotations"][0].update(image_id=[0])), "refers to image id [0], which is not listed"),
    (_odd(lambda d: d["images"][0].update(frame_id=-math.inf)), "frame_id must be an integer, got -inf"),
    (lambda path: path.write_text('{"images": ' + "[" * 50_000 + "]" * 50_000 + "}"),
     "not readable JSON (nested too deeply)"),
], ids=["null-track-id", "list-image-id", "minus-infinity-frame-id", "deep-nesting"])
def test_odd_values_in_either_file_are_one_line(run_cli, tmp_path: Path, side: str, make, problem: str) -> None:
    folders = dict(zip(("gt", "pred"), _folders(tmp_path), strict=True))
    bad = folders[side] / f"{NAME}.json"
    make(bad)
    result = run_cli("eval", "--gt", folders["gt"], "--pred", folders["pred"])
    assert result.exit_code == 1
    (line,) = result.lines("error")
    assert line.startswith(f"{bad}: ") and problem in line


@pytest.mark.parametrize("flagged_labelled", [True, False])
def test_ground_truth_without_annotations_is_an_error_not_zero_frames(run_cli, tmp_path: Path,
                                                                      flagged_labelled: bool) -> None:
    gt, pred = _folders(tmp_path)
    document = json.loads((gt / f"{NAME}.json").read_text())
    document["annotations"] = []
    for image in document["images"]:
        image["is_labeled"] = flagged_labelled
    (gt / f"{NAME}.json").write_text(json.dumps(document))
    result = run_cli("eval", "--gt", gt, "--pred", pred)
    assert result.exit_code == 1
    message = f"{gt}: no frame of the ground truth is labelled with people, so nothing was scored (a split without "
    assert result.lines("error") == [message + "annotations?)"]
    assert "Average Precision" not in result.stdout


def _rename_prediction(gt: Path, pred: Path) -> tuple[Path, Path]:
    (pred / f"{NAME}.json").rename(pred / "other.json")
    return gt, pred


def _ground_truth_file(gt: Path, pred: Path) -> tuple[Path, Path]:
    return gt / f"{NAME}.json", pred


def _prediction_text(text: bytes):
    def make(gt: Path, pred: Path) -> tuple[Path, Path]:
        (pred / f"{NAME}.json").write_bytes(text)
        return gt, pred
    return make


# (name, turn the good folders into bad arguments, the file the error names, its problem); each exits 1.
BAD_FOLDERS = [
    ("missing-gt", lambda gt, pred: (gt.parent / "absent", pred), "absent", "ground-truth folder does not exist"),
    ("missing-prediction", _rename_prediction, f"pred/{NAME}.json", "the prediction for sequence"),
    ("gt-is-a-file", _ground_truth_file, f"gt/{NAME}.json", "is a file; the ground-truth must be a folder"),
    ("prediction-is-a-list", _prediction_text(b"[]"), f"pred/{NAME}.json", "expected a JSON object"),
    ("prediction-not-utf8", _prediction_text(b"\xff\xfe\x00"), f"pred/{NAME}.json", "cannot read the file"),
]


@pytest.mark.parametrize("make, named, problem", [case[1:] for case in BAD_FOLDERS],
                         ids=[case[0] for case in BAD_FOLDERS])
def test_bad_folders_and_files_are_one_line(run_cli, tmp_path: Path, make, named: str, problem: str) -> None:
    gt, pred = make(*_folders(tmp_path))
    result = run_cli("eval", "--gt", gt, "--pred", pred)
    assert result.exit_code == 1
    (line,) = result.lines("error")
    assert line.startswith(f"{tmp_path / named}: ") and problem in line
