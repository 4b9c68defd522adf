"""`ftppose eval`: PoseTrack scores of a prediction folder, the official tools' numbers.

poseval's metric set (AP, MOTA) for PoseTrack 2017 / 2018, the PoseTrack21
kit's (mAP, keypoint HOTA) for PoseTrack21; ``--version`` picks one, or the
ground truth does (PoseTrack21 files carry ``person_id``).

Arguments and rendering only; the metric lives in
:mod:`ftppose_cli.evaluation.scoring`. Two modes: scoring existing files
(``--gt`` + ``--pred``), and running the pipeline over a PoseTrack split first
(``--data`` + ``--split``, :mod:`ftppose_cli.pipeline.split`), which under
``torchrun --nproc_per_node N`` shares the sequences between the processes
and scores on rank 0.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ftppose_cli.atomic import atomic_write_text, check_folder, check_writable
from ftppose_cli.cli.help import renamed
from ftppose_cli.cli.options import detector_sizes, number_in
from ftppose_cli.cli.progress import say
from ftppose_cli.distributed import Ranks
from ftppose_cli.errors import FtpposeError, UsageError

if TYPE_CHECKING:  # the pipeline is imported in run mode only: scoring files needs no torch
    from ftppose_cli.pipeline.annotator import AnnotateOptions

GROUPS = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Total")
SHORT_NAMES = dict(zip(GROUPS, ("Head", "Shou", "Elb", "Wri", "Hip", "Knee", "Ankl", "Total")))  # poseval's


class PoseTrackVersion(str, Enum):
    v2017 = "2017"
    v2018 = "2018"
    v21 = "21"


def eval_command(
    gt: Annotated[Path | None, typer.Option("--gt", help="Folder of ground-truth PoseTrack JSON files, one per "
                                               "sequence.", rich_help_panel="Scoring", show_default=False)] = None,
    pred: Annotated[Path | None, typer.Option("--pred", help="Folder of predictions with the same file names "
                                                 "(2017 or 2018 layout).", rich_help_panel="Scoring",
                                                 show_default=False)] = None,
    version: Annotated[PoseTrackVersion | None, typer.Option(
        "--version", help="Scoring rules: 2017 / 2018 (poseval: AP, MOTA) or 21 (PoseTrack21 kit: mAP, keypoint "
        "HOTA).", rich_help_panel="Scoring",
        show_default="from the ground truth: 21 when it has person_id, else its layout")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="PoseTrack root (annotations/<split>/*.json and "
                                                 "the images they list): predict, then score.",
                                                 rich_help_panel="Run mode", show_default=False)] = None,
    split: Annotated[str, typer.Option(help="Split folder under annotations/.", rich_help_panel="Run mode")] = "val",
    boxes: Annotated[str, typer.Option(help="People from: detector (built-in), gt (ground-truth boxes), or a "
                                       "detections JSON (COCO results with PoseTrack image ids).",
                                       rich_help_panel="Run mode")] = "detector",
    weights: Annotated[Path | None, typer.Option(help="Pose checkpoint (.safetensors with its .json).",
                                                    rich_help_panel="Run mode", show_default="weights/pose")] = None,
    pruning_ratio: Annotated[float, typer.Option("--pruning-ratio", "-e", parser=number_in(0, 0.99),
                                                 help="Pruning ratio epsilon, 0 to 0.99.",
                                                 rich_help_panel="Run mode")] = 0.5,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel="Run mode")] = "auto",
    detector: Annotated[Path | None, typer.Option(help="Person detector checkpoint for --boxes detector.",
                                                     rich_help_panel="Run mode",
                                                     show_default="weights/detector")] = None,
    det_thr: Annotated[float | None, typer.Option(parser=number_in(0, 1), help="Minimum person-box score, 0 to 1.",
                                                     rich_help_panel="Run mode",
                                                     show_default="the detector's own; 0 with a detections JSON")
                       ] = None,
    det_size: Annotated[str | None, typer.Option(callback=detector_sizes, metavar="PIXELS[,PIXELS...]",
                                                 help="Detector input: the frame's longer side in pixels, or "
                                                 "several sizes whose boxes are merged (416,256).",
                                                 rich_help_panel="Run mode", show_default="the detector's own")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where run mode writes one prediction file "
                                             "per sequence (under <split>/).",
                                             rich_help_panel="Run mode")] = Path("ftppose_eval"),
    out_old: Annotated[Path | None, typer.Option("--out", hidden=True)] = None,
    per_sequence: Annotated[bool, typer.Option("--per-sequence", help="Also print AP and MOTA of every sequence.",
                                               rich_help_panel="Output")] = False,
    json_path: Annotated[Path | None, typer.Option("--report-json", help="Write every number (per joint, per "
                                                      "sequence) to this JSON file.", rich_help_panel="Output",
                                                      show_default=False)] = None,
    json_old: Annotated[Path | None, typer.Option("--json", hidden=True)] = None,
) -> None:
    """Score PoseTrack predictions: poseval's AP and MOTA, or the PoseTrack21 kit's mAP and HOTA, to the digit."""
    from ftppose_cli.evaluation.scoring import evaluate_folders

    json_path = renamed(json_path, json_old, name="--report-json", old_name="--json")
    ranks = Ranks.from_env()  # under torchrun, run mode shares the sequences between the processes
    output_dir = out_old if out_old is not None else output_dir  # --out: the old name of --output-dir
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if data is None and (gt is None or pred is None):
        raise UsageError(None, "give --gt and --pred to score files, or --data to run on a PoseTrack split")
    chosen = None if version is None else version.value
    if json_path is not None:  # checked before the work, not found after it
        check_writable(json_path, overwrite=True)
    if data is not None:
        from ftppose_cli.pipeline.annotator import AnnotateOptions

        options = AnnotateOptions(
            output_dir=output_dir / split, weights=weights, pruning_ratio=pruning_ratio, device=ranks.device(device),
            use_detector=boxes == "detector", detector=detector, min_box_score=det_thr, detector_input_sizes=det_size,
            write_video=False, overwrite=True)
        result = _run_split(data, split, boxes, options, chosen, err, ranks)
        ranks.close()
        if result is None:
            return
    else:
        result = evaluate_folders(gt, pred, chosen)
    if result.frames_scored == 0:  # AP and MOTA of nothing would print as a row of zeros
        raise FtpposeError(gt or data, "no frame of the ground truth is labelled with people, so nothing was "
                                       "scored (a split without annotations?)")
    out = Console(highlight=False)
    out.print(_ap_table(result.ap.groups))
    if result.mot is not None:
        out.print(_mot_table(result.mot.mota_groups, result.mot.totals))
    if result.hota is not None:
        out.print(_hota_table(result.hota))
    if per_sequence:
        out.print(_sequence_table(result.sequences))
    rules = "PoseTrack21 kit" if result.hota is not None else f"poseval {result.version}"
    picked = "" if version is not None else " (detected)"
    out.print(f"sequences scored: {len(result.sequences)}, frames scored: {result.frames_scored}, "
              f"rules: {rules}{picked}")
    if result.mot is not None:
        out.print(f"MOT from the {sum(s.mot is not None for s in result.sequences)} sequences with two or more "
                  f"labelled frames")
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=True)
        out.print(f"wrote {escape(str(json_path))}")


def _run_split(data: Path, split: str, boxes: str, options: AnnotateOptions, version: str | None, err: Console,
               ranks: Ranks):
    """Predict every sequence of a PoseTrack split into ``options.output_dir``, then score (rank 0)."""
    from ftppose_cli.pipeline.builder import build_annotator
    from ftppose_cli.pipeline.split import predict_split

    out = options.output_dir
    check_folder(out)
    annotator = build_annotator(options)
    with err.status(f"predicting {data / split} ...") if not ranks.distributed else nullcontext():
        run = predict_split(data, split, annotator, out, boxes=boxes, version=version, ranks=ranks)
    if run.result is None:  # another rank than 0: rank 0 reports for all
        return None
    for report in run.reports:
        for warning in report.warnings:
            say(err, "warning", f"{report.video}: {warning}")
    err.print(f"predictions: {escape(str(out))} ({len(run.reports)} sequences, "
              f"{sum(r.frames for r in run.reports)} frames)")
    return run.result


def _cell(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1f}"


def _table(title: str) -> Table:
    """Light borders and collapsed padding: poseval's eleven-column MOT row fits 80 columns."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)


def _ap_table(groups: dict[str, float]) -> Table:
    table = _table("Average Precision (AP)")
    for name in GROUPS:
        table.add_column(name, justify="right")
    table.add_row(*(_cell(groups[name]) for name in GROUPS))
    return table


def _mot_table(mota_groups: dict[str, float], totals: dict[str, float]) -> Table:
    """poseval's MOT printout: MOTA per group, then MOTA / MOTP / precision / recall totals."""
    table = _table("Multiple Object Tracking (MOT)")
    for name in GROUPS:
        table.add_column(f"MOTA\n{SHORT_NAMES[name]}", justify="right")
    for name in ("MOTP", "Prec", "Rec"):
        table.add_column(f"{name}\nTotal", justify="right")
    table.add_row(*(_cell(mota_groups[name]) for name in GROUPS),
                  *(_cell(totals[key]) for key in ("motp", "precision", "recall")))
    return table


def _hota_table(hota) -> Table:
    """The PoseTrack21 kit's keypoint tracking figures, one row each, joint groups as columns."""
    table = _table("Keypoint tracking (HOTA)")
    table.add_column("")
    for name in GROUPS:
        table.add_column(name, justify="right")
    for field in ("HOTA", "DetA", "AssA", "LocA"):
        groups = hota.groups(field)
        table.add_row(field, *(_cell(groups[name]) for name in GROUPS))
    return table


def _sequence_table(sequences: tuple) -> Table:
    table = _table("Per sequence")
    posetrack21 = any(sequence.hota is not None for sequence in sequences)
    columns = (("HOTA Total", "DetA", "AssA") if posetrack21 else ("MOTA Total", "Prec", "Rec"))
    for name, justify in (("Sequence", "left"), ("Frames", "right"), ("AP Total", "right"),
                          *((column, "right") for column in columns)):
        table.add_column(name, justify=justify)
    for sequence in sequences:
        if sequence.hota is not None:
            values = [sequence.hota.totals[field] for field in ("HOTA", "DetA", "AssA")]
        else:
            totals = sequence.mot.totals if sequence.mot is not None else {}
            values = [totals.get(key) for key in ("mota", "precision", "recall")]
        table.add_row(sequence.name, str(sequence.frames_scored), _cell(sequence.ap.total), *map(_cell, values))
    return table


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
