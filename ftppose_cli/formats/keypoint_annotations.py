"""Ground-truth keypoint annotations: COCO-keypoint and PoseTrack18 JSON in our joint order.

Held-out scoring and training from annotations read the same files, so they
share this reader. Two layouts are told apart by the joint names of their
``categories`` entry (not by file names, so any folder of such files works):

* COCO keypoints: the 17 COCO joints mapped onto ours with
  :data:`COCO_TO_POSETRACK`; only joints both sets have count as labelled (the
  eyes have no PoseTrack joint; head_bottom and head_top no COCO joint).
* PoseTrack18: our own joint order; every labelled joint counts except the
  ears, which PoseTrack never annotates. ``bbox_head`` gives the head size.

The same person often appears in several files of a folder (mmpose's test
data ships COCO, COCO-WholeBody and a partition-metric copy of the same
people; PoseTrack ships one file per sequence plus a merged one), so people
are de-duplicated by image, box and keypoints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import COCO_JOINTS, COCO_TO_POSETRACK, JOINT_INDEX, NUM_JOINTS, POSETRACK_JOINTS

# MPII / PoseTrack convention: the head size is 60% of the head box diagonal.
HEAD_SIZE_FACTOR = 0.6

_POSETRACK_UNLABELLED = (JOINT_INDEX["left_ear"], JOINT_INDEX["right_ear"])


@dataclass(frozen=True)
class AnnotatedPerson:
    """One annotated person, with joints already in our (PoseTrack 17) order.

    ``labelled`` marks the joints that carry a label and that the file's
    layout annotates at all; ``head_size`` is None where there is no head box.
    ``layout`` ("coco" or "posetrack18") says whether the image is a still or
    a frame of a sequence (its folder), which training needs for windows.
    """

    dataset: str
    image: Path
    box_xyxy: np.ndarray  # (4,)
    keypoints: np.ndarray  # (J, 2)
    labelled: np.ndarray  # (J,) bool
    head_size: float | None
    layout: str = "coco"

    @property
    def reference(self) -> float:
        """The PCK reference length: the box's longer side."""
        return float(max(self.box_xyxy[2] - self.box_xyxy[0], self.box_xyxy[3] - self.box_xyxy[1]))


def annotation_layout(document: dict) -> str | None:
    """``"coco"`` or ``"posetrack18"`` from the person category's joint names; None for anything else."""
    for category in document.get("categories", []):
        names = tuple(category.get("keypoints", ()))
        if names[: len(COCO_JOINTS)] == COCO_JOINTS and len(names) == len(COCO_JOINTS):
            return "coco"
        if names == POSETRACK_JOINTS:
            return "posetrack18"
    return None


def _resolve_image(file_name: str, json_path: Path, image_root: Path | None) -> Path | None:
    """The image of a file name: under ``image_root`` when given (COCO keeps ``train2017/`` beside
    ``annotations/``), else in the JSON's folder or the nearest folder above it that has it
    (PoseTrack names images from the dataset root, ``images/val/<sequence>/000000.jpg``)."""
    if image_root is not None:
        candidate = image_root / file_name
        return candidate if candidate.is_file() else None
    for folder in [json_path.parent, *json_path.parent.parents]:
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    return None


def _xywh_to_xyxy(box) -> np.ndarray | None:
    if box is None or len(box) != 4:
        return None
    x, y, w, h = (float(v) for v in box)
    if w <= 0 or h <= 0:
        return None
    return np.array([x, y, x + w, y + h], dtype=np.float32)


def _person(annotation: dict, fmt: str, dataset: str, image: Path) -> AnnotatedPerson | None:
    raw = annotation.get("keypoints")
    if annotation.get("iscrowd") or not raw or len(raw) != 3 * NUM_JOINTS:
        return None
    source = np.asarray(raw, dtype=np.float32).reshape(-1, 3)
    keypoints = np.zeros((NUM_JOINTS, 2), np.float32)
    labelled = np.zeros(NUM_JOINTS, bool)
    if fmt == "coco":
        for c, p in COCO_TO_POSETRACK.items():
            keypoints[p] = source[c, :2]
            labelled[p] = source[c, 2] > 0
    else:
        keypoints[:] = source[:, :2]
        labelled[:] = source[:, 2] > 0
        labelled[list(_POSETRACK_UNLABELLED)] = False
    if not labelled.any():
        return None
    box = _xywh_to_xyxy(annotation.get("bbox"))
    if box is None:  # no box: the tight box around the labelled joints
        pts = keypoints[labelled]
        box = np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float32)
    if max(box[2] - box[0], box[3] - box[1]) < 1.0:
        return None
    head = _xywh_to_xyxy(annotation.get("bbox_head"))
    head_size = None if head is None else float(HEAD_SIZE_FACTOR * np.hypot(head[2] - head[0], head[3] - head[1]))
    return AnnotatedPerson(dataset, image, box, keypoints, labelled, head_size, fmt)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not readable JSON ({exc})") from None


def load_annotated_people(data: str | Path, image_root: str | Path | None = None) -> list[AnnotatedPerson]:
    """Annotated people of every COCO/PoseTrack keypoint JSON under ``data`` (a folder or one JSON file).

    Image file names are looked up under ``image_root`` when it is given, else
    beside each JSON or above it.

    The dataset name of a person is the first folder of its JSON under
    ``data`` (e.g. ``mmpose_coco``), or the format name for a JSON directly in it.
    """
    data = Path(data)
    if not data.exists():
        raise InputError(data, "no such file or folder")
    root = data if data.is_dir() else data.parent
    image_root = None if image_root is None else Path(image_root)
    files = sorted(data.rglob("*.json")) if data.is_dir() else [data]
    people: list[AnnotatedPerson] = []
    seen: set[tuple] = set()
    for path in files:
        document = _read_json(path)
        if not isinstance(document, dict) or not {"images", "annotations"} <= set(document):
            continue  # detections, results and other JSON that hold no ground truth
        fmt = annotation_layout(document)
        if fmt is None:
            continue
        relative = path.relative_to(root).parts
        dataset = relative[0] if len(relative) > 1 else fmt
        images = {img["id"]: img for img in document["images"] if "id" in img and "file_name" in img}
        resolved: dict[object, Path] = {}
        for annotation in document["annotations"]:
            image_entry = images.get(annotation.get("image_id"))
            if image_entry is None:
                continue
            image_id = image_entry["id"]
            if image_id not in resolved:
                found = _resolve_image(image_entry["file_name"], path, image_root)
                if found is None:
                    where = f"under {image_root}" if image_root is not None else "beside it or above it"
                    raise InputError(path, f"image {image_entry['file_name']!r} not found {where}")
                resolved[image_id] = found.resolve()
            person = _person(annotation, fmt, dataset, resolved[image_id])
            if person is None:
                continue
            key = (person.image, tuple(np.round(person.box_xyxy, 1)), np.round(person.keypoints, 1).tobytes())
            if key in seen:
                continue
            seen.add(key)
            people.append(person)
    if not people:
        raise InputError(data, "no annotated people found (expected COCO or PoseTrack18 keypoint JSON)")
    return people
