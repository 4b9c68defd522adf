"""Person-detector training data: a frame cache, a scene split, augmentation and dense targets.

The corpus (``--data DIR``: ``videos/``, ``images/``, ``labels/``, ``manifest.json``) is decoded
once into a cache of downscaled JPEG frames (longer side <= ``max_side``) plus ``index.json``
holding, per frame, its scene and the teacher boxes in cache pixels. Frames where the teacher
found nobody are kept as negatives.

Training samples are drawn per *scene* (weight ``sqrt(#frames)``) so the two big scenes
(``opencv_vtest``, ``intel_hall``) do not dominate; train and val are split by scene.

Targets are TTFNet-style dense maps at the network stride: an elliptical Gaussian centre
heatmap, the box (x1, y1, x2, y2, input pixels) at every pixel of the box's central region, and
a regression weight (Gaussian value, normalised per box, scaled by log area). Boxes mostly cut
off by a crop become "ignore" areas (no heatmap loss there).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.training.augment import body_mask
from ftppose_cli.training.teacher_labels import SCHEMA_THUNDER

CACHE_VERSION = 1
PAD_VALUE = 114
MIN_VISIBLE = 0.45  # a box cut to less of its area than this becomes an ignore area (``--min-visible``)
DETECTOR_BOX_SCORE = 0.4  # schema-2 labels: fused teacher score from which a box is a person to find

# Scenes kept out of training, used for model selection (a spread of indoor/outdoor, small/large
# people, video and stills). Everything else trains.
DEFAULT_VAL_SCENES = (
    "sam2_bedroom", "intel_corridor", "mma_gym", "mmh_street", "tfjs_squats",
    "intel_parking", "mms_taichi_wall",
)
VAL_IMAGE_EVERY = 7  # also every 7th image scene (sorted) goes to val


@dataclass
class FrameRecord:
    file: str          # path relative to the cache root
    scene: str
    boxes: np.ndarray  # (n, 4) float32 xyxy in cache pixels
    source: str


def _scale_for(w: int, h: int, max_side: int) -> float:
    return min(1.0, max_side / max(w, h))


def _teacher_boxes(frame: dict, scale: float, min_score: float = 0.0) -> list[list[float]]:
    out = []
    for p in frame["persons"]:
        if p.get("score", 1.0) < min_score:
            continue
        x, y, w, h = p["box"]
        if w < 2 or h < 2:
            continue
        out.append([x * scale, y * scale, (x + w) * scale, (y + h) * scale])
    return out


def build_frame_cache(data: str | Path, cache: str | Path, max_side: int = 512, quality: int = 90,
                      log=print) -> Path:
    """Decode every video frame and image of ``data`` once into ``cache`` (idempotent)."""
    import av

    data, cache = Path(data), Path(cache)
    index_path = cache / "index.json"
    if index_path.exists():
        info = json.loads(index_path.read_text())
        if info.get("version") == CACHE_VERSION and info.get("max_side") == max_side:
            return index_path
    manifest = json.loads((data / "manifest.json").read_text())
    records = []
    entries = [("video", e) for e in manifest["videos"]] + [("image", e) for e in manifest["images"]]
    for kind, entry in entries:
        src = entry["file"]
        labels = json.loads((data / "labels" / (src + ".json")).read_text())
        scale = _scale_for(labels["width"], labels["height"], max_side)
        # schema 2 keeps every fused box down to a low score; the first labels only kept confident ones
        min_score = DETECTOR_BOX_SCORE if labels.get("schema") == SCHEMA_THUNDER else 0.0
        by_frame = {f["frame"]: f for f in labels["frames"]}
        out_dir = cache / "frames" / src.replace("/", "__")
        out_dir.mkdir(parents=True, exist_ok=True)

        def emit(idx: int, bgr: np.ndarray) -> None:
            if idx not in by_frame:
                return
            if scale < 1.0:
                bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
                                 interpolation=cv2.INTER_AREA)
            rel = f"frames/{out_dir.name}/{idx:06d}.jpg"
            if not (cache / rel).exists():
                cv2.imwrite(str(cache / rel), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
            records.append({"file": rel, "scene": entry["scene"], "source": src,
                            "boxes": [[round(v, 1) for v in b]
                                                       for b in _teacher_boxes(by_frame[idx], scale, min_score)]})

        if kind == "video":
            with av.open(str(data / src)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for i, frame in enumerate(container.decode(stream)):
                    emit(i, frame.to_ndarray(format="bgr24"))
        else:
            img = cv2.imread(str(data / src), cv2.IMREAD_COLOR)
            if img is None:
                log(f"skip unreadable {src}")
                continue
            emit(0, img)
        log(f"cached {src}: {len(by_frame)} frames")
    atomic_write_text(index_path, json.dumps({"version": CACHE_VERSION, "max_side": max_side, "records": records}),
                      overwrite=True)
    return index_path


def load_records(cache: str | Path) -> list[FrameRecord]:
    info = json.loads((Path(cache) / "index.json").read_text())
    return [FrameRecord(r["file"], r["scene"], np.asarray(r["boxes"], np.float32).reshape(-1, 4), r["source"])
            for r in info["records"]]


def drop_suspect_negatives(records: list[FrameRecord], window: int = 10,
                           max_empty_fraction: float = 0.8) -> list[FrameRecord]:
    """Remove empty frames that are probably teacher misses rather than true negatives.

    An empty video frame is kept only when no frame within ``window`` frames of it has a box
    (people walking out of view leave real negatives; a one-frame gap is a miss). Sources where the
    teacher found nobody in more than ``max_empty_fraction`` of the frames (torso-only close-ups,
    tiny or blurred people: the teacher failed, the clips do show people) are dropped entirely.
    """
    by_src: dict[str, list[FrameRecord]] = {}
    for r in records:
        by_src.setdefault(r.source, []).append(r)
    out = []
    for src, lst in by_src.items():
        empty = np.asarray([len(r.boxes) == 0 for r in lst])
        if len(lst) > 1 and empty.mean() > max_empty_fraction:
            continue
        for i, r in enumerate(lst):
            if empty[i] and not empty[max(0, i - window): i + window + 1].all():
                continue
            out.append(r)
    return out


def split_by_scene(records: list[FrameRecord], val_scenes=DEFAULT_VAL_SCENES) -> tuple[list, list]:
    """Train/val by scene: the listed video scenes plus every ``VAL_IMAGE_EVERY``-th image scene."""
    image_scenes = sorted({r.scene for r in records if r.source.startswith("images/")})
    val = set(val_scenes) | set(image_scenes[3::VAL_IMAGE_EVERY])
    return [r for r in records if r.scene not in val], [r for r in records if r.scene in val]


# --------------------------------------------------------------------------- augmentation

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


def make_targets(boxes: np.ndarray, ignore: np.ndarray, height: int, width: int, stride: int,
                 alpha: float = 0.54, beta: float = 0.54) -> dict[str, np.ndarray]:
    """Dense TTFNet-style targets for boxes (xyxy, input pixels) on a ``height x width`` input."""
    oh, ow = height // stride, width // stride
    heat = np.zeros((oh, ow), np.float32)
    mask = np.ones((oh, ow), np.float32)       # 0 = ignored for the heatmap loss
    box_t = np.zeros((4, oh, ow), np.float32)
    reg_w = np.zeros((oh, ow), np.float32)
    ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float32)
    for b in ignore:
        x0, y0 = int(b[0] // stride), int(b[1] // stride)
        x1, y1 = int(math.ceil(b[2] / stride)), int(math.ceil(b[3] / stride))
        mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 0
    if len(boxes):
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.argsort(-areas)  # large first so small boxes overwrite regression targets
        for k in order:
            x1, y1, x2, y2 = boxes[k]
            w, h = (x2 - x1) / stride, (y2 - y1) / stride
            cx, cy = (x1 + x2) / 2 / stride - 0.5, (y1 + y2) / 2 / stride - 0.5
            sx, sy = max(alpha * w / 6, 0.3), max(alpha * h / 6, 0.3)
            g = np.exp(-((xs - cx) ** 2 / (2 * sx * sx) + (ys - cy) ** 2 / (2 * sy * sy)))
            ci, cj = int(np.clip(round(cy), 0, oh - 1)), int(np.clip(round(cx), 0, ow - 1))
            g[ci, cj] = 1.0
            np.maximum(heat, g, out=heat)
            mask[ci, cj] = 1.0
            # regression region: the Gaussian with beta, restricted to the box centre area
            gb = np.exp(-((xs - cx) ** 2 / (2 * max(beta * w / 6, 0.3) ** 2)
                          + (ys - cy) ** 2 / (2 * max(beta * h / 6, 0.3) ** 2)))
            region = gb > 0.1
            region[ci, cj] = True
            wk = gb * region
            wk = wk / wk.sum() * math.log(max(areas[k], 4.0))
            box_t[:, region] = np.asarray([x1, y1, x2, y2], np.float32)[:, None]
            reg_w[region] = wk[region]
    return {"heatmap": heat[None], "heat_mask": mask[None], "box": box_t, "reg_weight": reg_w[None]}


class DetectorTorchDataset:
    """Adapter yielding torch tensors (image float CHW RGB in [0,1] normalised later by the model)."""

    def __init__(self, base: DetectorTrainSet, stride: int) -> None:
        self.base = base
        self.stride = stride

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        import torch

        img, boxes, ignore = self.base.sample(index)
        t = make_targets(boxes, ignore, img.shape[0], img.shape[1], self.stride)
        x = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)))
        return x, {k: torch.from_numpy(v) for k, v in t.items()}
