"""`ftppose annotate`: arguments, inputs and the report; the work is in the library.

The inputs and the frame range are checked before torch (or numpy) is
imported, so a mistyped file name is reported at once, not after the many
seconds importing torch can take; the library comes in only once there is
work to do. The output folder and ``--report-json`` are checked there too;
every input's own outputs (free, writable, not shared with another input of
the same name) once the library is in, still before the model loads.

SIGTERM stops a run the way Ctrl-C does (exit code 143 rather than 130):
the input under way keeps a playable overlay and a JSON of the frames done.

Under ``torchrun --nproc_per_node N`` each process annotates its share of
the inputs on its own device and prints a line per input as it finishes;
rank 0 prints the merged speed report and writes ``--report-json``
(:mod:`ftppose_cli.distributed`).
"""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ftppose_cli.cli.options import detector_sizes, number_in
from ftppose_cli.cli.progress import report_table, saved_line, say, summary_line, video_progress
from ftppose_cli.distributed import Ranks, shard
from ftppose_cli.errors import FtpposeError
from ftppose_cli.inputs import AnnotateInput, expand_inputs
from ftppose_cli.video.frame_range import FramePosition, FrameRange, parse_position


class Palette(str, Enum):  # ftppose_cli.drawing.Palette's values; that module imports cv2 and supervision
    track = "track"
    coco = "coco"

if TYPE_CHECKING:
    from ftppose_cli.pipeline.annotator import VideoAnnotator, VideoReport


class Backend(str, Enum):  # ftppose_cli.pipeline.builder.BACKENDS; that module imports torch
    torch = "torch"
    onnx = "onnx"


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
    start: Annotated[FramePosition | None, typer.Option(
        parser=_position, metavar="<frame|time>", help="Start at this frame number (150) or time (12.5s, 1:02.5), "
        "included.", rich_help_panel="Input", show_default="the first frame")] = None,
    end: Annotated[FramePosition | None, typer.Option(
        parser=_position, metavar="<frame|time>", help="Stop before this frame number or time.",
        rich_help_panel="Input", show_default="the last frame")] = None,
    stride: Annotated[int, typer.Option(min=1, help="Annotate every n-th frame from the start.",
                                        rich_help_panel="Input")] = 1,
    stills: Annotated[bool, typer.Option("--stills", help="Annotate a folder's images one by one, not as one "
                                         "tracked sequence.", rich_help_panel="Input")] = False,
    boxes: Annotated[Path | None, typer.Option(
        help="Person boxes from a JSON file instead of the built-in detector: COCO results, a list of "
        "{image_id, bbox: x y width height in pixels, score, category_id: 1} with image_id the frame number "
        "from 0 (or a PoseTrack image id), or a PoseTrack file with boxes; for several inputs, a folder of "
        "<input name>.json files.", rich_help_panel="Input", show_default="the built-in detector")] = None,
    weights: Annotated[Path | None, typer.Option(help="Pose checkpoint (.safetensors with its .json); with "
                                                    "--backend onnx also a folder `ftppose export` wrote.",
                                                    rich_help_panel="Model", show_default="weights/pose")] = None,
    backend: Annotated[Backend, typer.Option(help="torch: PyTorch, on --device. onnx: ONNX Runtime on the CPU "
                                             "(pip install -e \".\\[onnx]\"); a checkpoint is exported on first use "
                                             "and kept in the cache folder.", rich_help_panel="Model")] = Backend.torch,
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
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads (torch's, and ONNX Runtime's with "
                                                   "--backend onnx); 1 is often faster on a loaded machine.",
                                                   rich_help_panel="Model", show_default="the backend's")] = None,
    detector: Annotated[Path | None, typer.Option(help="Person detector checkpoint (or, with --backend onnx, "
                                                     "a detector.onnx).", rich_help_panel="Detection",
                                                     show_default="weights/detector")] = None,
    det_thr: Annotated[float | None, typer.Option(parser=number_in(0, 1), help="Minimum person-box score, 0 to 1.",
                                                     rich_help_panel="Detection",
                                                     show_default="the detector's own; 0 with --boxes")] = None,
    det_size: Annotated[str | None, typer.Option(callback=detector_sizes, metavar="PIXELS[,PIXELS...]",
                                                 help="Detector input: the frame's longer side in pixels, or "
                                                 "several sizes whose boxes are merged (416,256). Smaller "
                                                 "suits close-ups of large people, larger small people far "
                                                 "away.", rich_help_panel="Detection",
                                                 show_default="the detector's own")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where the overlay and JSON go.",
                                             rich_help_panel="Output")] = Path("ftppose_out"),
    json_format: Annotated[JsonFormat, typer.Option("--format", help="Layout of the pose JSON.",
                                                    rich_help_panel="Output")] = JsonFormat.posetrack18,
    no_video: Annotated[bool, typer.Option("--no-video", help="Write the JSON only.",
                                           rich_help_panel="Output")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.", rich_help_panel="Output")] = False,
    report_json: Annotated[Path | None, typer.Option("--report-json", help="Write the speed report as JSON.",
                                                        rich_help_panel="Output", show_default=False)] = None,
    kpt_thr: Annotated[float, typer.Option(parser=number_in(0, 1), help="Hide joints scored below this (0 to 1).",
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
    from ftppose_cli.atomic import check_folder, check_writable  # light: os and tempfile

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
    try:  # the output folder and the report are checked before any work (every rank: all see the same files)
        check_folder(output_dir)
        if report_json is not None:
            check_writable(report_json, overwrite=overwrite)
    except FtpposeError as error:
        input_errors.append(error)
        items = []
    for error in input_errors if ranks.main else ():
        say(err, "error", error)
    if not items:
        raise typer.Exit(1)

    from ftppose_cli.atomic import atomic_write_text
    from ftppose_cli.pipeline.annotator import STAGES, AnnotateOptions  # torch from here on
    from ftppose_cli.pipeline.builder import build_annotator
    from ftppose_cli.pipeline.outputs import claim_outputs

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    options = AnnotateOptions(
        output_dir=output_dir, weights=weights, pruning_ratio=pruning_ratio, half=half, flip_test=flip_test,
        device=device if backend is Backend.onnx else ranks.device(device), backend=backend.value, threads=threads,
        use_detector=boxes is None, detector=detector, min_box_score=det_thr,
        detector_input_sizes=det_size, write_video=not no_video, overwrite=overwrite, batch_size=batch_size,
        json_layout="2017" if json_format is JsonFormat.posetrack17 else "2018", kpt_thr=kpt_thr,
        show_boxes=show_boxes, selection=selection, palette=palette.value,
    )
    # Every input's outputs are checked before the model loads and the first frame is decoded. Same-name inputs
    # are refused by name alone, the same on every rank; each rank then checks the files of its own share.
    items, name_errors = claim_outputs(items, options, check_files=False)
    for error in name_errors if ranks.main else ():
        say(err, "error", error)
    if not items:
        raise typer.Exit(1)
    mine, file_errors = claim_outputs(shard(items, [item.size_bytes for item in items], ranks), options)
    for error in file_errors:
        say(err, "error", error)
    if not mine and not ranks.distributed:
        raise typer.Exit(1)
    reports, failures, stopped = [], len(file_errors), 0
    with _sigterm_as_interrupt() as stop:
        if mine:  # under torchrun a rank may have nothing to do; it still joins the gather below
            try:
                annotator = build_annotator(options,
                                            on_export=lambda line: err.print(line, markup=False, soft_wrap=True))
            except FtpposeError as error:
                say(err, "error", error)
                failures += 1
            except KeyboardInterrupt:  # while loading: nothing to keep
                raise typer.Exit(stop.exit_code) from None
            else:
                for warning in annotator.estimator.warnings:
                    say(err, "warning", warning)
                reports, video_failures = _annotate_all(annotator, mine, boxes, stop, out, err,
                                                        progress=not quiet and not ranks.distributed,
                                                        prefix=f"rank {ranks.rank}: " if ranks.distributed else "")
                failures += video_failures
        stop.armed = False  # the work is over: a SIGTERM now must not cut the report short
        stopped = stop.exit_code if stop.stopped else 0
        gathered = ranks.gather((reports, failures, stopped))
        ranks.close()
        if gathered is None:  # another rank than 0: rank 0 reports for all
            return
        reports = [report for share, _, _ in gathered for report in share]
        failures = len(input_errors) + len(name_errors) + sum(share_failures for _, share_failures, _ in gathered)
        stopped = next((code for _, _, code in gathered if code), 0)
        if reports:
            out.print(report_table(reports, STAGES))
        if report_json is not None:
            try:
                atomic_write_text(report_json, json.dumps([r.to_dict() for r in reports], indent=2) + "\n",
                                  overwrite=overwrite)
            except FtpposeError as error:
                say(err, "error", error)
                failures += 1
    if stopped:
        raise typer.Exit(stopped)
    if failures:
        raise typer.Exit(1)


def _annotate_all(annotator: VideoAnnotator, items: list[AnnotateInput], boxes: Path | None, stop: _Stop,
                  out: Console, err: Console, *, progress: bool, prefix: str = "") -> tuple[list[VideoReport], int]:
    """Annotate each input in turn: its two lines, or one error line; stop after an interrupted one.

    Returns the reports and how many inputs failed; ``stop`` says whether a signal ended the run.
    """
    from ftppose_cli.pipeline.builder import build_person_source

    reports: list[VideoReport] = []
    failures = 0
    for item in items:
        path = item.path
        try:
            people = build_person_source(boxes, path) if boxes else None
            with video_progress(out, path.name) if progress else nullcontext() as update:
                report = annotator.annotate(item, people=people, progress=update)
        except FtpposeError as error:
            failures += 1
            say(err, "error", error)
            continue
        except KeyboardInterrupt:  # before its first frame: nothing of this input to keep
            stop.stopped = True
            say(err, "interrupted", f"{path}: {stop.cause}before its first frame")
            break
        reports.append(report)
        for warning in report.warnings:
            say(err, "warning", f"{path}: {warning}")
        out.print(prefix + summary_line(report), markup=False, soft_wrap=True)
        out.print(prefix + saved_line(report), markup=False, soft_wrap=True)
        if report.interrupted:
            stop.stopped = True
            say(err, "interrupted", f"{path}: {stop.cause}kept the {report.frames} frames done")
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


def register(app: typer.Typer) -> None:
    app.command("annotate")(annotate_command)
