"""Training samples from ground-truth COCO-keypoint or PoseTrack18 annotations.

The shipped weights are distilled from teacher pseudo-labels, but a
researcher who holds COCO or PoseTrack trains on the real labels instead.
Every annotated person becomes a :class:`PersonSample` for the crop cache:

* a COCO person is a still: its window repeats the image, and training gives
  the neighbours synthetic motion;
* a PoseTrack person is a frame of its sequence folder, so its window takes
  the real neighbouring frames (PoseTrack ships every frame of a sequence,
  annotated or not).

Labelled joints get visibility 1 and unlabelled ones 0 (no loss). COCO has no
head_bottom / head_top and PoseTrack no ears; those joints are never trained
from such files. Scenes are the sequence folder (PoseTrack) or the image
(COCO), so a split by scene never puts frames of one sequence on both sides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.keypoint_annotations import AnnotatedPerson, load_annotated_people
from ftppose_cli.training.crop_cache import PersonSample
from ftppose_cli.video.sources import sequence_frames


def _sample(person: AnnotatedPerson, frame_lists: dict[Path, list[Path]]) -> PersonSample:
    x0, y0, x1, y1 = (float(v) for v in person.box_xyxy)
    visibility = person.labelled.astype(np.float32)
    if person.layout == "coco":
        return PersonSample(str(person.image), "image", 0, 1, (x0, y0, x1 - x0, y1 - y0),
                            person.keypoints.astype(np.float32), visibility, f"{person.dataset}/{person.image.stem}")
    folder = person.image.parent
    if folder not in frame_lists:
        frame_lists[folder] = sequence_frames(folder)
    frames = frame_lists[folder]
    return PersonSample(str(folder), "sequence", frames.index(person.image), len(frames), (x0, y0, x1 - x0, y1 - y0),
                        person.keypoints.astype(np.float32), visibility, f"{person.dataset}/{folder.name}")


def load_annotation_samples(data: str | Path, image_root: str | Path | None = None) -> list[PersonSample]:
    """Every annotated person of the COCO / PoseTrack18 keypoint JSON under ``data`` (a folder or a file).

    ``image_root`` is the folder image file names are relative to (see
    :func:`load_annotated_people`). Sources are absolute paths, so the cache
    can be built with any data root.
    """
    people = load_annotated_people(data, image_root)
    frame_lists: dict[Path, list[Path]] = {}
    samples = [_sample(person, frame_lists) for person in people]
    if not samples:
        raise InputError(data, "no annotated people found")
    return samples
