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
from pathlib import Path
from typing import Any

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.numbers import whole_number

BoxesByFrame = dict[int, np.ndarray]  # frame position -> (n, 5) xyxy + score

_FLOAT32_MAX = float(np.finfo(np.float32).max)  # boxes are stored as float32: a larger value would become inf


def _frame_of(image_id: int) -> int:
    return image_id % 10000 if image_id >= 10**9 else image_id


def _sequence_of(image_id: int) -> str | None:
    return f"{(image_id // 10000) % 10**6:06d}" if image_id >= 10**9 else None


def load_boxes(path: str | Path, sequence: str | None = None, min_box_score: float = 0.0) -> BoxesByFrame:
    """Boxes per frame position; ``sequence`` keeps only that PoseTrack sequence's ids (e.g. ``"003418"``)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "boxes file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the boxes file ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"boxes file is not valid JSON ({exc.__class__.__name__}: {exc})") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise InputError(path, f"boxes file is not readable JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, "boxes file is not readable JSON (nested too deeply)") from None
    return parse_boxes(document, path, sequence, min_box_score)


def parse_boxes(document: Any, path: str | Path, sequence: str | None = None,
                min_box_score: float = 0.0) -> BoxesByFrame:
    """:func:`load_boxes` on an already-parsed JSON document; ``path`` names it in errors."""
    path = Path(path)
    if isinstance(document, dict):
        entries = document.get("annotations")
        images = document.get("images")
    else:
        entries, images = document, None
    if not isinstance(entries, list):
        raise InputError(path, "no list of boxes (expected a COCO results list or an 'annotations' list)")
    position: dict[int, int] | None = None
    if isinstance(images, list):
        position = {}
        for i, image in enumerate(images):
            if isinstance(image, dict) and "id" in image:
                image_id = whole_number(image["id"])
                if image_id is None:
                    raise InputError(path, f"image {i} has an id that is not an integer")
                position[image_id] = i
    boxes: dict[int, list[list[float]]] = {}
    for n, entry in enumerate(entries):
        try:
            image_id = whole_number(entry["image_id"])
            x, y, w, h = (float(v) for v in entry["bbox"])
            score = float(entry.get("score", 1.0))
        except (KeyError, TypeError, ValueError, OverflowError):
            image_id = None
        if image_id is None:
            raise InputError(path, f"entry {n} lacks an integer image_id and a numeric bbox [x, y, w, h]")
        if not all(abs(v) <= _FLOAT32_MAX for v in (x, y, w, h, x + w, y + h, score)):  # NaN fails too
            raise InputError(path, f"entry {n} (image {image_id}) has a non-finite box or score")
        if entry.get("category_id", 1) != 1 or w <= 0 or h <= 0 or score < min_box_score:
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
