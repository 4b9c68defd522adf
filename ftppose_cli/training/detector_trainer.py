"""Train the person detector on teacher boxes (see :mod:`ftppose_cli.training.detector_data`).

Losses: CenterNet's penalty-reduced focal loss on the centre heatmap (ignore areas masked out)
and a GIoU loss on the boxes decoded at every pixel of each box's central region (TTFNet), weighted
by the Gaussian there. AdamW + linear warm-up + cosine decay, an EMA of the weights (evaluated and
exported). Each epoch: recall / precision at IoU 0.5 on the val scenes (teacher boxes), best F1
over confidence thresholds; the best EMA model is exported as ``OUT/best.safetensors`` +
``OUT/best.json`` and ``OUT/last.pt`` holds everything needed to resume.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ftppose_cli.atomic import atomic_write, atomic_write_text
from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.detection.network import create_detector
from ftppose_cli.errors import UsageError
from ftppose_cli.training import detector_data as dd
from ftppose_cli.training.detector_augment import MIN_VISIBLE, DetectorTrainSet, PersonCutouts
from ftppose_cli.training.detector_targets import DetectorTorchDataset
from ftppose_cli.training.progress import StepProgress, no_progress
from ftppose_cli.weights import DETECTOR, load_into, save_weights


@dataclass
class DetectorTrainConfig:
    data: str | None            # corpus folder (to build the cache from)
    cache: str                  # frame cache folder
    out: str                    # run folder
    size: str = "small"
    epochs: int = 12
    samples_per_epoch: int = 3000
    batch_size: int = 16
    train_size: int = 320       # square training crops
    lr: float = 3e-3
    weight_decay: float = 5e-4
    warmup_steps: int = 200
    ema_decay: float = 0.998
    box_weight: float = 5.0
    mosaic: float = 0.3
    zoom: tuple[float, float] = (0.55, 1.6)  # a frame's longer side, in training-crop sides
    paste: float = 0.0          # probability of pasting 1-3 people of other scenes onto a sample
    paste_from: str | None = None  # pose crop cache the pasted people come from (needed when paste > 0)
    min_visible: float = MIN_VISIBLE  # a person cut to less of their box area is ignored, not a positive
    decoys: float = 0.0         # probability of pasting 1-2 person-shaped background patches (needs paste_from)
    val_max_frames: int = 400
    threads: int = 1
    workers: int = 0
    seed: int = 0
    time_budget_s: float | None = None  # stop (after saving) when the next epoch would not fit
    init_from: str | None = None  # start from these detector weights (e.g. the shipped ones) instead of random


# ---------------------------------------------------------------------------- losses

def focal_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet penalty-reduced focal loss, averaged over the number of centres."""
    p = logits.float().sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = (target >= 1.0).float()
    neg = (1 - pos) * mask
    pos_loss = -torch.log(p) * (1 - p) ** alpha * pos
    neg_loss = -torch.log(1 - p) * p ** alpha * (1 - target) ** beta * neg
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


def giou_loss(ltrb: torch.Tensor, box_target: torch.Tensor, weight: torch.Tensor, stride: int) -> torch.Tensor:
    """GIoU loss of boxes decoded at each pixel vs the target box, weighted by ``weight``."""
    B, _, H, W = ltrb.shape
    w = weight[:, 0]
    m = w > 0
    if not m.any():
        return ltrb.sum() * 0.0
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32),
                            indexing="ij")
    cx = ((xs + 0.5) * stride).expand(B, H, W)[m]
    cy = ((ys + 0.5) * stride).expand(B, H, W)[m]
    d = ltrb.permute(0, 2, 3, 1)[m].float()
    t = box_target.permute(0, 2, 3, 1)[m]
    px1, py1, px2, py2 = cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]
    tx1, ty1, tx2, ty2 = t.unbind(1)
    iw = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(min=0)
    ih = (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(min=0)
    inter = iw * ih
    union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter
    iou = inter / union.clamp(min=1e-6)
    enclose = (torch.max(px2, tx2) - torch.min(px1, tx1)) * (torch.max(py2, ty2) - torch.min(py1, ty1))
    giou = iou - (enclose - union) / enclose.clamp(min=1e-6)
    ww = w[m]
    return ((1 - giou) * ww).sum() / ww.sum().clamp(min=1e-6)


# ---------------------------------------------------------------------------- evaluation

def match_counts(pred: np.ndarray, scores: np.ndarray, gt: np.ndarray, iou_thr: float = 0.5,
                 ignore: np.ndarray | None = None, ignore_mask: np.ndarray | None = None,
                 gt_ignore: np.ndarray | None = None) -> tuple[int, int, int]:
    """Greedy (by score) one-to-one matching at IoU >= ``iou_thr``. Returns (TP, FP, FN).

    Predictions that match no GT but overlap an ``ignore`` box (IoU >= 0.5, or half their area
    inside it), or have half their area on ``ignore_mask`` (bool HxW, e.g. PoseTrack's ignore
    regions), count as neither TP nor FP. GT boxes flagged in ``gt_ignore`` (e.g. COCO persons
    without keypoints) may absorb one prediction each but are never counted as misses.
    """
    if gt_ignore is not None and len(gt):
        gt_ignore = np.asarray(gt_ignore, bool)
        extra = gt[gt_ignore]
        gt = gt[~gt_ignore]
        ignore = extra if ignore is None or not len(ignore) else np.concatenate([ignore, extra])
    import torchvision

    order = np.argsort(-scores)
    pred = pred[order]
    used = np.zeros(len(gt), bool)
    tp = fp = 0
    ious = torchvision.ops.box_iou(torch.from_numpy(pred).float(), torch.from_numpy(gt).float()).numpy() \
        if len(pred) and len(gt) else np.zeros((len(pred), len(gt)))
    ign = None
    if ignore is not None and len(ignore) and len(pred):
        p, g = torch.from_numpy(pred).float(), torch.from_numpy(ignore).float()
        ign_iou = torchvision.ops.box_iou(p, g).numpy()
        lt = torch.max(p[:, None, :2], g[None, :, :2])
        rb = torch.min(p[:, None, 2:], g[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(2)
        parea = ((p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])).clamp(min=1e-6)
        ign = ((inter / parea[:, None]).numpy() >= 0.5) | (ign_iou >= 0.5)
    if ignore_mask is not None and len(pred):
        H, W = ignore_mask.shape
        on_mask = np.zeros(len(pred), bool)
        for i, b in enumerate(pred):
            x0, y0 = int(np.clip(b[0], 0, W)), int(np.clip(b[1], 0, H))
            x1, y1 = int(np.clip(np.ceil(b[2]), 0, W)), int(np.clip(np.ceil(b[3]), 0, H))
            on_mask[i] = x1 > x0 and y1 > y0 and ignore_mask[y0:y1, x0:x1].mean() >= 0.5
        ign = on_mask[:, None] if ign is None else (ign | on_mask[:, None])
    for i in range(len(pred)):
        j = -1
        if len(gt):
            cand = np.where(~used, ious[i], -1)
            j = int(cand.argmax())
            if cand[j] < iou_thr:
                j = -1
        if j >= 0:
            used[j] = True
            tp += 1
        elif ign is not None and ign[i].any():
            continue
        else:
            fp += 1
    return tp, fp, int((~used).sum())


def evaluate(detector: PersonDetector, images: list[np.ndarray], gts: list[np.ndarray],
             thresholds=(0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6), match_kwargs=None,
             batch: int = 8) -> dict:
    """Recall / precision / F1 at IoU 0.5 per confidence threshold (with per-image counts); ``best`` = max F1.

    ``match_kwargs``: optional per-image extra arguments of :func:`match_counts` (ignore areas)."""
    lo = min(thresholds)
    preds = []
    for i in range(0, len(images), batch):
        preds += detector.predict_raw(images[i:i + batch], min_box_score=lo)
    rows = {}
    for t in thresholds:
        counts = []
        for k, ((xyxy, sc), gt) in enumerate(zip(preds, gts)):
            keep = sc >= t
            counts.append(match_counts(xyxy[keep], sc[keep], gt, **({} if match_kwargs is None else match_kwargs[k])))
        per_image = np.array(counts, dtype=np.int64).reshape(-1, 3)
        TP, FP, FN = (int(v) for v in per_image.sum(0))
        r = TP / max(TP + FN, 1)
        p = TP / max(TP + FP, 1)
        rows[t] = {"recall": r, "precision": p, "f1": 2 * r * p / max(r + p, 1e-9), "tp": TP, "fp": FP, "fn": FN,
                   "per_image": per_image}  # (images, 3): tp, fp, fn, for intervals over images
    best_t = max(rows, key=lambda t: rows[t]["f1"])
    return {"by_threshold": rows, "best_threshold": best_t, **rows[best_t], "predictions": preds}


def _val_subset(cache: Path, records: list[dd.FrameRecord], max_frames: int, seed: int = 0):
    rng = random.Random(seed)
    recs = list(records)
    if len(recs) > max_frames:
        # per-scene even spread: every k-th frame of each source
        by_src: dict[str, list] = {}
        for r in recs:
            by_src.setdefault(r.source, []).append(r)
        per = max(1, max_frames // max(1, len(by_src)))
        recs = []
        for src in sorted(by_src):
            lst = by_src[src]
            step = max(1, math.ceil(len(lst) / per))
            recs += lst[::step]
        rng.shuffle(recs)
        recs = recs[:max_frames]
    import cv2
    imgs = [cv2.imread(str(cache / r.file), cv2.IMREAD_COLOR) for r in recs]
    return imgs, [r.boxes for r in recs]


# ---------------------------------------------------------------------------- training

def _collate(batch):
    xs = torch.stack([b[0] for b in batch]).float()
    keys = batch[0][1].keys()
    return xs, {k: torch.stack([b[1][k] for b in batch]) for k in keys}


def train_detector(cfg: DetectorTrainConfig, resume: bool = True, log=print,
                   progress: StepProgress = no_progress) -> dict:
    """Train (or resume) the detector and return the run's state (epochs done, best F1, history).

    ``log`` gets the lines worth keeping, ``progress`` every step (:mod:`.progress`).
    """
    torch.set_num_threads(cfg.threads)
    import cv2
    cv2.setNumThreads(1)
    out, cache = Path(cfg.out), Path(cfg.cache)
    out.mkdir(parents=True, exist_ok=True)
    if not (cache / "index.json").exists():
        if cfg.data is None:
            raise UsageError(None, f"{cache}/index.json missing and no --data to build it from")
        dd.build_frame_cache(cfg.data, cache, log=log)
    records = dd.drop_suspect_negatives(dd.load_records(cache))
    train_recs, val_recs = dd.split_by_scene(records)
    log(f"frames: {len(train_recs)} train ({len({r.scene for r in train_recs})} scenes), "
        f"{len(val_recs)} val ({len({r.scene for r in val_recs})} scenes)")

    torch.manual_seed(cfg.seed)
    model = create_detector(cfg.size)
    if cfg.init_from:
        load_into(model, cfg.init_from)  # a different size is a one-line error
        log(f"initialised from {cfg.init_from}")
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    decay, no_decay = [], []
    for _n, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    steps_per_epoch = cfg.samples_per_epoch // cfg.batch_size
    total = steps_per_epoch * cfg.epochs

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        t = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    state = {"epoch": 0, "step": 0, "best_f1": -1.0, "history": [], "train_seconds": 0.0}
    last = out / "last.pt"
    if resume and last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        log(f"resumed from {last} at epoch {state['epoch']} (best val F1 {state['best_f1']:.3f})")

    cutouts = None
    if cfg.paste > 0 or cfg.decoys > 0:
        if not cfg.paste_from:
            raise UsageError(None, "pasting people or decoys needs a pose crop cache to cut them from (--paste-from)")
        cutouts = PersonCutouts(cfg.paste_from, exclude_scenes={r.scene for r in val_recs})
    base = DetectorTrainSet(cache, train_recs, size=cfg.train_size, samples_per_epoch=cfg.samples_per_epoch,
                            mosaic=cfg.mosaic, seed=cfg.seed, zoom=tuple(cfg.zoom), cutouts=cutouts,
                            paste=cfg.paste, min_visible=cfg.min_visible, decoys=cfg.decoys)
    ds = DetectorTorchDataset(base, model.config.stride)
    val_imgs, val_gts = _val_subset(cache, val_recs, cfg.val_max_frames)
    log(f"val subset: {len(val_imgs)} frames, {sum(len(g) for g in val_gts)} teacher boxes")
    atomic_write_text(out / "config.json", json.dumps(asdict(cfg), indent=1), overwrite=True)

    t_start = time.time()
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        base.epoch = epoch
        loader = torch.utils.data.DataLoader(ds, batch_size=cfg.batch_size, shuffle=False, drop_last=True,
                                             num_workers=cfg.workers, collate_fn=_collate,
                                             persistent_workers=False)
        model.train()
        t0 = time.time()
        sums = {"heat": 0.0, "box": 0.0}
        task = f"epoch {epoch + 1}/{cfg.epochs}"
        progress(task, 0, steps_per_epoch, {})
        for i, (x, t) in enumerate(loader):
            for g in opt.param_groups:
                g["lr"] = lr_at(state["step"])
            heat, ltrb = model(x)
            lh = focal_loss(heat, t["heatmap"], t["heat_mask"])
            lb = giou_loss(ltrb, t["box"], t["reg_weight"], model.config.stride)
            loss = lh + cfg.box_weight * lb
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            state["step"] += 1
            d = min(cfg.ema_decay, (1 + state["step"]) / (10 + state["step"]))
            with torch.no_grad():
                for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                    if pe.is_floating_point():
                        pe.mul_(d).add_(pm.detach(), alpha=1 - d)
                    else:
                        pe.copy_(pm)
            sums["heat"] += lh.item()
            sums["box"] += lb.item()
            progress(task, i + 1, steps_per_epoch, {name: total / (i + 1) for name, total in sums.items()})
        train_s = time.time() - t0
        state["train_seconds"] += train_s
        t1 = time.time()
        det = PersonDetector(ema, min_box_score=0.3)
        res = evaluate(det, val_imgs, val_gts)
        val_s = time.time() - t1
        state["epoch"] += 1
        row = {"epoch": state["epoch"], "step": state["step"], "heat_loss": sums["heat"] / max(1, steps_per_epoch),
               "box_loss": sums["box"] / max(1, steps_per_epoch), "val_recall": res["recall"],
               "val_precision": res["precision"], "val_f1": res["f1"], "val_threshold": res["best_threshold"],
               "train_s": round(train_s, 1), "val_s": round(val_s, 1), "lr": lr_at(state["step"])}
        state["history"].append(row)
        improved = res["f1"] > state["best_f1"]
        log(json.dumps(row) + ("  *best*" if improved else ""))
        info = {"epochs": state["epoch"], "steps": state["step"], "train_seconds": round(state["train_seconds"]),
                "val_recall": res["recall"], "val_precision": res["precision"], "val_f1": res["f1"],
                "val": "teacher boxes of held-out scenes (split_by_scene)", "config": asdict(cfg)}
        stored = {"inference": {"min_box_score": float(res["best_threshold"]), "nms_iou": det.nms_iou},
                  "training": info}
        if improved:
            state["best_f1"] = res["f1"]
            save_weights(ema, out / "best", DETECTOR, **stored)
        resume_state = {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "state": state, "config": asdict(cfg)}
        atomic_write(last, partial(torch.save, resume_state), overwrite=True)
        save_weights(ema, out / "last_ema", DETECTOR, **stored)
        if cfg.time_budget_s is not None:
            per_epoch = time.time() - t0
            if time.time() - t_start + per_epoch > cfg.time_budget_s:
                log(f"time budget reached after epoch {state['epoch']}; stopping")
                break
    return state
