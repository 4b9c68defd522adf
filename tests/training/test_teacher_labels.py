"""BlazePose -> PoseTrack joint mapping, including the two derived head joints."""

from __future__ import annotations

import numpy as np

from ftppose_cli.formats.joints import JOINT_INDEX
from ftppose_cli.training.teacher_labels import blazepose_to_posetrack


def _upright_face() -> np.ndarray:
    kp = np.zeros((33, 3), np.float32)
    kp[:, 2] = 0.9
    kp[2, :2] = (90, 100)   # left eye
    kp[5, :2] = (110, 100)  # right eye
    kp[9, :2] = (95, 120)   # mouth left
    kp[10, :2] = (105, 120)  # mouth right
    kp[15, :2] = (40, 300)  # left wrist
    return kp


def test_direct_joints_are_copied() -> None:
    xy, vis = blazepose_to_posetrack(_upright_face())
    assert np.allclose(xy[JOINT_INDEX["left_wrist"]], (40, 300))
    assert vis[JOINT_INDEX["left_wrist"]] == np.float32(0.9)


def test_head_joints_follow_the_face_axis() -> None:
    xy, _ = blazepose_to_posetrack(_upright_face())
    # eyes at y=100, mouth at y=120: crown 1.7 eye-mouth distances above the eyes, chin one below the mouth
    assert np.allclose(xy[JOINT_INDEX["head_top"]], (100, 66))
    assert np.allclose(xy[JOINT_INDEX["head_bottom"]], (100, 140))


def test_head_joints_rotate_with_the_head_and_take_the_weakest_visibility() -> None:
    kp = _upright_face()
    kp[:, 1] *= -1  # upside down
    kp[10, 2] = 0.3
    xy, vis = blazepose_to_posetrack(kp)
    assert xy[JOINT_INDEX["head_top"], 1] > xy[JOINT_INDEX["head_bottom"], 1]
    assert vis[JOINT_INDEX["head_top"]] == vis[JOINT_INDEX["head_bottom"]] == np.float32(0.3)


# --------------------------------------------------------------------------- Thunder labels (schema 2) and LSPet

def _thunder_person(angle: float = 0.0, score: float = 0.8) -> np.ndarray:
    """COCO-17 [x, y, score] of an upright person (face up), rotated by ``angle`` radians about (100, 100)."""
    from ftppose_cli.formats.joints import COCO_JOINTS

    points = {"nose": (100, 60), "left_eye": (105, 55), "right_eye": (95, 55), "left_ear": (110, 58),
              "right_ear": (90, 58), "left_shoulder": (120, 90), "right_shoulder": (80, 90),
              "left_elbow": (125, 120), "right_elbow": (75, 120), "left_wrist": (128, 150),
              "right_wrist": (72, 150), "left_hip": (112, 150), "right_hip": (88, 150), "left_knee": (112, 190),
              "right_knee": (88, 190), "left_ankle": (112, 230), "right_ankle": (88, 230)}
    kp = np.array([[*points[name], score] for name in COCO_JOINTS], np.float32)
    c, s = np.cos(angle), np.sin(angle)
    kp[:, :2] = (kp[:, :2] - 100) @ np.array([[c, s], [-s, c]], np.float32) + 100
    return kp


def test_thunder_joints_map_by_name_and_low_scores_get_no_weight() -> None:
    from ftppose_cli.training.teacher_labels import THUNDER_VISIBLE, thunder_to_posetrack

    kp = _thunder_person()
    kp[9, 2] = THUNDER_VISIBLE - 0.01  # left wrist unsure
    xy, vis = thunder_to_posetrack(kp)
    assert np.allclose(xy[JOINT_INDEX["left_wrist"]], (128, 150))
    assert np.allclose(xy[JOINT_INDEX["right_ankle"]], (88, 230))
    assert vis[JOINT_INDEX["left_wrist"]] == 0 and vis[JOINT_INDEX["right_wrist"]] == 1
    assert set(np.unique(vis)) <= {0.0, 1.0}


def test_derived_head_joints_turn_with_the_person() -> None:
    from ftppose_cli.training.teacher_labels import thunder_to_posetrack

    upright, _ = thunder_to_posetrack(_thunder_person())
    inverted, _ = thunder_to_posetrack(_thunder_person(np.pi))
    assert upright[JOINT_INDEX["head_top"], 1] < upright[JOINT_INDEX["head_bottom"], 1] < 90
    # rotating the person by 180 degrees about (100, 100) rotates the derived joints with it
    assert np.allclose(200 - upright[[1, 2]], inverted[[1, 2]], atol=1e-3)


def test_head_fit_recovers_a_known_combination() -> None:
    from ftppose_cli.training.teacher_labels import _head_basis, fit_head_from_face

    rng = np.random.default_rng(0)
    people = np.stack([_thunder_person(a) for a in rng.uniform(-3, 3, 40)])
    people[:, :, :2] += rng.normal(0, 2, people[:, :, :2].shape)
    truth = (0.3, 0.9, 0.4)
    target = np.stack([_head_basis(k)[1] + np.asarray(truth) @ _head_basis(k)[0] for k in people])
    target[:3] += 80  # three people with wrong ground truth: trimmed away
    coef, error = fit_head_from_face(people, target, np.full(len(people), 200.0))
    assert np.allclose(coef, truth, atol=1e-4) and error < 1e-4


def _write_corpus(root, persons: list[dict], frames: int = 4) -> None:
    import json

    (root / "labels" / "videos").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"videos": [{"file": "videos/a.mp4", "scene": "s"}],
                                                    "images": []}))
    labels = {"schema": "ftppose-teacher-labels/2", "source": "videos/a.mp4", "kind": "video", "width": 640,
              "height": 480, "num_frames": frames, "frames": [{"frame": f, "persons": persons} for f in range(frames)]}
    (root / "labels" / "videos" / "a.mp4.json").write_text(json.dumps(labels))


def _labelled(**changes) -> dict:
    person = {"box": [200.0, 100.0, 60.0, 170.0], "score": 0.9, "flip_err": 0.01,
              "kp": _thunder_person().tolist()}
    return {**person, **changes}


def test_schema_2_people_pass_only_when_confident_stable_and_seen(tmp_path) -> None:
    from ftppose_cli.training.teacher_labels import MAX_FLIP_ERR, PERSON_SCORE, load_teacher_samples

    unsure_arms = _labelled()
    unsure_arms["kp"] = [[x, y, 0.1 if 5 <= i < 13 else s] for i, (x, y, s) in enumerate(unsure_arms["kp"])]
    _write_corpus(tmp_path, [_labelled(), _labelled(score=PERSON_SCORE - 0.01), _labelled(flip_err=MAX_FLIP_ERR * 2),
                             {"box": [0, 0, 50, 50], "score": 0.9}, _labelled(box=[0, 0, 20, 30]), unsure_arms])
    samples = load_teacher_samples(tmp_path)
    assert len(samples) == 4 and {s.frame for s in samples} == {0, 1, 2, 3}
    assert samples[0].scene == "s" and samples[0].num_frames == 4
    assert [s.frame for s in load_teacher_samples(tmp_path, video_frame_step=2)] == [0, 2]


def test_lspet_people_take_ground_truth_limbs_and_thunder_faces(tmp_path) -> None:
    import json

    from scipy.io import savemat

    from ftppose_cli.formats.lspet import LSPET_JOINTS, LSPET_VAL_COUNT, LSPET_VAL_SCENE
    from ftppose_cli.training.teacher_labels import load_lspet_samples

    count = LSPET_VAL_COUNT + 2
    joints = np.zeros((14, 3, count))
    joints[:, 0, :] = np.arange(14)[:, None] * 10 + 5
    joints[:, 1, :] = 50
    joints[:, 2, :] = 1
    joints[0, 2, 0] = 0  # right ankle hidden
    joints[1, 0, 0] = -30  # right knee outside the image, marked visible
    savemat(tmp_path / "joints.mat", {"joints": joints})
    thunder = _thunder_person()
    thunder[3, 2] = 0.1  # left ear unsure
    people = [{"index": i, "image": f"images/im{i + 1:05d}.jpg", "width": 200, "height": 100,
               "box": [0, 0, 150, 100], "kp": thunder.tolist()} for i in range(count)]
    (tmp_path / "lspet.json").write_text(json.dumps({"root": str(tmp_path), "people": people}))
    samples = load_lspet_samples(tmp_path)
    first = samples[0]
    assert first.source == str(tmp_path / "images" / "im00001.jpg") and first.kind == "image"
    assert np.allclose(first.keypoints[JOINT_INDEX["head_top"]], (LSPET_JOINTS.index("head_top") * 10 + 5, 50))
    vis = dict(zip(["nose", "left_ear", "right_ear", "right_ankle", "right_knee", "left_wrist", "head_bottom"],
                   first.visibility[[JOINT_INDEX[n] for n in ("nose", "left_ear", "right_ear", "right_ankle",
                                                              "right_knee", "left_wrist", "head_bottom")]]))
    assert vis == {"nose": 1, "left_ear": 0, "right_ear": 1, "right_ankle": 0, "right_knee": 0, "left_wrist": 1,
                   "head_bottom": 1}
    assert np.allclose(first.keypoints[JOINT_INDEX["nose"]], thunder[0, :2])
    assert [s.scene for s in samples[:2]] == ["lspet_0000", "lspet_0000"]
    assert {s.scene for s in samples[2:]} == {LSPET_VAL_SCENE}
