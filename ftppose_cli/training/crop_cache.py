"""A memory-mapped cache of person crops, so training never decodes video.

Decoding a 720p frame costs more than a training step's share of a crop, so
every labelled person is cut out once: a square region around the box (1.6x
its longer side, enough room for scale and rotation augmentation) resized to
``side`` pixels, for the key frame and its ``radius`` neighbours on each side
(same region, so motion is kept). A sample's source is a video, a still
image or a folder of frames (a PoseTrack sequence); still images repeat the
key frame and the augmentation gives them synthetic motion.

The labels come from teacher pseudo-labels (:mod:`.teacher_labels`) or from
ground-truth COCO / PoseTrack annotations (:mod:`.annotation_samples`); both
produce :class:`PersonSample` records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.training.progress import StepProgress, no_progress
from ftppose_cli.video.sources import read_frames

REGION_FACTOR = 1.6


@dataclass(frozen=True)
class PersonSample:
    """One labelled person in one frame, with its source and scene (for splitting)."""

    source: str  # video, image or frame folder, relative to the data root (or absolute)
    kind: str  # "video", "image" or "sequence"
    frame: int  # index in decode order (video) or in the folder's sorted images (sequence)
    num_frames: int
    box_xywh: tuple[float, float, float, float]
    keypoints: np.ndarray  # (17, 2) pixels
    visibility: np.ndarray  # (17,) in [0, 1]; below 0.5 the joint gets no loss
    scene: str


def _region(box_xywh: tuple[float, float, float, float]) -> tuple[np.ndarray, float]:
    x, y, w, h = box_xywh
    return np.array([x + w / 2, y + h / 2], np.float32), REGION_FACTOR * max(w, h)


def _region_affine(center: np.ndarray, extent: float, side: int) -> np.ndarray:
    s = side / extent
    return np.array([[s, 0, side / 2 - s * center[0]], [0, s, side / 2 - s * center[1]]], np.float64)


def build_crop_cache(
    samples: list[PersonSample], data_root: str | Path, out_dir: str | Path, side: int = 320, radius: int = 1,
    val_scenes: set[str] | None = None, progress: StepProgress = no_progress,
) -> Path:
    """Write ``crops.npy`` (N, 2r+1, side, side, 3), ``meta.npz`` and ``info.json``; returns ``out_dir``.

    ``val_scenes`` is recorded in ``info.json`` as the cache's own validation
    split (a training run uses it unless told otherwise). ``progress`` hears
    of every source done (:mod:`.progress`).
    """
    root, out = Path(data_root), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    window = 2 * radius + 1
    crops = np.lib.format.open_memmap(
        out / "crops.npy", mode="w+", dtype=np.uint8, shape=(len(samples), window, side, side, 3)
    )
    affines = np.stack([_region_affine(*_region(s.box_xywh), side) for s in samples])
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        by_source[s.source].append(i)
    progress("cutting crops", 0, len(by_source), {})
    for done, (source, indices) in enumerate(by_source.items(), 1):
        # frame -> [(sample, slot)] for every window slot that frame fills.
        wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for i in indices:
            s = samples[i]
            for slot in range(window):
                f = min(max(s.frame + slot - radius, 0), s.num_frames - 1)
                wanted[f].append((i, slot))
        for index, image in read_frames(root / source, wanted):
            for i, slot in wanted[index]:
                crops[i, slot] = cv2.warpAffine(image, affines[i][:2], (side, side), flags=cv2.INTER_AREA
                                                if affines[i][0, 0] < 1 else cv2.INTER_LINEAR)
        progress("cutting crops", done, len(by_source), {})
    crops.flush()
    keypoints = np.stack([s.keypoints for s in samples])
    kp_crop = np.einsum("nij,nkj->nki", affines[:, :, :2], keypoints) + affines[:, None, :, 2]
    np.savez(
        out / "meta.npz",
        keypoints=kp_crop.astype(np.float32),
        visibility=np.stack([s.visibility for s in samples]).astype(np.float32),
        box_extent=np.array([max(s.box_xywh[2], s.box_xywh[3]) for s in samples], np.float32) * affines[:, 0, 0],
        box_wh=np.array([s.box_xywh[2:] for s in samples], np.float32) * affines[:, :1, 0],
        scene=np.array([s.scene for s in samples]),
        source=np.array([s.source for s in samples]),
        frame=np.array([s.frame for s in samples]),
    )
    info = {"side": side, "radius": radius, "count": len(samples)}
    if val_scenes is not None:
        info["val_scenes"] = sorted(val_scenes)
    atomic_write_text(out / "info.json", json.dumps(info), overwrite=True)
    return out
