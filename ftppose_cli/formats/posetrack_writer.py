"""Write a :class:`PoseTrackSequence` as a PoseTrack file: the 2018 (COCO-like) or the 2017 (annolist) layout.

Files are written atomically (a temporary file in the same folder, then
published under its name) and read back to the same sequence: what a file
cannot say per joint (a missing score among known ones, in the 2018 layout)
is written the way poseval scores it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.formats.joints import POSETRACK17_TO_18, POSETRACK_CATEGORY
from ftppose_cli.formats.posetrack import Layout, PoseTrackSequence


def write_sequence(sequence: PoseTrackSequence, path: str | Path, layout: Layout = "2018",
                   extra: dict[str, Any] | None = None, overwrite: bool = True) -> Path:
    """Write ``sequence`` atomically (temporary file in the same folder, then published under its name).

    ``extra`` adds top-level keys (poseval ignores keys it does not know).
    ``overwrite=False`` refuses to replace an existing file.
    """
    document = {**sequence_document(sequence, layout), **(extra or {})}
    return atomic_write_text(path, json.dumps(document, separators=(",", ":"), allow_nan=False) + "\n",
                             overwrite=overwrite)


def sequence_document(sequence: PoseTrackSequence, layout: Layout = "2018") -> dict:
    """The JSON document of ``sequence`` in the 2018 (COCO-like) or 2017 (annolist) layout."""
    if layout == "2018":
        return _document_2018(sequence)
    if layout == "2017":
        return _document_2017(sequence)
    raise ValueError(f"unknown PoseTrack layout {layout!r}")


def _document_2018(sequence: PoseTrackSequence) -> dict:
    images, annotations = [], []
    vid_id = sequence.vid_id if sequence.vid_id is not None else sequence.name
    for index, frame in enumerate(sequence.frames):
        image_id = frame.image_id if frame.image_id is not None else index
        image: dict[str, Any] = {
            "id": image_id, "vid_id": vid_id, "frame_id": frame.frame_id if frame.frame_id is not None else image_id,
            "file_name": frame.file_name, "nframes": len(sequence.frames), "is_labeled": bool(frame.is_labeled),
        }
        if frame.ignore_regions:
            image["ignore_regions_x"] = [r[:, 0].tolist() for r in frame.ignore_regions]
            image["ignore_regions_y"] = [r[:, 1].tolist() for r in frame.ignore_regions]
        if frame.width is not None and frame.height is not None:
            image["width"], image["height"] = frame.width, frame.height
        if frame.timestamp is not None:
            image["timestamp"] = frame.timestamp
        images.append(image)
        people = frame.people
        if not len(people):
            continue
        flat = np.concatenate([people.keypoints, people.visibility[..., None]], axis=2)
        flat[~people.annotated] = 0.0  # an unannotated joint is exactly [0, 0, 0]
        for p in range(len(people)):
            record: dict[str, Any] = {
                "id": len(annotations), "image_id": image_id, "category_id": 1,
                "track_id": int(people.track_ids[p]), "keypoints": flat[p].reshape(-1).tolist(),
                "scores": _scores_2018(people.scores[p]),
            }
            if np.isfinite(people.boxes[p]).all():
                record["bbox"] = _xywh(people.boxes[p])
            if np.isfinite(people.head_boxes[p]).all():
                record["bbox_head"] = _xywh(people.head_boxes[p])
            if people.person_ids[p] >= 0:
                record["person_id"] = int(people.person_ids[p])
            annotations.append(record)
    # A fresh copy: callers may edit the document, and must not edit the shared constant.
    return {"images": images, "annotations": annotations, "categories": [copy.deepcopy(POSETRACK_CATEGORY)]}


def _scores_2018(scores: np.ndarray) -> list[float]:
    """One score per joint; none at all when none is known (the official files' ``[]``).

    A partly known row cannot say "missing" per joint in this layout, so the
    missing ones get -9999, the value poseval scores a missing joint score as:
    the file evaluates the same as the data it came from.
    """
    known = np.isfinite(scores)
    if not known.any():
        return []
    return np.where(known, scores, -9999.0).tolist()


def _xywh(box: np.ndarray) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _document_2017(sequence: PoseTrackSequence) -> dict:
    annolist = []
    for index, frame in enumerate(sequence.frames):
        rects = []
        people = frame.people
        for p in range(len(people)):
            rect: dict[str, Any] = {"track_id": [int(people.track_ids[p])]}
            if np.isfinite(people.head_boxes[p]).all():
                for key, value in zip(("x1", "y1", "x2", "y2"), people.head_boxes[p].tolist()):
                    rect[key] = [value]
            if people.has_pose[p]:
                points = []
                for pid in range(len(POSETRACK17_TO_18)):
                    joint = POSETRACK17_TO_18[pid]
                    if not people.annotated[p, joint]:
                        continue
                    point: dict[str, Any] = {"id": [pid], "x": [float(people.keypoints[p, joint, 0])],
                                             "y": [float(people.keypoints[p, joint, 1])],
                                             "is_visible": [_number(people.visibility[p, joint])]}
                    if np.isfinite(people.scores[p, joint]):
                        point["score"] = [float(people.scores[p, joint])]
                    points.append(point)
                rect["annopoints"] = [{"point": points}]
            rects.append(rect)
        entry: dict[str, Any] = {"image": [{"name": frame.file_name}], "imgnum": [index + 1],
                                 "is_labeled": [int(frame.is_labeled)], "annorect": rects}
        if frame.timestamp is not None:
            entry["timestamp"] = [frame.timestamp]
        if frame.ignore_regions:
            entry["ignore_regions"] = [{"point": [{"x": [float(x)], "y": [float(y)]} for x, y in region]}
                                       for region in frame.ignore_regions]
        annolist.append(entry)
    return {"annolist": annolist}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
