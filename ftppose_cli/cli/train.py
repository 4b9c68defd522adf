"""`ftppose train`: train an FTP-Pose model from a crop cache of teacher or ground-truth labels.

Arguments only; the work is in :mod:`ftppose_cli.training`. Multi-GPU:
``torchrun --nproc_per_node N -m ftppose_cli train ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ftppose_cli.cli import options
from ftppose_cli.cli.help import renamed
from ftppose_cli.cli.progress import step_progress
from ftppose_cli.errors import FtpposeError
from ftppose_cli.weights import POSE

if TYPE_CHECKING:
    from ftppose_cli.training.progress import StepProgress


def train_command(
    cache: Annotated[Path, typer.Option(help="Crop cache folder (cut from --data or --annotations on first use).",
                                        rich_help_panel="Data")],
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", help="Run folder: last.pt (resume state), best.* (exported checkpoint). Required.",
        rich_help_panel="Output", show_default=False)] = None,
    out_old: Annotated[Path | None, typer.Option("--out", hidden=True)] = None,
    data: Annotated[Path | None, typer.Option(help="Teacher-labelled corpus (videos/, images/, labels/, "
                                                 "manifest.json, and lspet.json if labelled with LSPet) to "
                                                 "build the crop cache from.",
                                                 rich_help_panel="Data")] = None,
    annotations: Annotated[Path | None, typer.Option(help="COCO-keypoint or PoseTrack18 JSON (a file or a "
                                                        "folder of them) to build the crop cache from, instead "
                                                        "of --data.", rich_help_panel="Data")] = None,
    val_annotations: Annotated[Path | None, typer.Option(help="Annotations of the validation people (e.g. "
                                                            "PoseTrack's val folder); default: every 20th scene "
                                                            "of --annotations.", rich_help_panel="Data")] = None,
    frame_step: Annotated[int, typer.Option(min=1, help="With --data: keep every n-th labelled video frame "
                                            "(neighbouring frames are nearly the same picture).",
                                            rich_help_panel="Data")] = 1,
    images: Annotated[Path | None, typer.Option(help="Folder the annotations' image file names are relative "
                                                   "to (COCO's train2017/); default: beside the JSON or above "
                                                   "it (PoseTrack).", rich_help_panel="Data")] = None,
    val_images: Annotated[Path | None, typer.Option(help="The same for --val-annotations (COCO's val2017/); "
                                                       "default: --images.", rich_help_panel="Data")] = None,
    size: Annotated[str, typer.Option(help=f"Model size: {POSE.size_choices}.",
                                      rich_help_panel="Model")] = POSE.default_size,
    window: Annotated[int, typer.Option(help="Frames per window K (1 = single-frame stage).",
                                        rich_help_panel="Model")] = 1,
    input_size: Annotated[str | None, typer.Option(help="Crop size HxW, e.g. 192x144 (default: the size's "
                                                      "256x192).", rich_help_panel="Model")] = None,
    depth: Annotated[int | None, typer.Option(help="ViT layers (default: the size's).",
                                                 rich_help_panel="Model")] = None,
    stem: Annotated[str, typer.Option(help="Patch embedding: patch (one 16x16 projection) or conv (stride-2 3x3 "
                                      "convolutions, better from scratch on small data).",
                                      rich_help_panel="Model")] = "patch",
    init_from: Annotated[Path | None, typer.Option(help="Initialise from these weights (a checkpoint, or a bare "
                                                      ".safetensors): the tensors that fit the model.",
                                                      rich_help_panel="Model")] = None,
    freeze_backbone: Annotated[bool, typer.Option("--freeze-backbone", help="Train only MGFE, fusion and head.",
                                                  rich_help_panel="Model")] = False,
    temporal_only: Annotated[bool, typer.Option("--temporal-only", help="Train only the temporal path (MGFE, "
                                                "fusion, the head's temporal entry) on a fixed single-frame "
                                                "model.", rich_help_panel="Model")] = False,
    epochs: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 30,
    stop_after: Annotated[int | None, typer.Option(help="Stop after this many epochs (resume later with the "
                                                      "same command).", rich_help_panel="Schedule")] = None,
    samples_per_epoch: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 4000,
    batch_size: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 32,
    lr: Annotated[float, typer.Option(rich_help_panel="Schedule")] = 1e-3,
    warmup_steps: Annotated[int, typer.Option(help="Linear learning-rate warm-up before the cosine decay.",
                                              rich_help_panel="Schedule")] = 300,
    scene_power: Annotated[float, typer.Option(help="Draw a scene with n people ~n**POWER times as often as a "
                                               "one-person scene (0 = every scene alike, 1 = every person "
                                               "alike).", rich_help_panel="Data")] = 0.5,
    balance_facing: Annotated[bool, typer.Option("--balance-facing/--no-balance-facing",
                                                 help="Draw people seen from behind as often as people facing "
                                                 "the camera.", rich_help_panel="Data")] = False,
    synthetic_back: Annotated[float, typer.Option(help="Probability of turning a person facing the camera into a "
                                                  "back view: head painted over, left and right labels swapped.",
                                                  rich_help_panel="Data")] = 0.0,
    face_blur: Annotated[float, typer.Option(help="Probability of blurring the face of a person facing the camera "
                                             "(labels kept), so a privacy-blurred face is not read as a back "
                                             "view.", rich_help_panel="Data")] = 0.0,
    key_frame_degrade: Annotated[float, typer.Option(help="Probability of motion-blurring or covering only the key "
                                                     "frame of a window (K > 1), so the temporal path learns to "
                                                     "take the pose from the neighbours.",
                                                     rich_help_panel="Data")] = 0.0,
    background_paste: Annotated[float, typer.Option(help="Probability of pasting the person (a silhouette drawn "
                                                    "from the labels) onto another crop's background.",
                                                    rich_help_panel="Data")] = 0.0,
    aspect_jitter: Annotated[float, typer.Option(help="Std of the log vertical stretch of crops (0.2 squashes or "
                                                 "stretches by up to ~1.5x): people seen from above or seated.",
                                                 rich_help_panel="Data")] = 0.0,
    neighbour_paste: Annotated[float, typer.Option(help="Probability of pasting another person beside, behind or "
                                                   "in front of the person (crowds, couples).",
                                                   rich_help_panel="Data")] = 0.0,
    ema_decay: Annotated[float, typer.Option(help="Validate and export a moving average of the weights with this "
                                             "per-step decay (0 = the raw weights).",
                                             rich_help_panel="Schedule")] = 0.0,
    pruning_ratios: Annotated[str, typer.Option(callback=options.pruning_ratios,
                                                help="Pruning ratios sampled per step (comma separated).",
                                                rich_help_panel="Schedule")] = "0,0.25,0.5,0.75,0.9",
    epsilons_old: Annotated[str | None, typer.Option("--epsilons", hidden=True,
                                                     callback=options.pruning_ratios)] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda[:N].", rich_help_panel="Hardware")] = "auto",
    workers: Annotated[int, typer.Option(help="Data-loading processes.", rich_help_panel="Hardware")] = 1,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch.", rich_help_panel="Hardware")] = None,
    seed: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 0,
) -> None:
    """Train FTP-Pose (resumes from OUTPUT_DIR/last.pt when it exists)."""
    from ftppose_cli.models.ftppose import config_for
    from ftppose_cli.training.trainer import TrainConfig, train

    out = renamed(output_dir, out_old, name="--output-dir", old_name="--out")
    if out is None:
        raise typer.BadParameter("missing: the run folder to write", param_hint="--output-dir")
    console = Console(stderr=True)
    if data is not None and annotations is not None:
        raise FtpposeError(None, "--data and --annotations are two sources for one cache: pass one of them")
    if not (cache / "info.json").exists():
        with step_progress(console) as progress:
            _build_cache(cache, data, annotations, (val_annotations, val_images or images), images, console,
                         frame_step, progress)
    if temporal_only and window < 2:
        raise FtpposeError(None, "--temporal-only trains the temporal path: it needs --window 2 or more")
    overrides: dict = {"stem": stem}
    if input_size:
        try:
            overrides["img_size"] = tuple(int(v) for v in input_size.lower().split("x"))
        except ValueError:
            raise FtpposeError(None, f"--input-size must look like 192x144, got {input_size!r}") from None
    if depth:
        overrides["depth"] = depth
    try:  # size, stem, window and input size checked here, before a cache or model is touched
        config_for(size, window=window, **overrides)
    except ValueError as exc:
        raise FtpposeError(None, f"model options: {exc}") from None
    config = TrainConfig(
        cache=str(cache), out_dir=str(out), size=size, window=window, epochs=epochs,
        samples_per_epoch=samples_per_epoch, batch_size=batch_size, lr=lr, warmup_steps=warmup_steps,
        scene_power=scene_power, balance_facing=balance_facing, background_paste=background_paste,
        aspect_jitter=aspect_jitter, neighbour_paste=neighbour_paste, synthetic_back=synthetic_back,
        face_blur=face_blur, key_frame_degrade=key_frame_degrade, ema_decay=ema_decay,
        pruning_ratios=epsilons_old or pruning_ratios,  # --epsilons: the old name
        init_from=str(init_from) if init_from else None,
        freeze_backbone=freeze_backbone, temporal_only=temporal_only, stop_after=stop_after,
        model_overrides=overrides,
        num_workers=workers, threads=threads, seed=seed, device=device,
    )
    with step_progress(console) as progress:
        best = train(config, log=console.print, progress=progress)
    console.print(f"best checkpoint: {best}")


def _build_cache(cache: Path, data: Path | None, annotations: Path | None,
                 val: tuple[Path | None, Path | None], images: Path | None, console: Console,
                 frame_step: int, progress: StepProgress) -> None:
    """Cut the crop cache from the teacher corpus or from annotations (validation: ``val`` = (annotations, images))."""
    from ftppose_cli.training.crop_cache import build_crop_cache

    if data is not None:
        from ftppose_cli.formats.lspet import LSPET_VAL_SCENE
        from ftppose_cli.training.teacher_labels import TEACHER_VAL_SCENES, load_lspet_samples, load_teacher_samples

        samples = load_teacher_samples(data, frame_step)
        val_scenes = set(TEACHER_VAL_SCENES)
        if (data / "lspet.json").exists():  # written by scripts/label_corpus.py --lspet
            samples += load_lspet_samples(data)
            val_scenes.add(LSPET_VAL_SCENE)
        console.print(f"{len(samples)} labelled people, validation scenes: {', '.join(sorted(val_scenes))}")
        build_crop_cache(samples, data, cache, val_scenes=val_scenes, progress=progress)
    elif annotations is not None:
        from ftppose_cli.training.annotation_samples import load_annotation_samples

        samples = load_annotation_samples(annotations, images)
        if val[0] is not None:
            val_samples = load_annotation_samples(*val)
            val_scenes = {s.scene for s in val_samples}
            samples += val_samples
        else:
            val_scenes = set(sorted({s.scene for s in samples})[::20])
        console.print(f"{len(samples)} annotated people, {len(val_scenes)} validation scenes")
        build_crop_cache(samples, Path("/"), cache, val_scenes=val_scenes, progress=progress)
    else:
        raise FtpposeError(cache, "no crop cache here; pass --data (teacher corpus) or --annotations to build one")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
