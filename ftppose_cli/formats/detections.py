"""Person boxes from a file: precomputed detections instead of the built-in detector.

Two layouts are read:

* a COCO-style results list ``[{"image_id", "bbox": [x, y, w, h], "score", "category_id"}]``
  (the precomputed PoseTrack detections papers use are in this layout), or a
  dict holding such a list under ``annotations`` next to an ``images`` list;
* a PoseTrack 2018 / 21 file (``images`` + ``annotations`` with ``bbox``), such
  as ground truth, to run with ground-truth boxes.

Frames are keyed by their position in the video: when an ``images`` list is
present its order gives the position; otherwise PoseTrack's image-id
convention (``1 SSSSSS FFFF``: sequence, frame) or a plain frame index is used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ftppose_cli.errors import InputError

BoxesByFrame = dict[int, np.ndarray]  # frame position -> (n, 5) xyxy + score


def _frame_of(image_id: int) -> int:
    return image_id % 10000 if image_id >= 10**9 else image_id


def _sequence_of(image_id: int) -> str | None:
    return f"{(image_id // 10000) % 10**6:06d}" if image_id >= 10**9 else None


def load_boxes(path: str | Path, sequence: str | None = None, min_score: float = 0.0) -> BoxesByFrame:
    """Boxes per frame position; ``sequence`` keeps only that PoseTrack sequence's ids (e.g. ``"003418"``)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "boxes file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"boxes file is not valid JSON ({exc.__class__.__name__}: {exc})") from None
    if isinstance(document, dict):
        entries = document.get("annotations")
        images = document.get("images")
    else:
        entries, images = document, None
    if not isinstance(entries, list):
        raise InputError(path, "no list of boxes (expected a COCO results list or an 'annotations' list)")
    position: dict[int, int] | None = None
    if isinstance(images, list):
        position = {int(img["id"]): i for i, img in enumerate(images) if isinstance(img, dict) and "id" in img}
    boxes: dict[int, list[list[float]]] = {}
    for n, entry in enumerate(entries):
        try:
            image_id = int(entry["image_id"])
            x, y, w, h = (float(v) for v in entry["bbox"])
            score = float(entry.get("score", 1.0))
        except (KeyError, TypeError, ValueError):
            raise InputError(path, f"entry {n} lacks a numeric image_id and bbox [x, y, w, h]") from None
        if not all(math.isfinite(v) for v in (x, y, w, h, score)):
            raise InputError(path, f"entry {n} (image {image_id}) has a non-finite box or score")
        if entry.get("category_id", 1) != 1 or w <= 0 or h <= 0 or score < min_score:
            continue
        if position is not None:
            if image_id not in position:
                raise InputError(path, f"entry {n} refers to image {image_id}, which the images list lacks")
            frame = position[image_id]
        else:
            if sequence is not None and _sequence_of(image_id) not in (None, sequence):
                continue
            frame = _frame_of(image_id)
        boxes.setdefault(frame, []).append([x, y, x + w, y + h, score])
    return {f: np.asarray(b, np.float32) for f, b in boxes.items()}
