"""Training samples from teacher pseudo-labels and from LSPet.

Two label schemas are read. ``ftppose-teacher-labels/1`` (the first corpus labels) gives
33 BlazePose landmarks per detector box; ``ftppose-teacher-labels/2``
(``scripts/label_corpus.py``) gives MoveNet Thunder's 17 COCO keypoints with per-joint
scores. PoseTrack has 17 joints, two of which neither teacher has:

* from BlazePose they come from the face, using head proportions (the eyes sit about
  half-way between chin and crown; the mouth-to-eye distance is roughly a third of that
  half): ``head_top = eye_mid + 1.7 (eye_mid - mouth_mid)``,
  ``head_bottom = mouth_mid + 1.0 (mouth_mid - eye_mid)``;
* COCO has no mouth, so from Thunder they are a fixed combination of the nose, the eye
  midpoint and the ear midpoint, each taken relative to the shoulder midpoint
  (``HEAD_FROM_FACE``): least squares against LSPet's ground-truth neck and head top on its
  training images, where Thunder labelled the face (``scripts/label_corpus.py --report`` prints
  the fit: a median error of 3.5 % (head top) and 2.9 % (neck) of the box side).
  The combination is rotation-equivariant, so it follows lying and inverted people.

A derived joint is only as visible as the least visible point it uses. Ears map directly;
eyes have no PoseTrack joint and are dropped.

LSPet people get their ground-truth limb joints, neck (``head_bottom``) and head top, with
LSPet's own visibility, plus Thunder's nose and ears.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ftppose_cli.formats.joints import COCO_JOINTS, COCO_TO_POSETRACK, JOINT_INDEX, NUM_JOINTS
from ftppose_cli.formats.lspet import LSPET_JOINTS, LSPET_VAL_COUNT, LSPET_VAL_SCENE
from ftppose_cli.training.crop_cache import PersonSample

# BlazePose landmark index for each PoseTrack joint that exists in BlazePose.
_BLAZEPOSE_DIRECT: dict[str, int] = {
    "nose": 0, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}
_EYES = (2, 5)
_MOUTH = (9, 10)
HEAD_TOP_FACTOR = 1.7
HEAD_BOTTOM_FACTOR = 1.0
VISIBLE = 0.5
SCHEMA_THUNDER = "ftppose-teacher-labels/2"
PERSON_SCORE = 0.4  # fused detector score of a schema-2 person worth a training crop
MIN_PERSON_SIDE = 40  # pixels, the box's longer side
MAX_FLIP_ERR = 0.05  # Thunder's crop-vs-mirror disagreement over the body joints, in crop sides
# Validation scenes of the teacher corpus: two indoor scenes unlike the rest (a bedroom, a dance room).
TEACHER_VAL_SCENES: tuple[str, ...] = ("sam2_bedroom", "tfjs_dance_room")

# Thunder's per-joint score from which a joint counts as labelled (weight 1); below it, weight 0.
THUNDER_VISIBLE = 0.3
# head_top / head_bottom - shoulder_mid = a (nose - shoulder_mid) + b (eye_mid - shoulder_mid)
# + c (ear_mid - shoulder_mid); (a, b, c) fitted on LSPet's training images (see module docstring).
HEAD_FROM_FACE: dict[str, tuple[float, float, float]] = {
    "head_top": (-2.467, 3.254, 0.349),
    "head_bottom": (1.281, -1.459, 0.736),
}
_COCO_INDEX = {name: i for i, name in enumerate(COCO_JOINTS)}
# Training images per LSPet "scene" (consecutive images) for the scene-balanced draws: at scene power
# 0.35 this gives LSPet about 60 % of the draws next to the video corpus (9,000 one-image scenes would
# give it over 95 %, and the video scenes' crowds, seated people and motion would be drawn too rarely).
LSPET_SCENE_SIZE = 200


def blazepose_to_posetrack(kp33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(33, 3)`` [x, y, visibility] -> PoseTrack ``xy (17, 2)`` and ``visibility (17,)``."""
    kp33 = np.asarray(kp33, dtype=np.float32)
    xy = np.zeros((NUM_JOINTS, 2), np.float32)
    vis = np.zeros(NUM_JOINTS, np.float32)
    for name, bp in _BLAZEPOSE_DIRECT.items():
        xy[JOINT_INDEX[name]] = kp33[bp, :2]
        vis[JOINT_INDEX[name]] = kp33[bp, 2]
    eye = kp33[list(_EYES), :2].mean(0)
    mouth = kp33[list(_MOUTH), :2].mean(0)
    face_vis = kp33[list(_EYES + _MOUTH), 2].min()
    xy[JOINT_INDEX["head_top"]] = eye + HEAD_TOP_FACTOR * (eye - mouth)
    xy[JOINT_INDEX["head_bottom"]] = mouth + HEAD_BOTTOM_FACTOR * (mouth - eye)
    vis[JOINT_INDEX["head_top"]] = face_vis
    vis[JOINT_INDEX["head_bottom"]] = face_vis
    return xy, vis


def _head_basis(kp17: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The nose, eye-midpoint and ear-midpoint offsets ``(3, 2)`` from the shoulder midpoint, that
    midpoint, and the lowest score among the points used."""
    idx = _COCO_INDEX
    shoulder = kp17[[idx["left_shoulder"], idx["right_shoulder"]], :2].mean(0)
    points = np.stack([kp17[idx["nose"], :2], kp17[[idx["left_eye"], idx["right_eye"]], :2].mean(0),
                       kp17[[idx["left_ear"], idx["right_ear"]], :2].mean(0)])
    used = [idx[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                             "right_shoulder")]
    return points - shoulder, shoulder, float(kp17[used, 2].min())


def fit_head_from_face(kp17: np.ndarray, target: np.ndarray, scale: np.ndarray,
                       trim: float = 0.1) -> tuple[tuple[float, float, float], float]:
    """Least-squares ``(a, b, c)`` of ``HEAD_FROM_FACE`` for one derived joint, and the median error.

    ``kp17`` ``(n, 17, 3)`` are teacher keypoints, ``target`` ``(n, 2)`` the joint's ground truth
    (pass only people whose target and face points are all labelled), ``scale`` ``(n,)`` each
    person's box side: errors are measured in box sides, as PCK measures them. The worst ``trim``
    of the people (mislabelled truth, a teacher's wrong face) are dropped and the fit redone, a few
    times, so they do not pull it.
    """
    bases = [_head_basis(k) for k in kp17]
    scale = np.asarray(scale, np.float64)[:, None, None]
    design = (np.stack([b[0] for b in bases]) / scale).transpose(0, 2, 1).reshape(-1, 3)  # x and y rows
    offset = ((target - np.stack([b[1] for b in bases])) / scale[:, :, 0]).reshape(-1)
    keep = np.ones(len(design), bool)
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(design[keep], offset[keep], rcond=None)
        error = np.linalg.norm((design @ coef - offset).reshape(-1, 2), axis=1)
        keep = np.repeat(error <= np.quantile(error, 1 - trim), 2)
    return tuple(float(c) for c in coef), float(np.median(error))


def thunder_to_posetrack(kp17: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 ``(17, 3)`` [x, y, score] -> PoseTrack ``xy (17, 2)`` and 0/1 ``visibility (17,)``."""
    kp17 = np.asarray(kp17, dtype=np.float32)
    xy = np.zeros((NUM_JOINTS, 2), np.float32)
    score = np.zeros(NUM_JOINTS, np.float32)
    coco, ours = list(COCO_TO_POSETRACK), list(COCO_TO_POSETRACK.values())
    xy[ours], score[ours] = kp17[coco, :2], kp17[coco, 2]
    basis, shoulder, face_score = _head_basis(kp17)
    for name, coef in HEAD_FROM_FACE.items():
        xy[JOINT_INDEX[name]] = shoulder + np.asarray(coef, np.float32) @ basis
        score[JOINT_INDEX[name]] = face_score
    return xy, (score >= THUNDER_VISIBLE).astype(np.float32)


def _passes_filter_v2(person: dict) -> bool:
    """A Thunder pose worth learning from: a confident box, a pose stable under mirroring, upper body seen."""
    if "kp" not in person or person["score"] < PERSON_SCORE or max(person["box"][2:]) < MIN_PERSON_SIDE:
        return False
    if person["flip_err"] > MAX_FLIP_ERR:
        return False
    scores = np.asarray(person["kp"], np.float32)[5:13, 2]  # shoulders, elbows, wrists, hips
    return int((scores >= THUNDER_VISIBLE).sum()) >= 4


def _passes_filter(person: dict) -> bool:
    """The corpus README's filter, accepting upper-body-only people (legs then get weight 0)."""
    if person.get("status") != "ok" or person.get("pose") is None:
        return False
    q = person["pose"]["quality"]
    if q.get("flip_err_body") is None or q["flip_err_body"] > 0.05:
        return False
    if q["box_offset"] > 0.25 or not q["torso_in_box"]:
        return False
    kp = np.asarray(person["pose"]["kp"], np.float32)
    upper = kp[[11, 12, 13, 14, 15, 16, 23, 24], 2].mean()
    return bool(upper >= 0.5)


def load_teacher_samples(data_root: str | Path, video_frame_step: int = 1) -> list[PersonSample]:
    """Every filtered person of every labelled video and image under ``data_root`` (either schema).

    ``video_frame_step`` keeps every n-th labelled video frame: neighbouring frames are nearly
    the same picture, so a step of 2-3 halves the crop cache at little cost in variety.
    """
    root = Path(data_root)
    manifest = json.loads((root / "manifest.json").read_text())
    scenes = {entry["file"]: entry["scene"] for group in manifest.values() for entry in group}
    samples: list[PersonSample] = []
    for label_path in sorted((root / "labels").rglob("*.json")):
        labels = json.loads(label_path.read_text())
        source = labels["source"]
        if source not in scenes:
            continue
        thunder = labels.get("schema") == SCHEMA_THUNDER
        for frame in labels["frames"]:
            if labels["kind"] == "video" and frame["frame"] % video_frame_step:
                continue
            for person in frame["persons"]:
                if thunder:
                    if not _passes_filter_v2(person):
                        continue
                    xy, vis = thunder_to_posetrack(np.asarray(person["kp"], np.float32))
                elif not _passes_filter(person):
                    continue
                else:
                    xy, vis = blazepose_to_posetrack(np.asarray(person["pose"]["kp"], np.float32))
                samples.append(
                    PersonSample(
                        source=source,
                        kind=labels["kind"],
                        frame=int(frame["frame"]),
                        num_frames=int(labels["num_frames"]),
                        box_xywh=tuple(float(v) for v in person["box"]),
                        keypoints=xy,
                        visibility=vis,
                        scene=scenes[source],
                    )
                )
    return samples


def load_lspet_samples(corpus_root: str | Path) -> list[PersonSample]:
    """LSPet people from ``CORPUS/lspet.json`` (written by ``scripts/label_corpus.py --lspet``).

    Ground-truth limb joints, neck and head top with LSPet's visibility (a joint outside the
    image is never visible), Thunder's nose and ears where it is confident. The last
    ``LSPET_VAL_COUNT`` images form the scene ``lspet_val``; the others are grouped into scenes
    of ``LSPET_SCENE_SIZE`` consecutive images so the scene-balanced draws treat them as many
    small scenes, not one huge one.
    """
    from scipy.io import loadmat

    record = json.loads((Path(corpus_root) / "lspet.json").read_text())
    root = Path(record["root"])
    joints = loadmat(str(root / "joints.mat"))["joints"]  # (14, 3, N): x, y, visible
    total = joints.shape[2]
    samples: list[PersonSample] = []
    for row in record["people"]:
        i = row["index"]
        gt = joints[:, :, i].astype(np.float32)
        xy, vis = thunder_to_posetrack(np.asarray(row["kp"], np.float32))
        keep_from_thunder = {JOINT_INDEX[n] for n in ("nose", "left_ear", "right_ear")}
        for j in range(NUM_JOINTS):
            if j not in keep_from_thunder:
                vis[j] = 0.0
        inside = (gt[:, 0] >= 0) & (gt[:, 1] >= 0) & (gt[:, 0] < row["width"]) & (gt[:, 1] < row["height"])
        for k, name in enumerate(LSPET_JOINTS):
            xy[JOINT_INDEX[name]] = gt[k, :2]
            vis[JOINT_INDEX[name]] = float(gt[k, 2] > 0 and inside[k])
        scene = LSPET_VAL_SCENE if i >= total - LSPET_VAL_COUNT else f"lspet_{i // LSPET_SCENE_SIZE:04d}"
        samples.append(PersonSample(source=str(root / row["image"]), kind="image", frame=0, num_frames=1,
                                    box_xywh=tuple(float(v) for v in row["box"]), keypoints=xy, visibility=vis,
                                    scene=scene))
    return samples
