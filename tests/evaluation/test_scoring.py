"""Folder scoring: parity cases against poseval's rules, with every expected number derived by hand.

poseval cannot be installed offline (``pip download poseval`` finds nothing),
so the expected values are not poseval's printout: each test's docstring
derives them from the rules in poseval's source (``eval_helpers``,
``evaluateAP``, ``evaluateTracking``) and the PoseTrack21 kit
(``datasets/posetrack.py``, ``metrics/map.py``). Real ground truth comes
from ``../shared/data/heldout/mmpose_posetrack18`` (three val sequences,
one labelled frame each); tests that need it skip when it is absent.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ftppose_cli.errors import InputError
from ftppose_cli.evaluation.ap import SCORED_JOINT_INDEX, SCORED_JOINTS
from ftppose_cli.evaluation.scoring import evaluate_folders
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackSequence
from ftppose_cli.formats.posetrack_reader import read_sequence
from ftppose_cli.formats.posetrack_writer import sequence_document, write_sequence

HELDOUT_VAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "heldout" / "mmpose_posetrack18"
               / "annotations" / "val")
J = {name: i for i, name in enumerate(SCORED_JOINTS)}  # index into per-joint result arrays
EARS = [JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"]]


@pytest.fixture
def heldout() -> Path:
    if not sorted(HELDOUT_VAL.glob("*.json")):
        pytest.skip("../shared/data/heldout/mmpose_posetrack18 is not present")
    return HELDOUT_VAL


# ----------------------------------------------------------------------------------------------- builders


def _write(root: Path, gt: list[PoseTrackSequence], pred: list[PoseTrackSequence]) -> tuple[Path, Path]:
    for sequence in gt:
        write_sequence(sequence, root / "gt" / f"{sequence.name}.json")
    for sequence in pred:
        write_sequence(sequence, root / "pred" / f"{sequence.name}.json")
    return root / "gt", root / "pred"


def _pose(x: float, y: float) -> np.ndarray:
    """A compact synthetic pose: 17 joints on a 4 px grid from (x, y)."""
    j = np.arange(NUM_JOINTS)
    return np.stack([x + 4.0 * (j % 5), y + 4.0 * (j // 5)], axis=1)


def _people(*persons: tuple[int, float, float, float]) -> PoseTrackPeople:
    """(track, x, y, score) per person; 15 annotated joints (no ears), head box 30 x 40 -> head size 30."""
    if not persons:
        return PoseTrackPeople.empty()
    annotated = np.ones((len(persons), NUM_JOINTS), bool)
    annotated[:, EARS] = False
    return PoseTrackPeople.from_arrays(
        np.stack([_pose(x, y) for _, x, y, _ in persons]), np.array([[s] * NUM_JOINTS for *_, s in persons]),
        track_ids=[t for t, *_ in persons], annotated=annotated,
        head_boxes=np.array([[x, y, x + 30, y + 40] for _, x, y, _ in persons]))


def _sequence(name: str, frames: list[PoseTrackPeople], regions: dict[int, tuple] | None = None,
              labeled: list[bool] | None = None) -> PoseTrackSequence:
    return PoseTrackSequence(name, [
        PoseTrackFrame(f"images/val/{name}/{k:06d}.jpg", people, True if labeled is None else labeled[k],
                       (regions or {}).get(k, ()), width=1920, height=1080)
        for k, people in enumerate(frames)])


def _video(labelled: PoseTrackSequence, frames: int, step: float = 2.0) -> PoseTrackSequence:
    """A sequence of `frames` labelled frames: the one labelled frame moved `step` px right per frame."""
    source = labelled.frames[0]
    people = source.people
    result = []
    for k in range(frames):
        shift = np.array([step * k, 0.0])
        moved = replace(people, keypoints=np.where(people.annotated[..., None], people.keypoints + shift, 0.0),
                        head_boxes=people.head_boxes + np.tile(shift, 2), boxes=people.boxes + np.tile(shift, 2))
        result.append(replace(source, file_name=f"images/val/{labelled.name}/{k:06d}.jpg", people=moved,
                              image_id=None, frame_id=None,
                              ignore_regions=tuple(r + shift for r in source.ignore_regions)))
    return PoseTrackSequence(labelled.name, result)


def _predict(gt: PoseTrackSequence, score: float = 0.5) -> PoseTrackSequence:
    """A perfect prediction: the ground truth with every joint scored `score`."""
    frames = [replace(f, people=replace(f.people, scores=np.full(f.people.scores.shape, score)))
              for f in gt.frames]
    return replace(gt, frames=frames)


def _map_people(sequence: PoseTrackSequence, change) -> PoseTrackSequence:
    return replace(sequence, frames=[replace(f, people=change(k, f.people)) for k, f in enumerate(sequence.frames)])


def _gt_count(sequence: PoseTrackSequence, frame: int = 0) -> np.ndarray:
    """Annotated joints per scored joint in one frame, read straight from the annotation flags."""
    return sequence.frames[frame].people.annotated[:, SCORED_JOINT_INDEX].sum(axis=0)


def _heldout(heldout: Path, name: str) -> PoseTrackSequence:
    return read_sequence(heldout / f"{name}.json")


# ----------------------------------------------------------------------------------- a hand-worked example


def test_two_people_three_frames_by_hand(tmp_path: Path) -> None:
    """People A (far left) and B (far right), 15 joints each, head size 30 (hit radius 15 px).
    Predictions: frame 0 both exact; frame 1 A exact, B 20 px off (0.67 head sizes: every B joint misses);
    frame 2 both exact. Scores A 0.9; B 0.8, 0.7, 0.6 in frames 0, 1, 2.

    AP, per joint (all 15 alike): 6 ground-truth joints; ranked A, A, A (TP), 0.8 (TP), 0.7 (FP, B in
    frame 1 matches nobody), 0.6 (TP). Recall steps to 4/6 at precision 1, then to 5/6 at precision 5/6:
    AP = 4/6 + 1/6 * 5/6 = 29/36 = 80.56 %.

    MOT uses frames 0 and 1 (poseval leaves the last labelled frame out): frame 0 two matches, frame 1
    A matched, B missed, B's hypothesis a false positive: objects 4, FN 1, FP 1, IDSW 0:
    MOTA = 1 - 2/4 = 50 %, precision = 3/4, recall = 3/4, MOTP = 100 (all distances 0)."""
    gt = _sequence("000001_mpii_test", [_people((1, 100, 100, 1), (2, 900, 500, 1))] * 3)
    pred = _sequence("000001_mpii_test", [_people((1, 100, 100, 0.9), (2, 900, 500, 0.8)),
                                          _people((1, 100, 100, 0.9), (2, 920, 500, 0.7)),
                                          _people((1, 100, 100, 0.9), (2, 900, 500, 0.6))])
    result = evaluate_folders(*_write(tmp_path, [gt], [pred]))
    assert result.ap.ap == pytest.approx(np.full(15, 100 * 29 / 36))
    assert result.ap.total == pytest.approx(80.5556, abs=1e-4)
    assert result.mot.counts.objects.tolist() == [4] * 15
    assert result.mot.totals == pytest.approx({"mota": 50.0, "motp": 100.0, "precision": 75.0, "recall": 75.0})
    assert result.mot.mota_groups["Head"] == pytest.approx(50.0)


def test_motp_counts_each_distance_twice_as_motmetrics_1_4_does(tmp_path: Path) -> None:
    """Every predicted joint 12 px right (0.4 head sizes, a hit). poseval's MOTP is 1 - sumD / matches,
    and with motmetrics 1.4 sumD holds each distance twice (RAW row + MATCH row): 1 - 0.8 = 20 %."""
    gt = _sequence("000001_mpii_test", [_people((1, 100, 100, 1), (2, 900, 500, 1))] * 3)
    pred = _sequence("000001_mpii_test", [_people((1, 112, 100, 0.9), (2, 912, 500, 0.8))] * 3)
    result = evaluate_folders(*_write(tmp_path, [gt], [pred]))
    assert result.mot.totals["motp"] == pytest.approx(20.0)
    assert result.mot.totals["mota"] == 100.0 and result.ap.total == 100.0


# ----------------------------------------------------------------------- parity cases on real ground truth


def test_ground_truth_against_itself(heldout: Path) -> None:
    """Three val sequences scored against themselves: 100 AP for every joint.

    The ignore regions act: in 003418 the right knee at (1416, 429) lies inside region 6, whose left
    edge passes x = 1390 + (429 - 403) / (474 - 403) * 9 = 1393.3 at that height and whose right edge
    is x = 1919; so that knee leaves the ground truth: 0 + 2 + 8 right knees remain instead of 11.

    Each sequence has one labelled frame, so there is no MOT (poseval leaves the last labelled frame
    out). 003418 alone scores AP Total 66.7: its 10 joints with ground truth score 100, and poseval
    gives 0 (not NaN) to the 5 joints that have neither ground truth nor detections."""
    result = evaluate_folders(heldout, heldout, "2018")
    assert result.ap.groups == {g: 100.0 for g in result.ap.groups}
    assert result.ap.num_ground_truth[J["right_knee"]] == 10
    total_annotated = sum(_gt_count(read_sequence(p)) for p in heldout.glob("*.json"))
    assert result.ap.num_ground_truth.sum() == total_annotated.sum() - 1
    assert all(s.mot is None for s in result.sequences) and math.isnan(result.mot.totals["mota"])
    by_name = {s.name: s for s in result.sequences}
    assert by_name["003418_mpii_test"].ap.total == pytest.approx(1000 / 15)


def test_video_from_ground_truth_scores_100_ap_and_mota(heldout: Path, tmp_path: Path) -> None:
    """012834 (11 people) as a 4-frame video predicted perfectly: AP, MOTA, precision, recall and
    MOTP 100. MOT sees frames 0-2 only, so each joint has 3 x (its count in one frame) objects."""
    gt = _video(_heldout(heldout, "012834_mpii_test"), 4)
    result = evaluate_folders(*_write(tmp_path, [gt], [_predict(gt)]))
    assert result.ap.groups == {g: 100.0 for g in result.ap.groups}
    assert result.mot.totals == {"mota": 100.0, "motp": 100.0, "precision": 100.0, "recall": 100.0}
    assert result.mot.counts.objects.tolist() == (3 * _gt_count(gt)).tolist()
    assert result.ap.num_ground_truth.tolist() == (4 * _gt_count(gt)).tolist()


def test_left_wrists_far_off(heldout: Path, tmp_path: Path) -> None:
    """Every predicted left wrist put at (5, 5), far from every person; all else exact.
    AP: left wrist 0 (all false positives), every other joint 100 -> Wrist 50, Total 14/15 = 93.3.
    MOT: each frame has n left-wrist objects all missed and n false positives: MOTA = 1 - 2n/n = -100;
    Wrist MOTA = (100 - 100) / 2 = 0, Total = (14 x 100 - 100) / 15 = 86.7."""
    gt = _video(_heldout(heldout, "012834_mpii_test"), 4)
    wrist = JOINT_INDEX["left_wrist"]

    def move(_: int, people: PoseTrackPeople) -> PoseTrackPeople:
        keypoints = people.keypoints.copy()
        keypoints[people.annotated[:, wrist], wrist] = (5.0, 5.0)
        return replace(people, keypoints=keypoints)

    result = evaluate_folders(*_write(tmp_path, [gt], [_map_people(_predict(gt), move)]))
    assert result.ap.ap[J["left_wrist"]] == 0.0 and result.ap.groups["Wrist"] == 50.0
    assert result.ap.total == pytest.approx(1400 / 15)
    assert result.mot.scores.mota[J["left_wrist"]] == -100.0
    assert result.mot.mota_groups["Wrist"] == 0.0 and result.mot.totals["mota"] == pytest.approx(1300 / 15)


def test_a_person_never_predicted(heldout: Path, tmp_path: Path) -> None:
    """Track 3 of 012834 dropped from every prediction frame. With n_j people having joint j and
    d_j in {0, 1} (does track 3 have it): precision stays 1 and recall tops at (n - d) / n, so
    AP_j = 100 (n_j - d_j) / n_j; MOT misses d_j per frame: MOTA_j = recall_j = the same ratio."""
    gt = _video(_heldout(heldout, "012834_mpii_test"), 4)
    pred = _map_people(_predict(gt), lambda _, people: people.select(people.track_ids != 3))
    result = evaluate_folders(*_write(tmp_path, [gt], [pred]))
    n = _gt_count(gt).astype(float)
    track3 = gt.frames[0].people.track_ids.tolist().index(3)
    d = gt.frames[0].people.annotated[track3, SCORED_JOINT_INDEX].astype(float)
    assert result.ap.ap == pytest.approx(100 * (n - d) / n)
    assert result.mot.scores.mota == pytest.approx(100 * (n - d) / n)
    assert result.mot.scores.recall == pytest.approx(100 * (n - d) / n)
    assert result.mot.scores.precision == pytest.approx(np.full(15, 100.0))


def _with_extra_person(sequence: PoseTrackSequence, score: float, at: tuple[float, float] = (40.0, 400.0),
                       drop_scores: bool = False) -> PoseTrackSequence:
    """Adds track 99, a compact 16 x 12 px pose at `at`, scored `score`, to every frame.

    The default spot is clear in 012834: its nearest person's joints are over 100 px away (hit radii
    there are about 20 px), and its ignore regions start at x = 121 (top strip), x = 451 (y < 214),
    x = 1312 (y < 815) and y = 612 (the bottom band), none of which reach (40-56, 400-412).
    """
    extra = _people((99, at[0], at[1], score))

    def add(_: int, people: PoseTrackPeople) -> PoseTrackPeople:
        if drop_scores:
            people = replace(people, scores=np.full(people.scores.shape, np.nan))
        return PoseTrackPeople(**{name: np.concatenate([getattr(people, name), getattr(extra, name)])
                                  for name in people.__dataclass_fields__})

    return _map_people(sequence, add)


def test_an_extra_person_scored_low_and_high(heldout: Path, tmp_path: Path) -> None:
    """Track 99 added to every frame, far from the 11 people, with all 15 joints.
    Scored 0.01 (below the true people's 0.5): its false positives rank last, AP stays 100. MOT: one
    false positive per joint and frame: MOTA_j = 1 - 3 / (3 n_j); precision_j = n_j / (n_j + 1).
    Scored 0.99: its 4 false positives per joint rank first, so with N_j = 4 n_j true ones the
    precision envelope is N / (N + 4) everywhere: AP_j = 100 N_j / (N_j + 4)."""
    gt = _video(_heldout(heldout, "012834_mpii_test"), 4)
    n = _gt_count(gt).astype(float)
    low = evaluate_folders(*_write(tmp_path / "low", [gt], [_with_extra_person(_predict(gt), 0.01)]))
    assert low.ap.ap == pytest.approx(np.full(15, 100.0))
    assert low.mot.scores.mota == pytest.approx(100 * (1 - 1 / n))
    assert low.mot.scores.precision == pytest.approx(100 * n / (n + 1))
    high = evaluate_folders(*_write(tmp_path / "high", [gt], [_with_extra_person(_predict(gt), 0.99)]))
    assert high.ap.ap == pytest.approx(100 * (4 * n) / (4 * n + 4))


def test_swapped_track_ids(heldout: Path, tmp_path: Path) -> None:
    """009473 (2 people) as 4 frames; the prediction swaps the two track ids in frame 1 only.
    Per joint with k in {1, 2} people having it: frame 1 is k switches (each person's hypothesis id
    changed), frame 2 k more (back again); objects 3k over frames 0-2: MOTA = 1 - 2k / 3k = 33.3.

    Except the left ankle: the two people's left ankles are 0.39 and 0.44 of each other's head sizes
    apart (within the 0.5 hit radius), and motmetrics first keeps an object on its previous hypothesis
    whenever that pair may match: with swapped ids each ankle simply stays on its old id -- no switch,
    MOTA 100. AP does not look at ids: 100."""
    gt = _video(_heldout(heldout, "009473_mpii_test"), 4)

    def swap(frame: int, people: PoseTrackPeople) -> PoseTrackPeople:
        return replace(people, track_ids=people.track_ids[::-1].copy()) if frame == 1 else people

    result = evaluate_folders(*_write(tmp_path, [gt], [_map_people(_predict(gt), swap)]))
    k = _gt_count(gt)
    expected_switches = 2 * k
    expected_switches[J["left_ankle"]] = 0
    assert result.mot.counts.switches.tolist() == expected_switches.tolist()
    expected_mota = np.full(15, 100 / 3)
    expected_mota[J["left_ankle"]] = 100.0
    assert result.mot.scores.mota == pytest.approx(expected_mota)
    assert result.ap.total == 100.0


def test_missing_scores_rank_as_minus_9999(heldout: Path, tmp_path: Path) -> None:
    """The prediction has no `scores` at all (poseval warns and uses -9999), plus track 99 scored -100.
    -100 > -9999, so the extra person's false positives rank first: AP_j = 100 N_j / (N_j + 4) as in
    the high-score case. (Were a missing score 0 the extra would rank last and AP stay 100; were it
    left NaN, argsort would put the true positives first and AP stay 100 too.)"""
    gt = _video(_heldout(heldout, "012834_mpii_test"), 4)
    pred = _with_extra_person(_predict(gt), -100.0, drop_scores=True)
    gt_dir, pred_dir = _write(tmp_path, [gt], [pred])
    written = json.loads((pred_dir / "012834_mpii_test.json").read_text())
    assert {len(a["scores"]) for a in written["annotations"]} == {0, 17}  # [] for the unscored people
    result = evaluate_folders(gt_dir, pred_dir)
    n = 4 * _gt_count(gt).astype(float)
    assert result.ap.ap == pytest.approx(100 * n / (n + 4))


def test_false_positive_inside_an_ignore_region_is_not_counted(heldout: Path, tmp_path: Path) -> None:
    """003418's region 6 spans x from about 1350-1375 to 1919 for y in 250-350, so a compact pose at
    (1650, 300) lies inside it and is dropped with all its joints: a high-scored copy changes nothing
    (Total 1000/15: the 10 joints with ground truth score 100, the 5 without any ground truth or
    detection 0, as in the ground-truth-against-itself case).
    The same pose at (900, 900) is outside every region: each of the 10 joints with ground truth then
    ranks one false positive first, AP 50; the other joints now have detections but no ground truth:
    NaN in poseval, left out of the Total, which is therefore 50."""
    gt = _heldout(heldout, "003418_mpii_test")
    inside = evaluate_folders(*_write(tmp_path / "in", [gt], [_with_extra_person(_predict(gt), 0.99,
                                                                                 at=(1650, 300))]))
    assert inside.ap.total == pytest.approx(1000 / 15)
    assert inside.ap.ap.tolist() == evaluate_folders(*_write(tmp_path / "same", [gt], [_predict(gt)])).ap.ap.tolist()
    outside = evaluate_folders(*_write(tmp_path / "out", [gt], [_with_extra_person(_predict(gt), 0.99,
                                                                                   at=(900, 900))]))
    has_gt = outside.ap.num_ground_truth > 0
    assert has_gt.sum() == 10
    assert outside.ap.ap[has_gt] == pytest.approx(np.full(10, 50.0))
    assert np.isnan(outside.ap.ap[~has_gt]).all() and outside.ap.total == 50.0


def test_posetrack21_rules(heldout: Path, tmp_path: Path) -> None:
    """--version 21 counts a joint only at x > 0 and y > 0: 012834's track 10 has its head top at
    y = -24.9, so one head top fewer than poseval counts; a perfect prediction still scores 100.
    Recall divides by max(n, 1): joints with no ground truth but false positives score 0, not NaN.
    003418 plus a low-scored extra person: poseval Total = mean of the 10 joints with ground truth =
    100; PoseTrack21 Total = (10 x 100 + 5 x 0) / 15 = 66.7."""
    gt = _heldout(heldout, "012834_mpii_test")
    old = evaluate_folders(*_write(tmp_path / "a", [gt], [_predict(gt)]), "2018")
    new = evaluate_folders(tmp_path / "a" / "gt", tmp_path / "a" / "pred", "21")
    assert new.ap.num_ground_truth[J["head_top"]] == old.ap.num_ground_truth[J["head_top"]] - 1
    assert new.ap.total == 100.0
    gt = _heldout(heldout, "003418_mpii_test")
    folders = _write(tmp_path / "b", [gt], [_with_extra_person(_predict(gt), 0.01, at=(900, 900))])
    assert evaluate_folders(*folders, "2018").ap.total == 100.0
    assert evaluate_folders(*folders, "21").ap.total == pytest.approx(1000 / 15)


def test_posetrack21_metric_set_and_version_from_the_ground_truth(tmp_path: Path) -> None:
    """PoseTrack21 gives mAP and keypoint HOTA, no MOTA; without a version, person_id in the ground truth
    picks it, and a 2018 file without person_id gets poseval's AP and MOTA."""
    frames = [_people((1, 100, 100, 1), (2, 900, 500, 1))] * 3
    gt = _sequence("000001_mpii_test", frames)
    folders = _write(tmp_path / "18", [gt], [gt])
    plain = evaluate_folders(*folders, None)
    assert plain.version == "2018" and plain.hota is None and plain.mot.totals["mota"] == 100.0
    for frame in gt.frames:
        frame.people.person_ids[:] = [11, 12]
    folders = _write(tmp_path / "21", [gt], [gt])
    result = evaluate_folders(*folders, None)
    assert result.version == "21" and result.mot is None and result.ap.total == 100.0
    assert result.hota.groups("HOTA")["Total"] == pytest.approx(100.0)
    assert result.sequences[0].hota.totals["AssA"] == pytest.approx(100.0)


def test_posetrack21_cuts_scores_of_all_integer_prediction_frames(tmp_path: Path) -> None:
    """The kit reads a frame whose keypoints are all JSON integers into an integer array, scores included.

    Frame 0: the right person (0.9) and a wrong one (0.3); frame 1: the right person (0.5). As floats
    they rank 0.9 (TP), 0.5 (TP), 0.3 (FP): AP 100. With frame 0's keypoints integers its scores become
    0 and 0; argsort()[::-1] of [0, 0, 0.5] is [2, 1, 0], so the ranked labels are TP, FP, TP:
    AP = 1/2 x 1 + 1/2 x 2/3 = 5/6."""
    person = _people((1, 100, 100, 1))
    gt = _sequence("000001_mpii_test", [person, person])
    right = _people((1, 100, 100, 0.9))
    wrong = _people((2, 600, 300, 0.3))
    both = PoseTrackPeople.from_persons([right[0], wrong[0]])
    pred = _sequence("000001_mpii_test", [both, _people((1, 100, 100, 0.5))])
    gt_dir, pred_dir = _write(tmp_path, [gt], [pred])
    assert evaluate_folders(gt_dir, pred_dir, "21").ap.total == 100.0
    document = json.loads((pred_dir / "000001_mpii_test.json").read_text())
    for annotation in document["annotations"]:
        if annotation["image_id"] == document["images"][0]["id"]:
            annotation["keypoints"] = [int(v) for v in annotation["keypoints"]]
    (pred_dir / "000001_mpii_test.json").write_text(json.dumps(document))
    assert read_sequence(pred_dir / "000001_mpii_test.json").frames[0].integer_keypoints
    assert evaluate_folders(gt_dir, pred_dir, "2018").ap.total == 100.0  # poseval keeps the fractions
    assert evaluate_folders(gt_dir, pred_dir, "21").ap.total == pytest.approx(500 / 6)


# ----------------------------------------------------------------------------- poseval quirks, synthetic


def test_last_labelled_frame_is_left_out_of_mot(tmp_path: Path) -> None:
    """No prediction at all in the last of 4 frames: MOT does not see it (MOTA 100); AP does:
    recall 3/4 at precision 1 -> 75."""
    frames = [_people((1, 100, 100, 1), (2, 900, 500, 1))] * 4
    gt = _sequence("000001_mpii_test", frames)
    pred = _sequence("000001_mpii_test", frames[:3] + [_people()])
    result = evaluate_folders(*_write(tmp_path, [gt], [pred]))
    assert result.mot.totals["mota"] == 100.0 and result.ap.total == pytest.approx(75.0)


def test_empty_prediction_frame_counts_one_miss_and_one_false_positive(tmp_path: Path) -> None:
    """Frame 0 has 2 people but no prediction: poseval scores that frame as 1 object, 1 miss and 1 false
    positive per joint (whatever the number of people). Frames 1-2 match both people: objects 1 + 4,
    errors 2: MOTA = 1 - 2/5 = 60 %."""
    frames = [_people((1, 100, 100, 1), (2, 900, 500, 1))] * 4
    gt = _sequence("000001_mpii_test", frames)
    pred = _sequence("000001_mpii_test", [_people()] + frames[1:])
    result = evaluate_folders(*_write(tmp_path, [gt], [pred]))
    assert result.mot.counts.objects.tolist() == [5] * 15
    assert result.mot.totals["mota"] == pytest.approx(60.0)


def test_person_without_joints_is_dropped_only_where_there_are_ignore_regions(tmp_path: Path) -> None:
    """Frame 0's ground truth is one person with no joints; the prediction has one person there.
    Without ignore regions that person keeps the frame "non-empty": no objects, 1 false positive per
    joint. With an ignore region elsewhere on the frame, poseval removes the jointless person, the frame
    is empty and becomes its 1 object + 1 miss + 1 FP stand-in. Frames 1-2 match 1 person each.
    MOTA without region: 1 - 1/2 = 50 %; with: 1 - 2/3 = 33.3 %."""
    jointless = replace(_people((5, 300, 300, 1)), annotated=np.zeros((1, NUM_JOINTS), bool))
    person = _people((1, 100, 100, 1))
    gt_frames = [jointless, person, person, person]
    pred_frames = [_people((7, 600, 600, 0.5)), person, person, person]
    plain = evaluate_folders(*_write(tmp_path / "a", [_sequence("000001_mpii_test", gt_frames)],
                                     [_sequence("000001_mpii_test", pred_frames)]))
    assert plain.mot.totals["mota"] == pytest.approx(50.0)
    region = {0: (np.array([[1500.0, 900.0], [1600.0, 900.0], [1600.0, 1000.0]]),)}
    regioned = evaluate_folders(*_write(tmp_path / "b", [_sequence("000001_mpii_test", gt_frames, region)],
                                        [_sequence("000001_mpii_test", pred_frames)]))
    assert regioned.mot.totals["mota"] == pytest.approx(100 / 3)


def test_unlabelled_frames(tmp_path: Path) -> None:
    """Frame 1 is flagged labelled but has nobody in the ground truth; the prediction has a person there.
    poseval scores frames that list somebody, so it ignores frame 1: AP 100. PoseTrack21 scores frames
    flagged is_labeled, so frame 1's person is 15 false positives ranked first (score 0.9 > 0.5):
    per joint 2 true positives after 1 false positive -> AP = 2/3."""
    person = _people((1, 100, 100, 1))
    gt = _sequence("000001_mpii_test", [person, _people(), person])
    pred = _sequence("000001_mpii_test", [_people((1, 100, 100, 0.5)), _people((3, 500, 500, 0.9)),
                                          _people((1, 100, 100, 0.5))])
    folders = _write(tmp_path, [gt], [pred])
    assert evaluate_folders(*folders, "2018").ap.total == 100.0
    assert evaluate_folders(*folders, "21").ap.total == pytest.approx(200 / 3)


# ------------------------------------------------------------------------------------------------ bad input


def _folders(tmp_path: Path, frames: int = 3) -> tuple[Path, Path, PoseTrackSequence]:
    gt = _sequence("000001_mpii_test", [_people((1, 100, 100, 1))] * frames)
    return (*_write(tmp_path, [gt], [_predict(gt)]), gt)


def _message(gt_dir: Path, pred_dir: Path, version: str = "2018") -> str:
    with pytest.raises(InputError) as caught:
        evaluate_folders(gt_dir, pred_dir, version)
    return str(caught.value)


def test_missing_prediction_file(tmp_path: Path) -> None:
    gt_dir, pred_dir, _ = _folders(tmp_path)
    (pred_dir / "000001_mpii_test.json").unlink()
    assert _message(gt_dir, pred_dir) == (f"{pred_dir / '000001_mpii_test.json'}: the prediction for sequence "
                                          f"000001_mpii_test is missing")


def test_frames_in_another_count_or_order(tmp_path: Path) -> None:
    gt_dir, pred_dir, gt = _folders(tmp_path)
    write_sequence(replace(gt, frames=gt.frames[:2]), pred_dir / "000001_mpii_test.json")
    assert "lists 2 frames, the ground truth 3" in _message(gt_dir, pred_dir)
    write_sequence(replace(gt, frames=gt.frames[::-1]), pred_dir / "000001_mpii_test.json")
    assert ("sequence 000001_mpii_test, frame 0: the prediction lists images/val/000001_mpii_test/000002.jpg"
            in _message(gt_dir, pred_dir))


def test_malformed_prediction_json(tmp_path: Path) -> None:
    gt_dir, pred_dir, _ = _folders(tmp_path)
    (pred_dir / "000001_mpii_test.json").write_text('{"images": [}')
    assert "000001_mpii_test.json: not valid JSON" in _message(gt_dir, pred_dir)


def test_nan_in_prediction(tmp_path: Path) -> None:
    gt_dir, pred_dir, gt = _folders(tmp_path)
    document = sequence_document(_predict(gt))
    document["annotations"][2]["keypoints"][0] = float("nan")
    (pred_dir / "000001_mpii_test.json").write_text(json.dumps(document))
    assert "sequence 000001_mpii_test, frame 2 (images/val/000001_mpii_test/000002.jpg): nose of track 1 is NaN" \
        in _message(gt_dir, pred_dir)


def test_joint_far_outside_the_image(tmp_path: Path) -> None:
    """Beyond half an image outside the 1920 x 1080 frame a joint is in another coordinate system."""
    gt_dir, pred_dir, gt = _folders(tmp_path)

    def away(frame: int, people: PoseTrackPeople) -> PoseTrackPeople:
        keypoints = people.keypoints.copy()
        if frame == 1:
            keypoints[0, JOINT_INDEX["left_knee"]] = (5000.0, 100.0)
        return replace(people, keypoints=keypoints)

    write_sequence(_map_people(_predict(gt), away), pred_dir / "000001_mpii_test.json")
    assert ("frame 1 (images/val/000001_mpii_test/000001.jpg): left_knee of track 1 is at (5000, 100), far "
            "outside the 1920x1080 image") in _message(gt_dir, pred_dir)


def test_duplicate_and_oversized_track_ids(tmp_path: Path) -> None:
    gt_dir, pred_dir, gt = _folders(tmp_path)
    twice = _sequence("000001_mpii_test", [_people((1, 100, 100, 1), (1, 900, 500, 1))] * 3)
    write_sequence(twice, pred_dir / "000001_mpii_test.json")
    assert "frame 0 (images/val/000001_mpii_test/000000.jpg): a track id is used twice" in _message(gt_dir, pred_dir)
    write_sequence(_sequence("000001_mpii_test", [_people((12345, 100, 100, 1))] * 3),
                   pred_dir / "000001_mpii_test.json")
    assert "track ids must be below 10000" in _message(gt_dir, pred_dir)


def test_ground_truth_without_head_box(tmp_path: Path) -> None:
    gt_dir, pred_dir, gt = _folders(tmp_path)
    write_sequence(_map_people(gt, lambda _, p: replace(p, head_boxes=np.full((len(p), 4), np.nan))),
                   gt_dir / "000001_mpii_test.json")
    assert "track 1 has joints but no head box (bbox_head)" in _message(gt_dir, pred_dir)


def test_folders_and_version(tmp_path: Path) -> None:
    gt_dir, pred_dir, _ = _folders(tmp_path)
    assert "prediction folder does not exist" in _message(gt_dir, tmp_path / "nope")
    a_file = next(gt_dir.glob("*.json"))
    assert "is a file; the ground-truth must be a folder" in _message(a_file, pred_dir)
    (tmp_path / "empty").mkdir()
    assert "no ground-truth *.json files" in _message(tmp_path / "empty", pred_dir)
    with pytest.raises(ValueError, match="unknown PoseTrack version"):
        evaluate_folders(gt_dir, pred_dir, "2019")


def test_result_is_strict_json(tmp_path: Path) -> None:
    gt_dir, pred_dir, _ = _folders(tmp_path, frames=1)  # one frame: MOT is undefined (NaN -> null)
    document = evaluate_folders(gt_dir, pred_dir).to_dict()
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text)["mot"]["totals"]["mota"] is None
    assert document["per_sequence"][0]["mot"] is None and document["ap"]["groups"]["Total"] == 100.0
