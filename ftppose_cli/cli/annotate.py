"""`ftppose annotate`: arguments, inputs and the report; the work is in the library.

The inputs and the frame range are checked before torch (or numpy) is
imported, so a mistyped file name is reported at once, not after the many
seconds importing torch can take; the library comes in only once there is
work to do.

Under ``torchrun --nproc_per_node N`` each process annotates its share of
the inputs on its own device and prints a line per input as it finishes;
rank 0 prints the merged speed report and writes ``--report-json``
(:mod:`ftppose_cli.distributed`).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ftppose_cli.cli.progress import report_table, saved_line, summary_line, video_progress
from ftppose_cli.distributed import Ranks, shard
from ftppose_cli.errors import FtpposeError
from ftppose_cli.inputs import AnnotateInput, expand_inputs
from ftppose_cli.video.frame_range import FramePosition, FrameRange, parse_position


class Palette(str, Enum):  # ftppose_cli.drawing.Palette's values; that module imports cv2 and supervision
    track = "track"
    coco = "coco"


class JsonFormat(str, Enum):
    posetrack18 = "posetrack18"
    posetrack17 = "posetrack17"


def _position(text: str) -> FramePosition:
    try:
        return parse_position(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def annotate_command(
    videos: Annotated[list[str], typer.Argument(
        help="Videos, JPEG/PNG images, folders (their videos; their images as one sequence) or glob patterns.",
        show_default=False, metavar="INPUTS...")],
    start: Annotated[Optional[FramePosition], typer.Option(
        parser=_position, metavar="<frame|time>", help="Start at this frame number (150) or time (12.5s, 1:02.5), "
        "included.", rich_help_panel="Input", show_default="the first frame")] = None,
    end: Annotated[Optional[FramePosition], typer.Option(
        parser=_position, metavar="<frame|time>", help="Stop before this frame number or time.",
        rich_help_panel="Input", show_default="the last frame")] = None,
    stride: Annotated[int, typer.Option(min=1, help="Annotate every n-th frame from the start.",
                                        rich_help_panel="Input")] = 1,
    stills: Annotated[bool, typer.Option("--stills", help="Annotate a folder's images one by one, not as one "
                                         "tracked sequence.", rich_help_panel="Input")] = False,
    boxes: Annotated[Optional[Path], typer.Option(
        help="Person boxes from a JSON file instead of the built-in detector: COCO results, a list of "
        "{image_id, bbox: x y width height in pixels, score, category_id: 1} with image_id the frame number "
        "from 0 (or a PoseTrack image id), or a PoseTrack file with boxes; for several inputs, a folder of "
        "<input name>.json files.", rich_help_panel="Input", show_default="the built-in detector")] = None,
    weights: Annotated[Optional[Path], typer.Option(help="Pose checkpoint (.safetensors with its .json).",
                                                    rich_help_panel="Model", show_default="weights/pose")] = None,
    pruning_ratio: Annotated[float, typer.Option("--pruning-ratio", "-e", min=0.0, max=0.99,
                                                 help="Fraction of temporal tokens FTP-Pose drops (epsilon).",
                                                 rich_help_panel="Model")] = 0.5,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel="Model")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Frames per batch; all their people go through the "
                                            "backbone together.", rich_help_panel="Model")] = 8,
    half: Annotated[bool, typer.Option("--half", help="Half precision (GPU only).", rich_help_panel="Model")] = False,
    flip_test: Annotated[bool, typer.Option("--flip-test", help="Average with the mirrored crop (2x backbone cost).",
                                            rich_help_panel="Model")] = False,
    threads: Annotated[Optional[int], typer.Option(min=1, help="torch CPU threads; 1 is often faster on a loaded "
                                                   "machine.", rich_help_panel="Model", show_default="torch's")] = None,
    detector: Annotated[Optional[Path], typer.Option(help="Person detector checkpoint.", rich_help_panel="Detection",
                                                     show_default="weights/detector")] = None,
    det_thr: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="Minimum person-box score.",
                                                     rich_help_panel="Detection",
                                                     show_default="the detector's own; 0 with --boxes")] = None,
    det_size: Annotated[Optional[int], typer.Option(min=64, max=4096, help="Detector input: the frame's longer "
                                                    "side in pixels. Smaller suits close-ups of large people, "
                                                    "larger small people far away.", rich_help_panel="Detection",
                                                    show_default="the detector's own")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where the overlay and JSON go.",
                                             rich_help_panel="Output")] = Path("ftppose_out"),
    json_format: Annotated[JsonFormat, typer.Option("--format", help="Layout of the pose JSON.",
                                                    rich_help_panel="Output")] = JsonFormat.posetrack18,
    no_video: Annotated[bool, typer.Option("--no-video", help="Write the JSON only.",
                                           rich_help_panel="Output")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.", rich_help_panel="Output")] = False,
    report_json: Annotated[Optional[Path], typer.Option("--report-json", help="Write the speed report as JSON.",
                                                        rich_help_panel="Output", show_default=False)] = None,
    kpt_thr: Annotated[float, typer.Option(min=0.0, max=1.0, help="Hide joints scored below this.",
                                           rich_help_panel="Display")] = 0.3,
    show_boxes: Annotated[bool, typer.Option("--show-boxes", help="Draw person boxes.",
                                             rich_help_panel="Display")] = False,
    palette: Annotated[Palette, typer.Option(help="Limb colours: track (each person's colour, their right side "
                                             "a second shade) or coco (the classic left green, right orange).",
                                             rich_help_panel="Display")] = Palette.track,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.",
                                        rich_help_panel="Display")] = False,
) -> None:
    """Annotate videos and images with poses: an overlay (MP4, or an image per image) and a PoseTrack JSON each."""
    ranks = Ranks.from_env()
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False, quiet=quiet)
    if not out.is_terminal:  # piped or logged: do not wrap the report to 80 columns
        out = Console(highlight=False, quiet=quiet, width=160)
    try:
        selection = FrameRange(start, end, stride)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--start/--end/--stride") from None
    items, input_errors = expand_inputs(videos, stills=stills)
    for error in input_errors if ranks.main else ():
        err.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    if not items:
        raise typer.Exit(1)
    mine = shard(items, [item.size_bytes for item in items], ranks)

    from ftppose_cli.pipeline.annotate import STAGES, AnnotateOptions  # torch from here on
    from ftppose_cli.pipeline.builder import build_annotator

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    options = AnnotateOptions(
        output_dir=output_dir, write_video=not no_video, overwrite=overwrite, batch_size=batch_size,
        json_layout="2017" if json_format is JsonFormat.posetrack17 else "2018", kpt_thr=kpt_thr,
        show_boxes=show_boxes, min_box_score=det_thr or 0.0, selection=selection, palette=palette.value,
    )
    reports, failures, interrupted = [], 0, False
    if mine:  # under torchrun a rank may have nothing to do; it still joins the gather below
        try:
            annotator = build_annotator(options, weights=weights, detector=detector, use_detector=boxes is None,
                                        device=ranks.device(device), pruning_ratio=pruning_ratio, half=half,
                                        flip_test=flip_test, det_thr=det_thr, det_size=det_size)
        except FtpposeError as error:
            err.print(f"[red]error:[/red] {error}", soft_wrap=True)
            failures += 1
        else:
            reports, failures, interrupted = _annotate_all(annotator, mine, boxes, out, err,
                                                           progress=not quiet and not ranks.distributed,
                                                           prefix=f"rank {ranks.rank}: " if ranks.distributed else "")
    gathered = ranks.gather((reports, failures, interrupted))
    ranks.close()
    if gathered is None:  # another rank than 0: rank 0 reports for all
        return
    reports = [report for share, _, _ in gathered for report in share]
    failures = len(input_errors) + sum(share_failures for _, share_failures, _ in gathered)
    interrupted = any(share_interrupted for _, _, share_interrupted in gathered)
    if reports:
        out.print(report_table(reports, STAGES))
    if report_json is not None:
        report_json.write_text(json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
    if interrupted:
        raise typer.Exit(130)
    if failures:
        raise typer.Exit(1)


def _annotate_all(annotator, items: list[AnnotateInput], boxes: Path | None, out: Console, err: Console, *,
                  progress: bool, prefix: str = "") -> tuple[list, int, bool]:
    """Annotate each input in turn: its lines, or one error line. Returns (reports, failures, interrupted)."""
    from ftppose_cli.pipeline.builder import build_person_source

    reports, failures = [], 0
    for item in items:
        path = item.path
        try:
            people = build_person_source(boxes, path) if boxes else None
            with video_progress(out, path.name) if progress else nullcontext() as update:
                report = annotator.annotate(item, people=people, progress=update)
        except FtpposeError as error:
            failures += 1
            err.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
            continue
        reports.append(report)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {path}: {warning}", soft_wrap=True)
        out.print(prefix + summary_line(report), markup=False, soft_wrap=True)
        out.print(prefix + saved_line(report), markup=False, soft_wrap=True)
        if report.interrupted:
            err.print(f"[yellow]interrupted:[/yellow] {path}: kept the {report.frames} frames done", soft_wrap=True)
            return reports, failures, True
    return reports, failures, False


def register(app: typer.Typer) -> None:
    app.command("annotate")(annotate_command)
