"""Read PoseTrack sequence files (2017 "annolist", 2018 / 21 COCO-like) into a :class:`PoseTrackSequence`.

What "annotated" means follows the official converter (poseval's
``convert.py``), since that decides which joints are scored: in a 2018 file a
joint is unannotated only when it is exactly ``[0, 0, 0]``; in a 2017 file a
joint is annotated when the person's point list has its id. The visibility
flag is kept as given and does not change that.

Anything that would make a score silently wrong is an :class:`InputError`
naming the file, sequence, frame and person (:mod:`.posetrack_parser`):
malformed JSON, missing keys, keypoint lists of the wrong length, NaN or
infinite numbers. A missing per-joint score is not an error: it is NaN here,
and the evaluator scores it as poseval does (-9999).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS, POSETRACK17_TO_18, POSETRACK_JOINTS
from ftppose_cli.formats.numbers import INT64_MAX, INT64_MIN, float_array, whole_number
from ftppose_cli.formats.posetrack import PoseTrackFrame, PoseTrackPeople, PoseTrackPerson, PoseTrackSequence
from ftppose_cli.formats.posetrack_parser import SequenceParser, short

# Joints a valid PoseTrack file must name in its category (the 15 poseval scores; ears are optional).
_REQUIRED_JOINT_NAMES = tuple(POSETRACK_JOINTS[i] for i in POSETRACK17_TO_18.values())


def read_sequence(path: str | Path) -> PoseTrackSequence:
    """Read a PoseTrack 2017 or 2018/21 file; the layout is told by its top-level key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the file: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise InputError(path, f"not readable JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, "not readable JSON (nested too deeply)") from None
    return parse_sequence(document, path)


def parse_sequence(document: Any, path: str | Path, name: str | None = None) -> PoseTrackSequence:
    """Build a sequence from an already-parsed JSON document; ``path`` names it in errors."""
    path = Path(path)
    name = name or path.stem
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object at the top level")
    if "annolist" in document:
        return _Parse2017(path, name).sequence(document)
    if "images" in document:
        return _Parse2018(path, name).sequence(document)
    raise InputError(path, "neither a PoseTrack 2018 file (no `images`) nor a PoseTrack 2017 file (no `annolist`)")


class _Parse2018(SequenceParser):
    """Parses all annotations of a file in one go (a few array conversions), then splits them by frame."""

    def sequence(self, document: dict) -> PoseTrackSequence:
        source, target, width = self._joint_columns(document)
        images = document.get("images")
        annotations = document.get("annotations", [])
        if not isinstance(images, list):
            raise self.fail("`images` must be a list")
        if not isinstance(annotations, list):
            raise self.fail("`annotations` must be a list")
        self.images = images
        position: dict[Any, int] = {}
        for i, image in enumerate(images):
            if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
                raise self.fail("image entry lacks `id` or `file_name`", i)
            if not isinstance(image["file_name"], str):
                raise self.fail(f"`file_name` must be a string, got {short(image['file_name'])}", i)
            if not _is_key(image["id"]):
                raise self.fail(f"image id must be a number or a string, got {short(image['id'])}", i,
                                image["file_name"])
            if image["id"] in position:
                raise self.fail(f"image id {short(image['id'])} is listed twice", i, image["file_name"])
            position[image["id"]] = i
        frame_of = np.zeros(len(annotations), np.int64)
        for a, annotation in enumerate(annotations):
            if not isinstance(annotation, dict):
                raise self.fail(f"annotation {a} is not an object")
            image_id = annotation.get("image_id")
            frame = position.get(image_id) if _is_key(image_id) else None
            for key in ("image_id", "keypoints", "track_id"):
                if key not in annotation:
                    raise self.fail(f"annotation {a} lacks `{key}`", frame, self._file(frame))
            if frame is None:
                raise self.fail(f"annotation {a} refers to image id {short(image_id)}, which is not listed")
            frame_of[a] = frame
        self.frame_of = frame_of

        n = len(annotations)
        raw = self._keypoint_rows(annotations, width).reshape(n, width, 3)
        keypoints = np.zeros((n, NUM_JOINTS, 2))
        visibility = np.zeros((n, NUM_JOINTS))
        keypoints[:, target] = raw[:, source, :2]
        visibility[:, target] = raw[:, source, 2]
        listed = np.zeros((n, NUM_JOINTS), bool)
        listed[:, target] = True
        # poseval's converter drops a joint only when it is exactly [0, 0, 0].
        annotated = listed & ~((keypoints[..., 0] == 0) & (keypoints[..., 1] == 0) & (visibility == 0))
        track_ids = self._integers(annotations, "track_id")
        scores = np.full((n, NUM_JOINTS), np.nan)
        scored = [a for a, annotation in enumerate(annotations) if annotation.get("scores")]  # [] = no scores
        if scored:
            scores[np.array(scored)[:, None], target] = self._rows(annotations, scored, "scores", width)[:, source]
        people = PoseTrackPeople(
            track_ids=track_ids, keypoints=keypoints, visibility=visibility, annotated=annotated, scores=scores,
            boxes=self._boxes(annotations, "bbox"), head_boxes=self._boxes(annotations, "bbox_head"),
            has_pose=np.ones(n, bool), person_ids=self._integers(annotations, "person_id", default=-1),
        )
        order = np.argsort(frame_of, kind="stable")  # file order within a frame
        bounds = np.searchsorted(frame_of[order], np.arange(len(images) + 1)).tolist()
        in_frame_order = bool((np.diff(frame_of) >= 0).all())  # the usual layout: slices are cheap views
        # Stops at the first non-integer, usually the first value: cheap for ordinary files.
        integers = np.array([all(type(v) is int for v in a["keypoints"]) for a in annotations], bool)
        frames = []
        for i, image in enumerate(images):
            which = slice(bounds[i], bounds[i + 1]) if in_frame_order else order[bounds[i]:bounds[i + 1]]
            frame = self._frame(i, image, people.select(which))
            frame.integer_keypoints = bool(len(frame.people)) and bool(integers[which].all())
            frames.append(frame)
        vid_id = images[0].get("vid_id") if images else None
        return PoseTrackSequence(self.name, frames, "2018", None if vid_id is None else str(vid_id))

    def _file(self, frame: int | None) -> str | None:
        return None if frame is None else str(self.images[frame]["file_name"])

    def _where(self, annotation: int) -> tuple[int, str | None]:
        frame = int(self.frame_of[annotation])
        return frame, self._file(frame)

    def _joint_columns(self, document: dict) -> tuple[np.ndarray, np.ndarray, int]:
        """Map the file's keypoint columns to ours by the category's joint names, as poseval does."""
        categories = document.get("categories")
        if not isinstance(categories, list) or not categories:
            raise self.fail("`categories` is missing; poseval maps joints by its keypoint names")
        people = [c for c in categories if isinstance(c, dict) and c.get("name") == "person"]
        if len(people) != 1 or not isinstance(people[0].get("keypoints"), list):
            raise self.fail("`categories` needs exactly one `person` entry with `keypoints` names")
        names = people[0]["keypoints"]
        if not all(isinstance(n, str) for n in names):
            raise self.fail("the person category's `keypoints` must be joint names (strings)")
        missing = [n for n in _REQUIRED_JOINT_NAMES if n not in names]
        if missing:
            raise self.fail(f"the person category does not name the joints {', '.join(missing)}")
        self.joint_names = [str(n) for n in names]
        source = np.array([i for i, n in enumerate(names) if n in JOINT_INDEX], dtype=np.int64)
        target = np.array([JOINT_INDEX[n] for n in names if n in JOINT_INDEX], dtype=np.int64)
        return source, target, len(names)

    def _keypoint_rows(self, annotations: list[dict], width: int) -> np.ndarray:
        """All keypoint lists as one (n, 3 * width) array; on any problem, name the frame, person and joint."""
        rows = self._fast_rows([a["keypoints"] for a in annotations], 3 * width)
        if rows is not None:
            return rows
        for a, annotation in enumerate(annotations):
            frame, file_name = self._where(a)
            who = f"track {short(annotation.get('track_id'))}"
            row = self.numbers_or_nan(annotation["keypoints"], f"keypoints of {who}", frame, file_name, (3 * width,))
            bad = np.flatnonzero(~np.isfinite(row))
            if bad.size:
                raise self.fail(f"{self.joint_names[bad[0] // 3]} of {who} is NaN or infinite", frame, file_name)
        raise AssertionError("unreachable: no bad keypoint row found")

    def _rows(self, annotations: list[dict], which: list[int], key: str, length: int) -> np.ndarray:
        rows = self._fast_rows([annotations[a][key] for a in which], length)
        if rows is not None:
            return rows
        for a in which:
            frame, file_name = self._where(a)
            what = f"{key} of track {short(annotations[a].get('track_id'))}"
            row = self.numbers(annotations[a][key], what, frame, file_name)
            if row.shape != (length,):
                raise self.fail(f"{what} must have {length} values, got {row.size}", frame, file_name)
        raise AssertionError(f"unreachable: no bad {key} row found")

    @staticmethod
    def _fast_rows(values: list, length: int) -> np.ndarray | None:
        """One conversion for the common case; None sends the caller to the slow path that names the culprit."""
        rows = float_array(values)
        if rows is None:
            return None
        if rows.shape != (len(values), length) or not np.isfinite(rows).all():
            return None if values else np.zeros((0, length))
        return rows

    def _integers(self, annotations: list[dict], key: str, default: int | None = None) -> np.ndarray:
        values = [a.get(key, default) for a in annotations]
        if all(type(v) is int and INT64_MIN <= v <= INT64_MAX for v in values):
            return np.array(values, dtype=np.int64)
        result = np.zeros(len(values), np.int64)
        for a, value in enumerate(values):
            if value is None and default is not None:
                result[a] = default
            else:
                result[a] = self.integer(value, key, *self._where(a))
        return result

    def _boxes(self, annotations: list[dict], key: str) -> np.ndarray:
        """[x, y, w, h] -> (x1, y1, x2, y2), NaN when absent; x2 = x + w exactly as poseval's converter has it."""
        boxes = np.full((len(annotations), 4), np.nan)
        given = [a for a, annotation in enumerate(annotations) if annotation.get(key)]
        if given:
            xywh = self._rows(annotations, given, key, 4)
            boxes[given] = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        return boxes

    def _frame(self, index: int, image: dict, people: PoseTrackPeople) -> PoseTrackFrame:
        file_name = str(image["file_name"])
        regions: tuple[np.ndarray, ...] = ()
        if "ignore_regions_x" in image or "ignore_regions_y" in image:
            regions = self.regions(image.get("ignore_regions_x"), image.get("ignore_regions_y"), index, file_name)
        is_labeled = image.get("is_labeled", len(people) > 0)
        frame_id, width, height = (None if image.get(key) is None else self.integer(image[key], key, index, file_name)
                                   for key in ("frame_id", "width", "height"))
        timestamp = image.get("timestamp")
        return PoseTrackFrame(
            file_name=file_name, people=people, is_labeled=bool(is_labeled), ignore_regions=regions,
            image_id=whole_number(image["id"]), frame_id=frame_id, width=width, height=height,
            timestamp=None if timestamp is None else float(self.numbers(timestamp, "timestamp", index, file_name, ())),
        )


class _Parse2017(SequenceParser):
    def sequence(self, document: dict) -> PoseTrackSequence:
        annolist = document["annolist"]
        if not isinstance(annolist, list):
            raise self.fail("`annolist` must be a list")
        return PoseTrackSequence(self.name, [self._frame(i, entry) for i, entry in enumerate(annolist)], "2017")

    def _frame(self, index: int, entry: Any) -> PoseTrackFrame:
        if not isinstance(entry, dict):
            raise self.fail("annolist entry is not an object", index)
        try:
            file_name = _one(entry["image"])["name"]
        except (KeyError, TypeError, ValueError):
            raise self.fail("annolist entry lacks `image: [{name}]`", index) from None
        if not isinstance(file_name, str):
            raise self.fail(f"the image name must be a string, got {short(file_name)}", index)
        rects = entry.get("annorect")
        if not isinstance(rects, list):
            raise self.fail("lacks the `annorect` list", index, file_name)
        persons = [self._person(rect, index, file_name) for rect in rects]
        regions: tuple[np.ndarray, ...] = ()
        if entry.get("ignore_regions"):
            if not isinstance(entry["ignore_regions"], list):
                raise self.fail("`ignore_regions` must be a list", index, file_name)
            xs, ys = [], []
            for region in entry["ignore_regions"]:
                points = region.get("point", []) if isinstance(region, dict) else None
                if not isinstance(points, list):
                    raise self.fail("an ignore region lacks its `point` list", index, file_name)
                xs.append([self._value(p, "x", index, file_name) for p in points])
                ys.append([self._value(p, "y", index, file_name) for p in points])
            regions = self.regions(xs, ys, index, file_name)
        is_labeled = bool(self._value(entry, "is_labeled", index, file_name)) if "is_labeled" in entry else bool(rects)
        timestamp = None
        if "timestamp" in entry:
            timestamp = float(self.numbers(self._value(entry, "timestamp", index, file_name), "timestamp", index,
                                           file_name, ()))
        return PoseTrackFrame(file_name=file_name, people=PoseTrackPeople.from_persons(persons),
                              is_labeled=is_labeled, ignore_regions=regions, frame_id=index, timestamp=timestamp)

    def _value(self, container: Any, key: str, frame: int, file_name: str) -> Any:
        try:
            return _one(container[key])
        except (KeyError, TypeError, ValueError):
            raise self.fail(f"`{key}` is missing or not a one-element list", frame, file_name) from None

    def _person(self, rect: Any, frame: int, file_name: str) -> PoseTrackPerson:
        if not isinstance(rect, dict):
            raise self.fail("an annorect entry is not an object", frame, file_name)
        if "track_id" not in rect:
            raise self.fail("an annorect entry lacks `track_id`", frame, file_name)
        track_id = self.integer(_one_or_raw(rect["track_id"]), "track_id", frame, file_name)
        who = f"track {track_id}"
        head_box = np.full(4, np.nan)
        if all(k in rect for k in ("x1", "y1", "x2", "y2")):
            head_box = self.numbers([_one_or_raw(rect[k]) for k in ("x1", "y1", "x2", "y2")],
                                    f"head box of {who}", frame, file_name, (4,))
        keypoints = np.zeros((NUM_JOINTS, 2))
        visibility = np.zeros(NUM_JOINTS)
        annotated = np.zeros(NUM_JOINTS, bool)
        scores = np.full(NUM_JOINTS, np.nan)
        annopoints = rect.get("annopoints")
        # poseval drops an entry without a point list (after counting it towards "labelled").
        has_pose = (isinstance(annopoints, list) and len(annopoints) > 0 and isinstance(annopoints[0], dict)
                    and "point" in annopoints[0])
        if has_pose:
            points = annopoints[0]["point"]
            if not isinstance(points, list):
                raise self.fail(f"the point list of {who} is not a list", frame, file_name)
            for point in points:
                pid = self.integer(self._value(point, "id", frame, file_name), f"a point id of {who}", frame,
                                   file_name)
                if pid not in POSETRACK17_TO_18:
                    continue
                joint = POSETRACK17_TO_18[pid]
                if annotated[joint]:  # poseval looks points up by id and takes the first
                    continue
                name = POSETRACK_JOINTS[joint]
                keypoints[joint] = self.numbers([self._value(point, key, frame, file_name) for key in ("x", "y")],
                                                f"{name} of {who}", frame, file_name, (2,))
                annotated[joint] = True
                if "is_visible" in point:
                    visibility[joint] = float(self.numbers(self._value(point, "is_visible", frame, file_name),
                                                           f"is_visible of {name} of {who}", frame, file_name, ()))
                else:
                    visibility[joint] = 1.0
                if "score" in point:
                    scores[joint] = float(self.numbers(self._value(point, "score", frame, file_name),
                                                       f"score of {name} of {who}", frame, file_name, ()))
        return PoseTrackPerson(track_id=track_id, keypoints=keypoints, visibility=visibility, annotated=annotated,
                               scores=scores, head_box=head_box, has_pose=has_pose)


def _one(value: Any) -> Any:
    """Unwrap the one-element lists of the 2017 layout (a bare value is accepted too)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("expected a one-element list")
        return value[0]
    return value


def _one_or_raw(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _is_key(value: Any) -> bool:
    """An id the file can match on: a number or a string (JSON arrays and objects are not hashable)."""
    return isinstance(value, (int, float, str)) or value is None
