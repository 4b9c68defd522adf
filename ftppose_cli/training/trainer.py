"""The pose training loop: heatmap regression with sampled pruning ratios.

One checkpoint must serve every pruning ratio, so each step draws one from
``pruning_ratios`` (the temporal path sees every ratio it will be run at).
Checkpoints carry model, optimiser, scheduler, step and RNG state, and the
augmentation is seeded per (epoch, item), so a resumed run continues exactly
where it stopped. Distributed training uses DistributedDataParallel when
launched by ``torchrun`` (gloo on CPU, nccl on GPU).

Validation and export use an exponential moving average of the weights
(timm's ``ModelEmaV3``) when ``ema_decay`` > 0: on this small corpus the raw
weights' validation score moves several points from one epoch to the next
even at a near-zero learning rate, so the best raw epoch is partly luck.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from timm.utils import ModelEmaV3
from torch.utils.data import DataLoader

from ftppose_cli.atomic import atomic_write, atomic_write_text
from ftppose_cli.evaluation.pck import pck, side_agnostic_pck
from ftppose_cli.formats.lspet import LSPET_VAL_SCENE
from ftppose_cli.models.decoding import decode_output, heatmap_to_input
from ftppose_cli.models.ftppose import FTPPose, config_for
from ftppose_cli.training.datasets import CropCache, PoseWindowDataset
from ftppose_cli.training.progress import StepProgress, no_progress
from ftppose_cli.training.targets import heatmap_loss
from ftppose_cli.weights import POSE, load_into, load_state_checked, save_weights


@dataclass
class TrainConfig:
    cache: str
    out_dir: str
    size: str = "tiny"
    window: int = 1
    epochs: int = 30
    samples_per_epoch: int = 4000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 300
    pruning_ratios: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9)
    val_scenes: tuple[str, ...] | None = None  # None: the split recorded in the cache (see CropCache.val_scenes)
    background_paste: float = 0.0  # probability of pasting the person onto another crop's background
    neighbour_paste: float = 0.0  # probability of pasting another person beside or in front of the person
    aspect_jitter: float = 0.0  # std of the log height/width stretch (foreshortened, seated, overhead people)
    ema_decay: float = 0.0  # per-step decay of the weight average that is validated and exported; 0 = off
    scene_power: float = 0.5  # a scene with n people is drawn ~n**scene_power times as often as a 1-person scene
    balance_facing: bool = False  # as many draws of people seen from behind as of people facing the camera
    synthetic_back: float = 0.0  # probability of a facing person becoming a back view (no face, sides swapped)
    face_blur: float = 0.0  # probability of blurring the face of a person facing the camera (labels kept)
    key_frame_degrade: float = 0.0  # probability of blurring or covering a window's key frame only (K > 1)
    init_from: str | None = None
    freeze_backbone: bool = False  # temporal stage: train MGFE, fusion and head on a fixed backbone
    temporal_only: bool = False  # temporal stage: also fix the head's spatial layers; train MGFE, fusion, entry
    num_workers: int = 1
    threads: int | None = None
    seed: int = 0
    amp: bool = True
    device: str = "auto"
    stop_after: int | None = None  # epochs to run in this call (then resume later); None = to the end
    max_val_people: int | None = 800  # per validation group (see validation_groups); None = all
    model_overrides: dict = field(default_factory=dict)  # e.g. depth / img_size for small experiments


def _distributed() -> tuple[int, int]:
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _device(name: str, rank: int) -> torch.device:
    if name == "auto":
        return torch.device(f"cuda:{rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def validate(model: torch.nn.Module, loader: DataLoader, device: torch.device,
             pruning_ratio: float = 0.0) -> dict[str, float]:
    """PCK at 0.05 / 0.1 / 0.2 of the box's longer side on the validation people, and at 0.1 on either side.

    ``any_side@0.1`` also counts a joint found where its mirror twin is: its gap to ``pck@0.1``
    is the share of joints given the wrong side, which tells a model that mistakes the way people
    face (synthetic back views, blurred faces) from one that cannot find the joints.
    """
    model.eval()
    preds, gts, vis, refs = [], [], [], []
    for batch in loader:
        heatmaps = model(batch["inputs"].to(device), pruning_ratio)
        core = model.module if hasattr(model, "module") else model
        coords, _ = decode_output(heatmaps.float().cpu(), core.config.heatmap_kind)
        preds.append(heatmap_to_input(coords, core.config.heatmap_size, core.config.img_size).numpy())
        gts.append(batch["joints"].numpy())
        vis.append(batch["visible"].numpy() > 0)
        refs.append(batch["box_size"].numpy())
    if not preds:
        return {}
    pred, gt, visible, ref = (np.concatenate(a) for a in (preds, gts, vis, refs))
    result = {f"pck@{t}": v for t, v in pck(pred, gt, visible, ref).items()}
    result["any_side@0.1"] = side_agnostic_pck(pred, gt, visible, ref, loader.dataset.flip_perm, 0.1)
    return result


def validation_groups(cache: CropCache, val_idx: np.ndarray, max_people: int | None) -> dict[str, np.ndarray]:
    """The validation people by kind, each scored on its own: ``""`` the video scenes, ``"lspet/"`` LSPet's
    held-back images (sports poses, far closer to unseen people than the video scenes are).

    Each group keeps at most ``max_people`` people, evenly spaced (a scene labelled on every frame
    has thousands of near-identical people; validating on all of them costs minutes and adds nothing).
    """
    is_lspet = cache.scene[val_idx] == LSPET_VAL_SCENE
    groups = {"": val_idx[~is_lspet], "lspet/": val_idx[is_lspet]}
    out = {}
    for prefix, idx in groups.items():
        if len(idx) == 0:
            continue
        if max_people and len(idx) > max_people:
            idx = idx[np.linspace(0, len(idx) - 1, max_people).round().astype(int)]
        out[prefix] = idx
    return out


def _frozen_modules(model: FTPPose, cfg: TrainConfig) -> list[torch.nn.Module]:
    """The parts a stage keeps fixed.

    ``temporal_only`` fixes everything the single-frame model had (backbone and
    the head's deconvolutions and output layer), so the temporal path, entering
    the head through a zero-initialised convolution, is learnt as a residual on
    top of unchanged single-frame predictions.
    """
    frozen: list[torch.nn.Module] = []
    if cfg.freeze_backbone or cfg.temporal_only:
        frozen.append(model.backbone)
    if cfg.temporal_only:
        if not model.temporal:
            raise ValueError("temporal_only needs a window of more than one frame")
        frozen += [model.head.deconv1, model.head.deconv2, model.head.final]
    return frozen


def train(cfg: TrainConfig, log: Callable[[str], object] = print, progress: StepProgress = no_progress) -> Path:
    """Train (or resume) and return the path of the best exported checkpoint (``last.*`` is the latest epoch's).

    ``log`` gets the lines worth keeping (an epoch's losses and scores), ``progress`` every step
    (:mod:`.progress`); under torchrun only rank 0 reports.
    """
    rank, world = _distributed()
    show = rank == 0
    if not show:
        log, progress = (lambda line: None), no_progress
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = _device(cfg.device, rank)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed + rank)
    random.seed(cfg.seed + rank)

    cache = CropCache(cfg.cache)
    train_idx, val_idx = cache.split_by_scene(set(cfg.val_scenes if cfg.val_scenes is not None else cache.val_scenes))
    model_cfg = config_for(cfg.size, window=cfg.window, **cfg.model_overrides)
    model = FTPPose(model_cfg).to(device)
    if cfg.init_from:
        # Start from another checkpoint's weights (e.g. a single-frame model for the
        # temporal stage); tensors that the new model lacks or reshapes are skipped.
        copied = load_into(model, cfg.init_from, partial=True)
        log(f"initialised {copied}/{len(model.state_dict())} tensors from {cfg.init_from}")

    frozen = _frozen_modules(model, cfg)
    for module in frozen:
        module.requires_grad_(False)

    train_set = PoseWindowDataset(cache, train_idx, cfg.window, model_cfg.img_size, model_cfg.heatmap_size, True,
                                  cfg.seed, cfg.background_paste, cfg.aspect_jitter, cfg.neighbour_paste,
                                  cfg.synthetic_back, cfg.face_blur, cfg.key_frame_degrade)
    val_loaders = {
        prefix: DataLoader(PoseWindowDataset(cache, idx, cfg.window, model_cfg.img_size, model_cfg.heatmap_size,
                                             False, cfg.seed), batch_size=cfg.batch_size, num_workers=cfg.num_workers)
        for prefix, idx in validation_groups(cache, val_idx, cfg.max_val_people).items()
    }
    weights = cache.scene_weights(train_idx, cfg.scene_power, cfg.balance_facing)

    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if p.ndim > 1 and "pos_embed" not in n and "frame_embed" not in n]
    no_decay = [p for n, p in trainable if not (p.ndim > 1 and "pos_embed" not in n and "frame_embed" not in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    steps_per_epoch = cfg.samples_per_epoch // (cfg.batch_size * world)
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, total_steps, cfg.warmup_steps))
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    # The average starts from the initial weights (warm-up keeps early steps from
    # dragging a random start along); frozen parts stay equal to the model's.
    ema = ModelEmaV3(model, decay=cfg.ema_decay, use_warmup=True) if cfg.ema_decay > 0 else None

    state_path = out / "last.pt"
    start_epoch, best, history = 0, -1.0, []
    if state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        load_state_checked(model, state["model"], state_path)
        if ema is not None and state.get("ema") is not None:
            load_state_checked(ema.module, state["ema"], state_path)
        elif ema is not None:  # a run started without an average: start it from the resumed weights
            ema.module.load_state_dict(model.state_dict())
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        start_epoch, best, history = state["epoch"] + 1, state["best"], state["history"]
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["py_rng"])
        log(f"resumed from {state_path} at epoch {start_epoch}")

    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    end_epoch = cfg.epochs if cfg.stop_after is None else min(cfg.epochs, start_epoch + cfg.stop_after)
    for epoch in range(start_epoch, end_epoch):
        generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch * world + rank)
        draws = torch.multinomial(torch.as_tensor(weights), steps_per_epoch * cfg.batch_size, replacement=True,
                                  generator=generator)
        train_set.set_epoch(epoch, draws.numpy())  # already in random order: read them in sequence
        loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.num_workers,
                            drop_last=True, persistent_workers=False)
        ratio_rng = random.Random(cfg.seed * 7919 + epoch)
        ddp_model.train()
        for module in frozen:
            module.eval()  # no dropout, drop-path or BatchNorm-statistics drift in the fixed part
        started = time.time()
        running = 0.0
        task = f"epoch {epoch + 1}/{cfg.epochs}"
        progress(task, 0, steps_per_epoch, {"loss": 0.0})
        for step, batch in enumerate(loader):
            pruning_ratio = ratio_rng.choice(cfg.pruning_ratios) if cfg.window > 1 else 0.0
            inputs = batch["inputs"].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                heatmaps = ddp_model(inputs, pruning_ratio)
            loss = heatmap_loss(heatmaps, batch["target"].to(device), batch["target_weight"].to(device),
                                model_cfg.heatmap_kind)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if ema is not None:
                ema.update(model, step=scheduler.last_epoch)
            running += loss.item()
            progress(task, step + 1, steps_per_epoch, {"loss": running / (step + 1)})
        metrics = {"epoch": epoch, "loss": running / max(1, steps_per_epoch), "seconds": time.time() - started,
                   "lr": scheduler.get_last_lr()[0]}
        if show:
            scored = model if ema is None else ema.module
            score = 0.0
            for prefix, val_loader in val_loaders.items():
                found = validate(scored, val_loader, device)
                score += found.get("pck@0.1", 0.0) + found.get("pck@0.2", 0.0)
                metrics.update({prefix + k: v for k, v in found.items()})
                if cfg.window > 1:
                    metrics.update({f"{prefix}{k}@eps0.5": v
                                    for k, v in validate(scored, val_loader, device, 0.5).items()})
            history.append(metrics)
            exported = {"inference": {"pruning_ratios": list(cfg.pruning_ratios) if cfg.window > 1 else [0.0]},
                        "training": {**asdict(cfg), "epoch": epoch, "val": metrics}}
            # best.*: the best validation epoch; last.*: the latest epoch, for runs whose small
            # validation set should not pick the epoch (the end of the schedule is the choice then).
            save_weights(scored, out / "last", POSE, **exported)
            if score > best:
                best = score
                save_weights(scored, out / "best", POSE, **exported)
            resume_state = {"model": model.state_dict(), "ema": None if ema is None else ema.module.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "epoch": epoch,
                            "best": best, "history": history, "torch_rng": torch.get_rng_state(),
                            "py_rng": random.getstate(), "config": asdict(cfg)}
            atomic_write(state_path, partial(torch.save, resume_state), overwrite=True)
            atomic_write_text(out / "history.json", json.dumps(history, indent=1), overwrite=True)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
        if world > 1:
            dist.barrier()
    if dist.is_initialized():
        dist.destroy_process_group()
    return out / "best.safetensors"
