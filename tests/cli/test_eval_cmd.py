"""`ftppose eval` from the command line: tables, JSON report, one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from ftppose_cli.cli.app import app, main
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_writer import write_sequence

runner = CliRunner()


def _folders(tmp_path: Path, frames: int = 3, person_id: int | None = None) -> tuple[Path, Path]:
    """One sequence, one person (15 joints, head size 30) predicted exactly: every score is 100.

    ``person_id`` makes it a PoseTrack21 file (the ground truth then names the version).
    """
    keypoints = 100 + 4.0 * np.arange(2 * NUM_JOINTS, dtype=float).reshape(1, NUM_JOINTS, 2)
    annotated = np.ones((1, NUM_JOINTS), bool)
    annotated[:, [JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"]]] = False
    people = PoseTrackPeople.from_arrays(keypoints, np.full((1, NUM_JOINTS), 0.8), track_ids=[3],
                                         annotated=annotated, head_boxes=np.array([[90.0, 90.0, 120.0, 130.0]]))
    if person_id is not None:
        people.person_ids[:] = person_id
    sequence = PoseTrackSequence("000001_mpii_test", [
        PoseTrackFrame(f"images/val/000001_mpii_test/{k:06d}.jpg", people, width=640, height=480)
        for k in range(frames)])
    write_sequence(sequence, tmp_path / "gt" / "000001_mpii_test.json")
    write_sequence(sequence, tmp_path / "pred" / "000001_mpii_test.json")
    return tmp_path / "gt", tmp_path / "pred"


def test_prints_ap_and_mot_tables(tmp_path: Path) -> None:
    gt, pred = _folders(tmp_path)
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred)])
    assert result.exit_code == 0, result.output
    assert "Average Precision (AP)" in result.stdout and "Multiple Object Tracking (MOT)" in result.stdout
    for header in ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Total", "MOTA", "Prec", "Rec"):
        assert header in result.stdout
    assert result.stdout.count("100.0") == 8 + 11  # every AP group; MOTA groups, MOTP, precision, recall
    assert "sequences scored: 1, frames scored: 3, rules: poseval 2018 (detected)" in result.stdout


def test_per_sequence_and_json_report(tmp_path: Path) -> None:
    gt, pred = _folders(tmp_path)
    report = tmp_path / "out" / "scores.json"
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred), "--version", "21",
                                 "--per-sequence", "--json", str(report)])
    assert result.exit_code == 0, result.output
    assert "000001_mpii_test" in result.stdout and "rules: PoseTrack21 kit\n" in result.stdout
    assert "Keypoint tracking (HOTA)" in result.stdout and "MOTA" not in result.stdout
    document = json.loads(report.read_text())
    assert document["version"] == "21" and document["ap"]["groups"]["Total"] == 100.0
    assert document["mot"] is None
    assert {document["hota"][field]["groups"]["Total"] for field in ("HOTA", "DetA", "AssA", "LocA")} == {100.0}
    assert document["per_sequence"][0]["name"] == "000001_mpii_test"


def test_the_ground_truth_names_the_metric_set(tmp_path: Path) -> None:
    """PoseTrack21 files carry person_id: without --version they get the kit's mAP and HOTA, others poseval's."""
    gt, pred = _folders(tmp_path / "21", person_id=7)
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred)])
    assert result.exit_code == 0, result.output
    assert "rules: PoseTrack21 kit (detected)" in result.stdout
    assert "Keypoint tracking (HOTA)" in result.stdout
    gt, pred = _folders(tmp_path / "18")
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred)])
    assert "rules: poseval 2018 (detected)" in result.stdout
    forced = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred), "--version", "21"])
    assert "rules: PoseTrack21 kit\n" in forced.stdout


def test_bad_input_is_one_line_on_stderr_and_exit_code_1(tmp_path: Path) -> None:
    gt, pred = _folders(tmp_path)
    (pred / "000001_mpii_test.json").write_text("{not json")
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "not valid JSON" in lines[0]
    assert "Traceback" not in result.output
    # The console-script path (app.main) must see the failure too.
    assert main(["eval", "--gt", str(gt), "--pred", str(tmp_path / "missing")]) == 1


def test_usage_errors(tmp_path: Path) -> None:
    gt, pred = _folders(tmp_path)
    assert runner.invoke(app, ["eval", "--gt", str(gt)]).exit_code == 2
    assert runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred), "--version", "2019"]).exit_code == 2


def test_run_mode_predicts_then_scores_the_shared_sample(tiny_checkpoint, tmp_path, shared_data) -> None:
    """Run mode on the PoseTrack18 sample with ground-truth boxes: one prediction file per sequence."""
    from typer.testing import CliRunner

    from ftppose_cli.cli.app import app

    root = shared_data / "heldout" / "mmpose_posetrack18"
    result = CliRunner().invoke(app, ["eval", "--data", str(root), "--split", "val", "--boxes", "gt",
                                      "--weights", str(tiny_checkpoint), "-o", str(tmp_path),
                                      "--report-json", str(tmp_path / "scores.json")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "val").glob("*.json")) == sorted(
        p.name for p in (root / "annotations" / "val").glob("*.json"))
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert "Total" in json.dumps(scores)


def test_run_mode_passes_detector_settings_on(tiny_checkpoint, tmp_path, shared_data) -> None:
    root = shared_data / "heldout" / "mmpose_posetrack18"

    def people_found(*flags: str) -> int:
        out = tmp_path / str(len(flags))
        result = runner.invoke(app, ["eval", "--data", str(root), "--boxes", "detector", "--weights",
                                     str(tiny_checkpoint), "--out", str(out), *flags])
        assert result.exit_code == 0, result.output
        files = list((out / "val").glob("*.json"))
        assert len(files) == 3
        return sum(len(json.loads(f.read_text())["annotations"]) for f in files)

    assert people_found() > 0
    assert people_found("--det-size", "288", "--det-thr", "0.999") == 0
    missing = runner.invoke(app, ["eval", "--data", str(root), "--boxes", "detector", "--weights",
                                  str(tiny_checkpoint), "--detector", str(tmp_path / "nope.safetensors"),
                                  "--out", str(tmp_path / "again")])
    assert missing.exit_code == 1 and "nope" in missing.stderr and "Traceback" not in missing.output
