"""Person-detector training samples: frames drawn per scene, placed, mosaicked, pasted onto and jittered.

Training samples are drawn per *scene* (weight ``sqrt(#frames)``) so the two big scenes
(``opencv_vtest``, ``intel_hall``) do not dominate. Boxes mostly cut off by a crop become
"ignore" areas (no heatmap loss there); people of other scenes can be pasted in
(:class:`PersonCutouts`).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.training.augment import body_mask
from ftppose_cli.training.detector_data import FrameRecord

PAD_VALUE = 114
MIN_VISIBLE = 0.45  # a box cut to less of its area than this becomes an ignore area (``--min-visible``)


def _colour_jitter(img: np.ndarray, rng: random.Random) -> np.ndarray:
    img = img.astype(np.float32)
    if rng.random() < 0.8:
        alpha = rng.uniform(0.6, 1.4)   # contrast
        beta = rng.uniform(-40, 40)     # brightness
        img = img * alpha + beta
    if rng.random() < 0.5:             # per-channel gain (white balance)
        img = img * np.asarray([rng.uniform(0.8, 1.2) for _ in range(3)], np.float32)
    if rng.random() < 0.5:             # saturation
        grey = img.mean(axis=2, keepdims=True)
        img = grey + (img - grey) * rng.uniform(0.3, 1.5)
    if rng.random() < 0.08:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        k = rng.choice((3, 5))
        img = cv2.GaussianBlur(img, (k, k), 0)
    return img


def _place(img: np.ndarray, boxes: np.ndarray, out_w: int, out_h: int, scale: float,
           rng: random.Random, min_visible: float = MIN_VISIBLE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize ``img`` by ``scale`` and random-crop/pad it to ``out_w x out_h``.

    Returns the canvas, the kept boxes and the ignore boxes (mostly cut off).
    """
    h, w = img.shape[:2]
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    boxes = boxes * scale
    ox = rng.randint(min(0, out_w - nw), max(0, out_w - nw))  # canvas x of the image's left edge
    oy = rng.randint(min(0, out_h - nh), max(0, out_h - nh))
    canvas = np.full((out_h, out_w, 3), PAD_VALUE, np.uint8)
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(out_w, ox + nw), min(out_h, oy + nh)
    canvas[y0:y1, x0:x1] = img[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return (canvas, *_clip_boxes(boxes + np.asarray([ox, oy, ox, oy], np.float32), x0, y0, x1, y1, min_visible))


def _clip_boxes(b: np.ndarray, x0: float, y0: float, x1: float, y1: float,
                min_visible: float = MIN_VISIBLE) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to the visible area: those keeping ``min_visible`` of their area are kept, the rest ignored.

    A person the crop cuts in half is still labelled with the cut box when kept, which teaches
    part boxes; ignoring such people instead costs no loss either way.
    """
    b = np.asarray(b, np.float32).reshape(-1, 4)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    c = b.copy()
    c[:, [0, 2]] = c[:, [0, 2]].clip(x0, x1)
    c[:, [1, 3]] = c[:, [1, 3]].clip(y0, y1)
    cw, ch = c[:, 2] - c[:, 0], c[:, 3] - c[:, 1]
    frac = cw * ch / np.maximum(area, 1e-6)
    keep = (frac >= min_visible) & (cw >= 3) & (ch >= 6)
    ignore = ~keep & (cw >= 2) & (ch >= 2)
    return c[keep], c[ignore]


class PersonCutouts:
    """People cut out of the pose crop cache, for copy-paste augmentation (Ghiasi et al., 2021).

    The corpus has few scenes, so the detector sees the same people against the same backgrounds;
    pasting people from other scenes, at other sizes and places, breaks that link as pasting onto
    other backgrounds did for the pose model. There are no segmentation masks: the silhouette is
    the one drawn from the skeleton (:func:`~ftppose_cli.training.augment.body_mask`), and the
    box is the teacher's box of that person, so pasted and real people share one box convention.
    People of ``exclude_scenes`` (the detector's validation scenes) are never used.
    """

    def __init__(self, crop_cache: str | Path, exclude_scenes: set[str], min_joints: int = 8) -> None:
        root = Path(crop_cache)
        meta = np.load(root / "meta.npz")
        info = json.loads((root / "info.json").read_text())
        self.crops = np.load(root / "crops.npy", mmap_mode="r")
        self.radius = int(info["radius"])
        self.side = int(info["side"])
        self.keypoints = meta["keypoints"]
        self.visible = meta["visibility"] >= 0.5
        self.box_wh = meta["box_wh"]
        by_scene: dict[str, list[int]] = {}
        for i, scene in enumerate(meta["scene"]):
            if str(scene) not in exclude_scenes and self.visible[i].sum() >= min_joints:
                by_scene.setdefault(str(scene), []).append(i)
        if not by_scene:
            raise ValueError(f"{root}: no people to paste outside the excluded scenes")
        self.by_scene = [by_scene[s] for s in sorted(by_scene)]

    def paste(self, canvas: np.ndarray, rng: random.Random, min_visible: float = MIN_VISIBLE,
              texture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Paste one person onto ``canvas`` (in place) at a random size and place.

        Returns ``(canvas, kept boxes, ignore boxes)`` for the pasted person (0 or 1 of each).
        With ``texture`` the silhouette is filled with it instead of the person, and no box is
        returned: a decoy with a pasted person's outline and feathered edge but no person inside,
        so that the edge of a pasted shape is not by itself evidence of a person.
        """
        i = rng.choice(rng.choice(self.by_scene))
        crop = np.asarray(self.crops[i, self.radius]) if texture is None else \
            cv2.resize(texture, (self.side, self.side), interpolation=cv2.INTER_AREA)
        mask = body_mask(self.keypoints[i], self.visible[i].astype(np.float32), crop.shape[:2])
        bw, bh = (float(v) for v in self.box_wh[i])
        out_h, out_w = canvas.shape[:2]
        # person height 10-90 % of the canvas, log-uniform (small people are as common as large ones)
        scale = math.exp(rng.uniform(math.log(0.1), math.log(0.9))) * out_h / max(bh, 1.0)
        size = max(2, round(self.side * scale))
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            crop, mask = crop[:, ::-1], mask[:, ::-1]
        cx, cy = rng.uniform(0, out_w), rng.uniform(0, out_h)  # where the box centre lands
        ox, oy = round(cx - size / 2), round(cy - size / 2)     # canvas position of the crop's corner
        x0, y0 = max(0, ox), max(0, oy)
        x1, y1 = min(out_w, ox + size), min(out_h, oy + size)
        if x1 <= x0 or y1 <= y0:
            return canvas, np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32)
        alpha = mask[y0 - oy:y1 - oy, x0 - ox:x1 - ox, None]
        region = canvas[y0:y1, x0:x1].astype(np.float32)
        canvas[y0:y1, x0:x1] = np.rint(region * (1 - alpha) + crop[y0 - oy:y1 - oy, x0 - ox:x1 - ox] * alpha)
        if texture is not None:
            return canvas, np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32)
        half_w, half_h = bw * scale / 2, bh * scale / 2
        box = [ox + size / 2 - half_w, oy + size / 2 - half_h, ox + size / 2 + half_w, oy + size / 2 + half_h]
        return (canvas, *_clip_boxes(box, 0, 0, out_w, out_h, min_visible))


class DetectorTrainSet:
    """Random augmented samples drawn per scene; ``len`` = samples per epoch.

    Each sample: ``(image uint8 HxWx3 BGR, boxes (n,4), ignore (m,4))`` in input pixels, plus dense
    targets from :func:`make_targets` when wrapped by :class:`DetectorTorchDataset`.
    """

    def __init__(self, cache: str | Path, records: list[FrameRecord], size: int = 320,
                 samples_per_epoch: int = 4000, mosaic: float = 0.3, seed: int = 0,
                 zoom: tuple[float, float] = (0.55, 1.6), cutouts: PersonCutouts | None = None,
                 paste: float = 0.0, min_visible: float = MIN_VISIBLE, decoys: float = 0.0) -> None:
        self.cache = Path(cache)
        self.decoys = decoys  # probability of pasting 1-2 person-shaped patches of background (no box)
        self.min_visible = min_visible
        self.zoom = zoom
        self.cutouts = cutouts
        self.paste = paste  # probability of pasting 1-3 people from other scenes onto a sample
        self.records = records
        self.size = size
        self.samples = samples_per_epoch
        self.mosaic = mosaic
        self.seed = seed
        self.epoch = 0
        by_scene: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            by_scene.setdefault(r.scene, []).append(i)
        self.scenes = sorted(by_scene)
        self.by_scene = by_scene
        self.weights = [math.sqrt(len(by_scene[s])) for s in self.scenes]

    def __len__(self) -> int:
        return self.samples

    def _pick(self, rng: random.Random) -> FrameRecord:
        scene = rng.choices(self.scenes, weights=self.weights)[0]
        return self.records[rng.choice(self.by_scene[scene])]

    def _load(self, rec: FrameRecord) -> tuple[np.ndarray, np.ndarray]:
        img = cv2.imread(str(self.cache / rec.file), cv2.IMREAD_COLOR)
        return img, rec.boxes.copy()

    def _background(self, rng: random.Random, tries: int = 10) -> np.ndarray | None:
        """A square patch of a training frame that touches none of its teacher boxes, or None."""
        img, boxes = self._load(self._pick(rng))
        h, w = img.shape[:2]
        for _ in range(tries):
            side = max(8, round(min(h, w) * rng.uniform(0.15, 0.6)))
            x0, y0 = rng.randint(0, w - side), rng.randint(0, h - side)
            if not len(boxes) or not ((boxes[:, 0] < x0 + side) & (boxes[:, 2] > x0) &
                                      (boxes[:, 1] < y0 + side) & (boxes[:, 3] > y0)).any():
                return img[y0:y0 + side, x0:x0 + side]
        return None

    def _single(self, rng: random.Random, out_w: int, out_h: int):
        """One frame, flipped at random, scaled so its longer side is ``zoom`` (by default 0.55-1.6)
        times the canvas side, placed at a random offset (crop or pad)."""
        img, boxes = self._load(self._pick(rng))
        h, w = img.shape[:2]
        scale = max(out_w, out_h) / max(w, h) * rng.uniform(*self.zoom)
        if rng.random() < 0.5:
            img = img[:, ::-1].copy()
            if len(boxes):
                boxes = boxes[:, [2, 1, 0, 3]] * np.asarray([-1, 1, -1, 1], np.float32) + \
                    np.asarray([w, 0, w, 0], np.float32)
        return _place(img, boxes, out_w, out_h, scale, rng, self.min_visible)

    def sample(self, index: int):
        rng = random.Random(hash((self.seed, self.epoch, index)) & 0xFFFFFFFF)
        s = self.size
        if rng.random() < self.mosaic:
            half = s // 2
            canvas = np.full((s, s, 3), PAD_VALUE, np.uint8)
            all_b, all_i = [], []
            for qy in range(2):
                for qx in range(2):
                    tile, b, ig = self._single(rng, half, half)
                    canvas[qy * half:(qy + 1) * half, qx * half:(qx + 1) * half] = tile
                    off = np.asarray([qx * half, qy * half] * 2, np.float32)
                    all_b.append(b + off)
                    all_i.append(ig + off)
            img, boxes, ignore = canvas, np.concatenate(all_b), np.concatenate(all_i)
        else:
            img, boxes, ignore = self._single(rng, s, s)
        if self.cutouts is not None and self.decoys > 0 and rng.random() < self.decoys:
            for _ in range(rng.randint(1, 2)):
                texture = self._background(rng)
                if texture is not None:
                    img = self.cutouts.paste(img, rng, texture=texture)[0]
        if self.cutouts is not None and rng.random() < self.paste:
            all_b, all_i = [boxes], [ignore]
            for _ in range(rng.randint(1, 3)):
                img, b, ig = self.cutouts.paste(img, rng, self.min_visible)
                all_b.append(b)
                all_i.append(ig)
            boxes, ignore = np.concatenate(all_b), np.concatenate(all_i)
        img = _colour_jitter(img, rng)
        return img, boxes.astype(np.float32), ignore.astype(np.float32)
