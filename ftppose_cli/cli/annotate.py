"""`ftppose annotate`: arguments, progress and the report; the work is in the library."""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from ftppose_cli.cli.options import number_in
from ftppose_cli.errors import FtpposeError

if TYPE_CHECKING:
    from ftppose_cli.pipeline.annotate import VideoAnnotator, VideoReport


class JsonFormat(str, Enum):
    posetrack18 = "posetrack18"
    posetrack17 = "posetrack17"


def annotate_command(
    videos: Annotated[list[str], typer.Argument(help="Video files, folders of videos, or glob patterns.",
                                                show_default=False)],
    boxes: Annotated[Optional[Path], typer.Option(help="Person boxes from a JSON file (COCO results or PoseTrack) "
                                                  "instead of the built-in detector.", rich_help_panel="Input")] = None,
    weights: Annotated[Optional[Path], typer.Option(help="Pose checkpoint (.safetensors with its .json). "
                                                    "[default: weights/pose]", rich_help_panel="Model")] = None,
    pruning_ratio: Annotated[float, typer.Option("--pruning-ratio", "-e", parser=number_in(0, 0.99),
                                                 help="Fraction of temporal tokens FTP-Pose drops (epsilon), "
                                                 "0 to 0.99.",
                                                 rich_help_panel="Model")] = 0.5,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel="Model")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Frames per batch; all their people go through the "
                                            "backbone together.", rich_help_panel="Model")] = 8,
    half: Annotated[bool, typer.Option("--half", help="Half precision (GPU only).", rich_help_panel="Model")] = False,
    flip_test: Annotated[bool, typer.Option("--flip-test", help="Average with the mirrored crop (2x backbone cost).",
                                            rich_help_panel="Model")] = False,
    threads: Annotated[Optional[int], typer.Option(min=1, help="torch CPU threads (default: torch's; 1 is often "
                                                   "faster on a loaded machine).", rich_help_panel="Model")] = None,
    detector: Annotated[Optional[Path], typer.Option(help="Person detector checkpoint. [default: weights/detector]",
                                                     rich_help_panel="Detection")] = None,
    det_thr: Annotated[Optional[float], typer.Option(parser=number_in(0, 1), help="Minimum person-box score, 0 to 1. "
                                                     "[default: the detector's own, or 0 for --boxes]",
                                                     rich_help_panel="Detection")] = None,
    det_size: Annotated[Optional[int], typer.Option(min=64, max=4096, help="Detector input: the frame's longer "
                                                    "side in pixels. Smaller suits close-ups of large people, "
                                                    "larger small people far away. [default: the detector's own]",
                                                    rich_help_panel="Detection")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where the overlay and JSON go.",
                                             rich_help_panel="Output")] = Path("ftppose_out"),
    json_format: Annotated[JsonFormat, typer.Option("--format", help="Layout of the pose JSON.",
                                                    rich_help_panel="Output")] = JsonFormat.posetrack18,
    no_video: Annotated[bool, typer.Option("--no-video", help="Write the JSON only.",
                                           rich_help_panel="Output")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.", rich_help_panel="Output")] = False,
    report_json: Annotated[Optional[Path], typer.Option("--report-json", help="Write the speed report as JSON.",
                                                        rich_help_panel="Output")] = None,
    kpt_thr: Annotated[float, typer.Option(parser=number_in(0, 1), help="Hide joints scored below this (0 to 1).",
                                           rich_help_panel="Display")] = 0.3,
    show_boxes: Annotated[bool, typer.Option("--show-boxes", help="Draw person boxes.",
                                             rich_help_panel="Display")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.",
                                        rich_help_panel="Display")] = False,
) -> None:
    """Annotate videos with poses: an overlay MP4 and a PoseTrack JSON per video."""
    from ftppose_cli.atomic import atomic_write_text, check_folder, check_writable
    from ftppose_cli.pipeline.annotate import AnnotateOptions, claim_outputs
    from ftppose_cli.pipeline.builder import build_annotator
    from ftppose_cli.runtime import expand_videos

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False, quiet=quiet)
    if not out.is_terminal:  # piped or logged: do not wrap the report to 80 columns
        out = Console(highlight=False, quiet=quiet, width=160)
    options = AnnotateOptions(
        output_dir=output_dir, write_video=not no_video, overwrite=overwrite, batch_size=batch_size,
        json_layout="2017" if json_format is JsonFormat.posetrack17 else "2018", kpt_thr=kpt_thr,
        show_boxes=show_boxes, min_box_score=det_thr or 0.0,
    )
    paths, input_errors = expand_videos(videos)
    try:  # every output is checked before the model loads and the first frame is decoded
        check_folder(output_dir)
        if report_json is not None:
            check_writable(report_json, overwrite=overwrite)
    except FtpposeError as error:
        input_errors.append(error)
        paths = []
    paths, output_errors = claim_outputs(paths, options)
    input_errors += output_errors
    for error in input_errors:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True)
    if not paths:
        raise typer.Exit(1)
    failures = len(input_errors)
    with _sigterm_as_interrupt() as stop:
        try:
            annotator = build_annotator(options, weights=weights, detector=detector, use_detector=boxes is None,
                                        device=device, pruning_ratio=pruning_ratio, half=half, flip_test=flip_test,
                                        det_thr=det_thr, det_size=det_size)
        except FtpposeError as error:
            err.print(f"[red]error:[/red] {error}", soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:  # while loading: nothing to keep
            raise typer.Exit(stop.exit_code) from None
        for warning in annotator.estimator.warnings:
            err.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
        reports, video_failures = _annotate_all(annotator, paths, boxes, stop, out, err, quiet)
        stop.armed = False  # the work is over: a SIGTERM now must not cut the report short
        failures += video_failures
        if reports:
            out.print(_report_table(reports))
        if report_json is not None:
            try:
                atomic_write_text(report_json, json.dumps([r.to_dict() for r in reports], indent=2) + "\n",
                                  overwrite=overwrite)
            except FtpposeError as error:
                err.print(f"[red]error:[/red] {error}", soft_wrap=True)
                failures += 1
    if stop.stopped:
        raise typer.Exit(stop.exit_code)
    if failures:
        raise typer.Exit(1)


def _annotate_all(annotator: VideoAnnotator, paths: list[Path], boxes: Path | None, stop: _Stop, out: Console,
                  err: Console, quiet: bool) -> tuple[list[VideoReport], int]:
    """Annotate each video in turn: its report, or one error line; stop after an interrupted one."""
    from ftppose_cli.pipeline.builder import build_person_source

    reports: list[VideoReport] = []
    failures = 0
    for path in paths:
        try:
            people = build_person_source(boxes, path) if boxes else None
            with _progress(out, path.name) as (progress, task):
                def update(done: int, total: int | None, people_now: int) -> None:
                    progress.update(task, completed=done, total=total, people=people_now)

                report = annotator.annotate(path, people=people, progress=None if quiet else update)
        except FtpposeError as error:
            failures += 1
            err.print(f"[red]error:[/red] {error}", soft_wrap=True)
            continue
        except KeyboardInterrupt:  # before its first frame: nothing of this video to keep
            stop.stopped = True
            err.print(f"[yellow]interrupted:[/yellow] {path}: {stop.cause}before its first frame", soft_wrap=True)
            break
        reports.append(report)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {path}: {warning}", soft_wrap=True)
        if report.interrupted:
            stop.stopped = True
            err.print(f"[yellow]interrupted:[/yellow] {path}: {stop.cause}kept the {report.frames} frames done",
                      soft_wrap=True)
            break
    return reports, failures


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so the pipeline keeps the frames done alike."""


@dataclass
class _Stop:
    """Whether the run was stopped by a signal, and which (``terminated``: SIGTERM, else Ctrl-C).

    ``armed``: a SIGTERM now interrupts the work; once disarmed it is only noted.
    """

    stopped: bool = False
    terminated: bool = False
    armed: bool = True

    @property
    def exit_code(self) -> int:
        return 128 + (signal.SIGTERM if self.terminated else signal.SIGINT)

    @property
    def cause(self) -> str:
        return "stopped by SIGTERM; " if self.terminated else ""


@contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM like Ctrl-C while videos are annotated.

    ``timeout``, containers, job schedulers and CI stop a job with SIGTERM,
    whose default action kills the process on the spot: the overlay was left
    as a stray ``.partial`` and no JSON was written. Raised as an interruption
    instead, it ends the run the way Ctrl-C does: a playable video and a JSON
    flagged ``interrupted`` of the frames done, and exit code 143. Only the
    first SIGTERM interrupts; later ones, and any once the work is over, are
    noted while the outputs are finished (SIGKILL still stops at once).
    """
    stop = _Stop()

    def terminate(signum: int, frame: object) -> None:
        stop.terminated = True
        if stop.armed:
            stop.armed = False
            raise _Terminated

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


class _FpsColumn(ProgressColumn):
    """Frames per second, from rich's own speed estimate."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:5.1f} fps" if task.speed else "")


@contextmanager
def _progress(console: Console, name: str):
    """A per-video progress bar (frames, fps, ETA, people); silent when the console is quiet."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _FpsColumn(),
                  TextColumn("people {task.fields[people]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=console.quiet) as progress:
        yield progress, progress.add_task(name, total=None, people=0)


def _report_table(reports) -> Table:
    from ftppose_cli.pipeline.annotate import STAGES

    table = Table(title="ftppose annotate: speed report", title_justify="left")
    for column in ("video", "frames", "people", "tracks", *[f"{s} ms" for s in STAGES], "fps"):
        table.add_column(column, justify="left" if column == "video" else "right")
    for r in reports:
        ms = r.stage_ms_per_frame()
        table.add_row(r.video.name + (" (interrupted)" if r.interrupted else ""), str(r.frames), str(r.person_frames),
                      str(r.tracks), *[f"{ms[s]:.1f}" for s in STAGES], f"{r.fps:.1f}")
    table.caption = "ms per frame for each stage; fps end to end (decode runs on its own thread, overlapping)"
    return table


def register(app: typer.Typer) -> None:
    app.command("annotate")(annotate_command)
