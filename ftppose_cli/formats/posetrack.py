"""PoseTrack sequence files (2017 "annolist", 2018 / 21 COCO-like): one reader, one writer, one data model.

Both layouts are read into the same :class:`PoseTrackSequence`, in the
17-joint order of :data:`POSETRACK_JOINTS`, so the evaluator and the
annotate writer never care which layout a file used. People of a frame travel
as one :class:`PoseTrackPeople` of stacked arrays (``keypoints (n, 17, 2)``,
``scores (n, 17)``...) because the evaluator works on whole frames at once;
``people[i]`` gives one :class:`PoseTrackPerson` where a per-person view reads
better.

What "annotated" means follows the official converter (poseval's
``convert.py``), since that decides which joints are scored: in a 2018 file a
joint is unannotated only when it is exactly ``[0, 0, 0]``; in a 2017 file a
joint is annotated when the person's point list has its id. The visibility
flag is kept as given and does not change that.

Anything that would make a score silently wrong is an :class:`InputError`
naming the file, sequence, frame and person: malformed JSON, missing keys,
keypoint lists of the wrong length, NaN or infinite numbers (JSON ``NaN`` is
accepted by Python's parser, so it is checked after parsing). A missing
per-joint score is not an error: it is NaN here, and the evaluator scores it
as poseval does (-9999).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import numpy as np

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, NUM_JOINTS, POSETRACK17_TO_18, POSETRACK_CATEGORY, POSETRACK_JOINTS
from ftppose_cli.formats.numbers import INT64_MAX, INT64_MIN, float_array, whole_number

Layout = Literal["2017", "2018"]

# Joints a valid PoseTrack file must name in its category (the 15 poseval scores; ears are optional).
_REQUIRED_JOINT_NAMES = tuple(POSETRACK_JOINTS[i] for i in POSETRACK17_TO_18.values())


@dataclass
class PoseTrackPerson:
    """One person in one frame.

    ``keypoints`` are pixel positions (17, 2); ``annotated`` says which joints
    the file lists (see the module docstring); ``scores`` are per-joint
    confidences with NaN where the file has none. Boxes are (x1, y1, x2, y2),
    all NaN when absent. ``has_pose`` is False for a 2017 entry without a point
    list (a head box only): poseval counts it when deciding whether a frame is
    labelled, then drops it.
    """

    track_id: int
    keypoints: np.ndarray
    visibility: np.ndarray
    annotated: np.ndarray
    scores: np.ndarray
    box: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    head_box: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    has_pose: bool = True
    person_id: int | None = None


@dataclass
class PoseTrackPeople:
    """All people of one frame as stacked arrays, in file order.

    Shapes: ``track_ids (n,)``, ``keypoints (n, 17, 2)``, ``visibility``,
    ``annotated`` and ``scores (n, 17)``, ``boxes`` and ``head_boxes (n, 4)``
    as (x1, y1, x2, y2), ``has_pose (n,)``, ``person_ids (n,)`` (-1 when the
    file has none; PoseTrack21 adds them).
    """

    track_ids: np.ndarray
    keypoints: np.ndarray
    visibility: np.ndarray
    annotated: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    head_boxes: np.ndarray
    has_pose: np.ndarray
    person_ids: np.ndarray

    @classmethod
    def empty(cls) -> PoseTrackPeople:
        return cls.from_arrays(np.zeros((0, NUM_JOINTS, 2)))

    @classmethod
    def from_arrays(cls, keypoints: np.ndarray, scores: np.ndarray | None = None,
                    track_ids: np.ndarray | Sequence[int] | None = None, boxes: np.ndarray | None = None,
                    head_boxes: np.ndarray | None = None, visibility: np.ndarray | None = None,
                    annotated: np.ndarray | None = None) -> PoseTrackPeople:
        """People from model output: every joint annotated (visible) unless told otherwise.

        This is the constructor the annotate pipeline uses: ``keypoints (n, 17, 2)``
        and ``scores (n, 17)`` straight from the pose model.
        """
        keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, NUM_JOINTS, 2)
        n = len(keypoints)
        return cls(
            track_ids=np.arange(n, dtype=np.int64) if track_ids is None else np.asarray(track_ids, dtype=np.int64),
            keypoints=keypoints,
            visibility=np.ones((n, NUM_JOINTS)) if visibility is None else np.asarray(visibility, dtype=np.float64),
            annotated=np.ones((n, NUM_JOINTS), bool) if annotated is None else np.asarray(annotated, dtype=bool),
            scores=np.full((n, NUM_JOINTS), np.nan) if scores is None else np.asarray(scores, dtype=np.float64),
            boxes=np.full((n, 4), np.nan) if boxes is None else np.asarray(boxes, dtype=np.float64).reshape(n, 4),
            head_boxes=(np.full((n, 4), np.nan) if head_boxes is None
                        else np.asarray(head_boxes, dtype=np.float64).reshape(n, 4)),
            has_pose=np.ones(n, bool),
            person_ids=np.full(n, -1, np.int64),
        )

    @classmethod
    def from_persons(cls, persons: Sequence[PoseTrackPerson]) -> PoseTrackPeople:
        if not persons:
            return cls.empty()
        return cls(
            track_ids=np.array([p.track_id for p in persons], dtype=np.int64),
            keypoints=np.stack([np.asarray(p.keypoints, dtype=np.float64) for p in persons]),
            visibility=np.stack([np.asarray(p.visibility, dtype=np.float64) for p in persons]),
            annotated=np.stack([np.asarray(p.annotated, dtype=bool) for p in persons]),
            scores=np.stack([np.asarray(p.scores, dtype=np.float64) for p in persons]),
            boxes=np.stack([np.asarray(p.box, dtype=np.float64) for p in persons]),
            head_boxes=np.stack([np.asarray(p.head_box, dtype=np.float64) for p in persons]),
            has_pose=np.array([p.has_pose for p in persons], dtype=bool),
            person_ids=np.array([-1 if p.person_id is None else p.person_id for p in persons], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.track_ids)

    def __getitem__(self, index: int) -> PoseTrackPerson:
        person_id = int(self.person_ids[index])
        return PoseTrackPerson(
            track_id=int(self.track_ids[index]), keypoints=self.keypoints[index], visibility=self.visibility[index],
            annotated=self.annotated[index], scores=self.scores[index], box=self.boxes[index],
            head_box=self.head_boxes[index], has_pose=bool(self.has_pose[index]),
            person_id=None if person_id < 0 else person_id,
        )

    def __iter__(self) -> Iterator[PoseTrackPerson]:
        return (self[i] for i in range(len(self)))

    def select(self, which: np.ndarray | slice) -> PoseTrackPeople:
        """The people picked by a boolean mask (n,), an index array or a slice, in that order."""
        return PoseTrackPeople(**{name: getattr(self, name)[which] for name in _PEOPLE_FIELDS})


_PEOPLE_FIELDS = ("track_ids", "keypoints", "visibility", "annotated", "scores", "boxes", "head_boxes", "has_pose",
                  "person_ids")


@dataclass
class PoseTrackFrame:
    """One listed frame. ``ignore_regions`` are polygons, each (k, 2) in pixels.

    ``integer_keypoints``: the frame lists people and every keypoint value of
    theirs is a JSON integer (2018 layout). The PoseTrack21 kit stores such a
    frame in an integer array, which truncates the scores it writes into it.
    ``timestamp`` is when the frame is shown, in seconds, as its video states
    it: frames of a variable-frame-rate video are not ``index / fps`` apart.
    Files store it as an extra ``timestamp`` key, which poseval ignores.
    """

    file_name: str
    people: PoseTrackPeople
    is_labeled: bool = True
    ignore_regions: tuple[np.ndarray, ...] = ()
    image_id: int | None = None
    frame_id: int | None = None
    width: int | None = None
    height: int | None = None
    integer_keypoints: bool = False
    timestamp: float | None = None


@dataclass
class PoseTrackSequence:
    """One video sequence: every frame in file order (frames are paired by position)."""

    name: str
    frames: list[PoseTrackFrame]
    layout: Layout = "2018"
    vid_id: str | None = None

    def __len__(self) -> int:
        return len(self.frames)


# ----------------------------------------------------------------------------------------------- reading


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


class _Parser:
    """Shared error helpers: every message names the sequence and, where known, the frame."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    def fail(self, problem: str, frame: int | None = None, file_name: str | None = None) -> InputError:
        where = f"sequence {self.name}"
        if frame is not None:
            where += f", frame {frame}" + (f" ({file_name})" if file_name else "")
        return InputError(self.path, f"{where}: {problem}")

    def numbers_or_nan(self, values: Any, what: str, frame: int | None, file_name: str | None,
                       shape: tuple[int, ...] | None = None) -> np.ndarray:
        """``values`` as floats of the given shape (``()``: one number); NaN is left for the caller to locate."""
        array = float_array(values)
        if array is None:
            raise self.fail(f"{what} must be numbers, got {_short(values)}", frame, file_name)
        if shape == () and array.shape != ():
            raise self.fail(f"{what} must be one number, got {_short(values)}", frame, file_name)
        if shape is not None and array.shape != shape:
            raise self.fail(f"{what} must have {int(np.prod(shape))} numbers, got {array.size}", frame, file_name)
        return array

    def numbers(self, values: Any, what: str, frame: int | None, file_name: str | None,
                shape: tuple[int, ...] | None = None) -> np.ndarray:
        array = self.numbers_or_nan(values, what, frame, file_name, shape)
        if not np.isfinite(array).all():
            raise self.fail(f"{what} contains NaN or infinity", frame, file_name)
        return array

    def integer(self, value: Any, what: str, frame: int | None, file_name: str | None) -> int:
        """``value`` as an int that fits the int64 arrays it is stored in."""
        number = whole_number(value)
        if number is None:
            raise self.fail(f"{what} must be an integer, got {_short(value)}", frame, file_name)
        return number

    def regions(self, xs: Any, ys: Any, frame: int, file_name: str) -> tuple[np.ndarray, ...]:
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise self.fail("ignore_regions_x and ignore_regions_y must be lists of the same length", frame, file_name)
        polygons = []
        for k, (rx, ry) in enumerate(zip(xs, ys)):
            x = self.numbers(rx, f"ignore region {k} x", frame, file_name)
            y = self.numbers(ry, f"ignore region {k} y", frame, file_name)
            if x.ndim != 1 or y.ndim != 1:
                raise self.fail(f"ignore region {k} must be lists of numbers", frame, file_name)
            if x.shape != y.shape:
                raise self.fail(f"ignore region {k} has {x.size} x but {y.size} y values", frame, file_name)
            polygons.append(np.stack([x, y], axis=1))
        return tuple(polygons)


class _Parse2018(_Parser):
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
                raise self.fail(f"`file_name` must be a string, got {_short(image['file_name'])}", i)
            if not _is_key(image["id"]):
                raise self.fail(f"image id must be a number or a string, got {_short(image['id'])}", i,
                                image["file_name"])
            if image["id"] in position:
                raise self.fail(f"image id {_short(image['id'])} is listed twice", i, image["file_name"])
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
                raise self.fail(f"annotation {a} refers to image id {_short(image_id)}, which is not listed")
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
            who = f"track {_short(annotation.get('track_id'))}"
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
            what = f"{key} of track {_short(annotations[a].get('track_id'))}"
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


class _Parse2017(_Parser):
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
            raise self.fail(f"the image name must be a string, got {_short(file_name)}", index)
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


def _short(value: Any) -> str:
    """A value for an error message, cut to 60 characters; never fails however odd the value."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"a {type(value).__name__} nested too deeply to show"
    except ValueError:  # an int past Python's digit limit
        text = f"an {type(value).__name__} too long to show"
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------------------------- writing


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


__all__ = [
    "Layout", "PoseTrackFrame", "PoseTrackPeople", "PoseTrackPerson", "PoseTrackSequence", "parse_sequence",
    "read_sequence", "sequence_document", "write_sequence",
]
