"""Person-detector training data: a frame cache and a scene split.

The corpus (``--data DIR``: ``videos/``, ``images/``, ``labels/``, ``manifest.json``) is decoded
once into a cache of downscaled JPEG frames (longer side <= ``max_side``) plus ``index.json``
holding, per frame, its scene and the teacher boxes in cache pixels. Frames where the teacher
found nobody are kept as negatives. Train and val are split by scene. A corpus labelled with
LSPet (``lspet.json`` and ``lspet_boxes.json`` of ``scripts/label_corpus.py --lspet``) adds
LSPet's training images: sports people of every pose, most of them large in the frame, which the
video scenes lack.

Samples are drawn and augmented from the cache by :mod:`.detector_augment`; their dense targets
are :mod:`.detector_targets`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.atomic import atomic_write_text
from ftppose_cli.training.teacher_labels import SCHEMA_THUNDER
from ftppose_cli.video.sources import read_frames

CACHE_VERSION = 1
DETECTOR_BOX_SCORE = 0.4  # schema-2 labels: fused teacher score from which a box is a person to find

# Scenes kept out of training, used for model selection (a spread of indoor/outdoor, small/large
# people, video and stills). Everything else trains.
DEFAULT_VAL_SCENES = (
    "sam2_bedroom", "intel_corridor", "mma_gym", "mmh_street", "tfjs_squats",
    "intel_parking", "mms_taichi_wall",
)
LSPET_BOXES = "lspet_boxes.json"  # written by scripts/label_corpus.py --lspet
LSPET_DETECTOR_SCENE = 1000  # LSPet images per detector scene
VAL_IMAGE_EVERY = 7  # also every 7th image scene (sorted) goes to val


@dataclass
class FrameRecord:
    file: str          # path relative to the cache root
    scene: str
    boxes: np.ndarray  # (n, 4) float32 xyxy in cache pixels
    source: str


def _scale_for(w: int, h: int, max_side: int) -> float:
    return min(1.0, max_side / max(w, h))


def _teacher_boxes(frame: dict, scale: float, min_box_score: float = 0.0) -> list[list[float]]:
    out = []
    for p in frame["persons"]:
        if p.get("score", 1.0) < min_box_score:
            continue
        x, y, w, h = p["box"]
        if w < 2 or h < 2:
            continue
        out.append([x * scale, y * scale, (x + w) * scale, (y + h) * scale])
    return out


def build_frame_cache(data: str | Path, cache: str | Path, max_side: int = 512, quality: int = 90,
                      log=print) -> Path:
    """Decode every video frame and image of ``data`` once into ``cache`` (idempotent)."""
    data, cache = Path(data), Path(cache)
    index_path = cache / "index.json"
    if index_path.exists():
        info = json.loads(index_path.read_text())
        if info.get("version") == CACHE_VERSION and info.get("max_side") == max_side:
            return index_path
    manifest = json.loads((data / "manifest.json").read_text())
    records = []
    for entry in manifest["videos"] + manifest["images"]:
        src = entry["file"]
        labels = json.loads((data / "labels" / (src + ".json")).read_text())
        scale = _scale_for(labels["width"], labels["height"], max_side)
        # schema 2 keeps every fused box down to a low score; the first labels only kept confident ones
        min_box_score = DETECTOR_BOX_SCORE if labels.get("schema") == SCHEMA_THUNDER else 0.0
        by_frame = {f["frame"]: f for f in labels["frames"]}
        out_dir = cache / "frames" / src.replace("/", "__")
        out_dir.mkdir(parents=True, exist_ok=True)

        read = False
        for idx, bgr in read_frames(data / src):
            read = True
            if idx not in by_frame:
                continue
            if scale < 1.0:
                bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
                                 interpolation=cv2.INTER_AREA)
            rel = f"frames/{out_dir.name}/{idx:06d}.jpg"
            if not (cache / rel).exists():
                cv2.imwrite(str(cache / rel), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
            boxes = _teacher_boxes(by_frame[idx], scale, min_box_score)
            records.append({"file": rel, "scene": entry["scene"], "source": src,
                            "boxes": [[round(v, 1) for v in b] for b in boxes]})
        if not read:
            log(f"skip unreadable {src}")
            continue
        log(f"cached {src}: {len(by_frame)} frames")
    if (data / LSPET_BOXES).exists() and (data / "lspet.json").exists():
        records += _cache_lspet(data, cache, max_side, quality)
        log(f"cached LSPet: {sum(r['source'].startswith('lspet/') for r in records)} training images")
    atomic_write_text(index_path, json.dumps({"version": CACHE_VERSION, "max_side": max_side, "records": records}),
                      overwrite=True)
    return index_path


def _cache_lspet(data: Path, cache: Path, max_side: int, quality: int) -> list[dict]:
    """LSPet's training images as frame records: the teachers' boxes (score >= ``DETECTOR_BOX_SCORE``)
    and the labelled person, whose box of ground-truth joints stands in where no teacher box covers them.

    Scenes of ``LSPET_DETECTOR_SCENE`` images give LSPet about half of the scene-balanced draws (47 % with
    the corpus of 2026-12).
    """
    from ftppose_cli.evaluation.end_to_end import box_iou

    labelled = {row["index"]: row for row in json.loads((data / "lspet.json").read_text())["people"]}
    document = json.loads((data / LSPET_BOXES).read_text())
    root = Path(document["root"])
    out_dir = cache / "frames" / "lspet"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for row in document["images"]:
        i = row["index"]
        boxes = [[x, y, x + w, y + h] for x, y, w, h, score in row["boxes"] if score >= DETECTOR_BOX_SCORE]
        if i in labelled:
            x, y, w, h = labelled[i]["box"]
            person = [x, y, x + w, y + h]
            if not boxes or box_iou(np.asarray(person, np.float32), np.asarray(boxes, np.float32)).max() < 0.5:
                boxes.append(person)
        scale = _scale_for(row["width"], row["height"], max_side)
        rel = f"frames/lspet/{Path(row['image']).stem}.jpg"
        if not (cache / rel).exists():
            bgr = cv2.imread(str(root / row["image"]), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            if scale < 1.0:
                bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
                                 interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(cache / rel), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        records.append({"file": rel, "scene": f"lspet_{i // LSPET_DETECTOR_SCENE:02d}",
                        "source": f"lspet/{row['image']}", "boxes": [[round(v * scale, 1) for v in b] for b in boxes]})
    return records


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
    for _src, lst in by_src.items():
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
