"""`ftppose bench`: speed, FLOPs, memory and held-out accuracy across pruning ratios.

Arguments and rendering only; the measuring is
:func:`ftppose_cli.benchmarking.runner.run_benchmark`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ftppose_cli.cli.help import renamed
from ftppose_cli.errors import FtpposeError
from ftppose_cli.weights import POSE

if TYPE_CHECKING:  # the library is imported lazily so `ftppose --help` stays fast
    from ftppose_cli.benchmarking.runner import BenchmarkResult

_MODEL = "Model"
_RUN = "Measurement"
_HARDWARE = "Hardware"
_INPUT = "Input"
_OUTPUT = "Output"


def _parse_ratios(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise FtpposeError(None, f"--ratios must be comma-separated numbers, got {text!r}") from None


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_table(result: BenchmarkResult) -> Table:
    """The per-ratio table: cost, latency, speed-ups and (with --data) accuracy."""
    has_accuracy = any(row.accuracy is not None for row in result.rows)
    table = Table(title=f"FTP-Pose {result.model.get('size')} K={result.window}, batch {result.batch_size}, "
                        f"{result.device} {result.dtype}, {result.threads} threads, {result.repeats} repeats (median)")
    for name in ("ratio", "tokens/frame", "GFLOPs/clip", "ms/clip", "p90 ms", "clips/s", "peak MB",
                 "x ratio 0", "x K=1 (video)"):
        table.add_column(name, justify="right")
    if has_accuracy:
        for name in ("PCK@0.05", "PCK@0.1", "PCK@0.2", "PCKh@0.5"):
            table.add_column(name, justify="right")

    def accuracy_cells(accuracy) -> list[str]:
        if not has_accuracy:
            return []
        if accuracy is None:
            return ["-"] * 4
        s = accuracy.overall
        return [_fmt(s.pck[0.05], ".3f"), _fmt(s.pck[0.1], ".3f"), _fmt(s.pck[0.2], ".3f"), _fmt(s.pckh, ".3f")]

    for row in result.rows:
        table.add_row(f"{row.ratio:g}", str(row.tokens_per_frame), f"{row.gflops_per_clip:.2f}",
                      f"{row.latency.median_ms:.1f}", f"{row.latency.p90_ms:.1f}", f"{row.clips_per_s:.2f}",
                      f"{row.peak_memory_mb:.0f}", f"{row.speedup_vs_ratio0:.2f}", f"{row.speedup_vs_single_frame:.2f}",
                      *accuracy_cells(row.accuracy))
    single = result.single_frame
    table.add_row("K=1", "-", f"{single.gflops:.2f}", f"{single.latency.median_ms:.1f}",
                  f"{single.latency.p90_ms:.1f}", f"{1000.0 * result.batch_size / single.latency.median_ms:.2f}",
                  "-", "-", "1.00", *accuracy_cells(single.accuracy), style="dim")
    if result.average_pose is not None:
        table.add_row("avg pose", *["-"] * 8, *accuracy_cells(result.average_pose), style="dim")
    return table


def render_stages(result: BenchmarkResult) -> Table:
    """Per-stage GFLOPs, time and share at each ratio (video mode: backbone once per window)."""
    stages = list(result.rows[0].stage_ms)
    table = Table(title="Per stage (video mode: backbone once per frame), ms and share of their sum")
    table.add_column("ratio", justify="right")
    for stage in stages:
        table.add_column(f"{stage} GFLOPs", justify="right")
        table.add_column(f"{stage} ms", justify="right")
    for row in result.rows:
        cells = []
        for stage in stages:
            cells += [f"{row.stage_gflops[stage]:.2f}", f"{row.stage_ms[stage]:.1f} ({row.stage_share[stage]:.0%})"]
        table.add_row(f"{row.ratio:g}", *cells)
    return table


def render_video(rows, video: Path) -> Table:
    """End-to-end annotate: fps and ms per frame of each pipeline stage, per ratio."""
    stages = list(rows[0].stage_ms_per_frame)
    table = Table(title=f"annotate {video.name} end to end ({rows[0].frames} frames, "
                        f"{rows[0].person_frames} person-frames)")
    for name in ("ratio", "fps", "x ratio 0", *[f"{s} ms" for s in stages]):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(f"{row.ratio:g}", f"{row.fps_median:.2f}", f"{row.speedup_vs_ratio0:.2f}",
                      *[f"{row.stage_ms_per_frame[s]:.1f}" for s in stages])
    return table


def bench_command(
    weights: Annotated[Optional[Path], typer.Option(help="Pose checkpoint (.safetensors with its .json).",
                                                    rich_help_panel=_MODEL, show_default="weights/pose")] = None,
    size: Annotated[Optional[str], typer.Option(help=f"Benchmark random weights of this size instead: "
                                                f"{POSE.size_choices}.", rich_help_panel=_MODEL)] = None,
    window: Annotated[Optional[int], typer.Option(help="Frames per window K.", rich_help_panel=_MODEL,
                                                  show_default="the checkpoint's; 3 with --size")] = None,
    ratios: Annotated[str, typer.Option(help="Pruning ratios, comma separated (0 is always measured, as the "
                                        "reference).", rich_help_panel=_RUN)] = "0,0.25,0.5,0.75,0.9",
    batch_size: Annotated[int, typer.Option(help="Windows (people) per forward pass.", rich_help_panel=_RUN)] = 1,
    warmup: Annotated[int, typer.Option(help="Untimed runs before timing.", rich_help_panel=_RUN)] = 3,
    repeats: Annotated[int, typer.Option(help="Timed runs; the median is reported.", rich_help_panel=_RUN)] = 10,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda[:N].", rich_help_panel=_HARDWARE)] = "auto",
    half: Annotated[bool, typer.Option("--half", help="float16 on a GPU, bfloat16 on a CPU.",
                                       rich_help_panel=_HARDWARE)] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model's forward (clip latency).",
                                          rich_help_panel=_HARDWARE)] = False,
    threads: Annotated[Optional[int], typer.Option(help="torch CPU threads; 1 is often faster on a loaded "
                                                   "machine.", rich_help_panel=_HARDWARE,
                                                   show_default="torch's")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Folder of COCO / PoseTrack18 keypoint JSON with their "
                                                 "images: adds held-out PCK per ratio.",
                                                 rich_help_panel=_INPUT)] = None,
    video: Annotated[Optional[Path], typer.Option(help="Also time the whole annotate pipeline on this video at "
                                                  "each ratio (fps, ms per stage).", rich_help_panel=_INPUT)] = None,
    flip_test: Annotated[bool, typer.Option("--flip-test", help="Average with the mirrored crop when scoring "
                                            "--data.", rich_help_panel=_INPUT)] = False,
    csv: Annotated[Optional[Path], typer.Option(help="Write one row per ratio and reference to this CSV.",
                                                rich_help_panel=_OUTPUT)] = None,
    report_json: Annotated[Optional[Path], typer.Option("--report-json", help="Write the full result (every "
                                                        "sample) to this JSON.", rich_help_panel=_OUTPUT)] = None,
    json_old: Annotated[Optional[Path], typer.Option("--json", hidden=True)] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write speed-up and accuracy against ratio to this PNG.",
                                                 rich_help_panel=_OUTPUT)] = None,
) -> None:
    """Measure speed-up, FLOPs, memory and held-out accuracy of FTP-Pose across pruning ratios."""
    from ftppose_cli.benchmarking.runner import BenchmarkOptions, run_benchmark

    report_json = renamed(report_json, json_old, name="--report-json", old_name="--json")
    console = Console()
    if not console.is_terminal:  # piped to a file: rich would wrap to 80 columns and truncate the numbers
        console = Console(width=200)
    errors = Console(stderr=True)
    options = BenchmarkOptions(
        weights=weights, size=size, ratios=_parse_ratios(ratios), device=device, batch_size=batch_size,
        half=half, window=window, compile=compile, warmup=warmup, repeats=repeats, data=data,
        flip_test=flip_test, threads=threads,
    )
    with errors.status("benchmarking..."):
        result = run_benchmark(options)
    if video is not None:
        from dataclasses import replace

        from ftppose_cli.benchmarking.video import benchmark_video

        with errors.status(f"annotating {video} at each ratio..."):
            rows = benchmark_video(video, options.ratios, weights=weights, device=device,
                                   repeats=max(1, min(repeats, 3)), half=half)
        result = replace(result, video=rows)
    console.print(render_table(result))
    console.print(render_stages(result))
    if result.video:
        console.print(render_video(result.video, video))
    written = _write_outputs(result, csv, report_json, plot)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _write_outputs(result: BenchmarkResult, csv: Path | None, json: Path | None, plot: Path | None) -> list[Path]:
    from ftppose_cli.benchmarking.report import write_csv, write_json

    written = []
    if csv is not None:
        written.append(write_csv(result, csv))
    if json is not None:
        written.append(write_json(result, json))
    if plot is not None:
        from ftppose_cli.benchmarking.plots import plot_benchmark

        written.append(plot_benchmark(result, plot))
    return written


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
