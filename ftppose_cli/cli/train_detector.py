"""`ftppose train-detector`: train the person detector on the teacher boxes.

Arguments only; the work is in :mod:`ftppose_cli.training.detector_trainer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ftppose_cli.cli.options import number_in
from ftppose_cli.cli.progress import step_progress
from ftppose_cli.weights import DETECTOR


def train_detector_command(
    data: Annotated[Path | None, typer.Option(help="Teacher-labelled corpus (videos/, images/, labels/, "
                                                 "manifest.json); decoded once into --cache.",
                                                 rich_help_panel="Data")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Run folder: last.pt (resume state), "
                                             "best.safetensors/.json (best val checkpoint).",
                                             rich_help_panel="Output")] = Path("runs/detector"),
    out_old: Annotated[Path | None, typer.Option("--out", hidden=True)] = None,
    cache: Annotated[Path | None, typer.Option(help="Frame cache folder.", rich_help_panel="Data",
                                                  show_default="OUTPUT_DIR/frames")] = None,
    size: Annotated[str, typer.Option(help=f"Detector size: {DETECTOR.size_choices}.",
                                      rich_help_panel="Model")] = DETECTOR.default_size,
    init_from: Annotated[Path | None, typer.Option(help="Start from these detector weights (e.g. "
                                                      "weights/detector.safetensors) instead of random ones.",
                                                      rich_help_panel="Model")] = None,
    epochs: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 24,
    samples_per_epoch: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 3000,
    batch_size: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 16,
    train_size: Annotated[int, typer.Option(help="Square training crop side.", rich_help_panel="Schedule")] = 320,
    lr: Annotated[float, typer.Option(rich_help_panel="Schedule")] = 3e-3,
    zoom: Annotated[tuple[float, float], typer.Option(help="Range of a frame's longer side, in training-crop "
                                                      "sides (larger = bigger people).",
                                                      rich_help_panel="Augmentation")] = (0.55, 1.6),
    paste: Annotated[float, typer.Option(help="Probability of pasting 1-3 people of other training scenes onto a "
                                         "sample (copy-paste).", rich_help_panel="Augmentation")] = 0.0,
    paste_from: Annotated[Path | None, typer.Option(help="Pose crop cache (`ftppose train --cache`) the pasted "
                                                       "people are cut from.", rich_help_panel="Augmentation")] = None,
    decoys: Annotated[float, typer.Option(parser=number_in(0, 1), help="Probability of pasting 1-2 decoys onto a "
                                          "sample: a pasted person's silhouette filled with background, with no box "
                                          "(needs --paste-from).", rich_help_panel="Augmentation")] = 0.0,
    min_visible: Annotated[float, typer.Option(parser=number_in(0, 1), help="A person a crop cuts to less than this "
                                               "fraction of their box area is an ignore area, not a positive.",
                                               rich_help_panel="Augmentation")] = 0.45,
    time_budget: Annotated[float | None, typer.Option(help="Stop after the epoch that would overrun this "
                                                         "many minutes.", rich_help_panel="Schedule")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from OUTPUT_DIR/last.pt if present.",
                                         rich_help_panel="Schedule")] = True,
    threads: Annotated[int, typer.Option(help="CPU threads for torch.", rich_help_panel="Hardware")] = 1,
    workers: Annotated[int, typer.Option(help="Data-loading processes.", rich_help_panel="Hardware")] = 0,
    seed: Annotated[int, typer.Option(rich_help_panel="Schedule")] = 0,
) -> None:
    """Train the person detector (CenterNet-style) on teacher boxes, selecting by val-scene F1."""
    from ftppose_cli.training.detector_trainer import DetectorTrainConfig, train_detector

    out = out_old if out_old is not None else output_dir  # --out: the old name of --output-dir
    console = Console(stderr=True)
    cfg = DetectorTrainConfig(
        data=None if data is None else str(data), cache=str(cache or out / "frames"), out=str(out), size=size,
        epochs=epochs, samples_per_epoch=samples_per_epoch, batch_size=batch_size, train_size=train_size, lr=lr,
        zoom=zoom, paste=paste, paste_from=None if paste_from is None else str(paste_from), min_visible=min_visible,
        decoys=decoys, threads=threads, workers=workers, seed=seed,
        init_from=None if init_from is None else str(init_from),
        time_budget_s=None if time_budget is None else time_budget * 60)
    with step_progress(console) as progress:
        state = train_detector(cfg, resume=resume, log=console.print, progress=progress)
    console.print(f"done: {state['epoch']} epochs, best val F1 {state['best_f1']:.3f}; best checkpoint "
                  f"{out / 'best.safetensors'}")


def register(app: typer.Typer) -> None:
    app.command("train-detector")(train_detector_command)
