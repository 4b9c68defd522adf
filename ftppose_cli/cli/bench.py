"""`ftppose bench`: speed, FLOPs, memory and held-out accuracy across pruning ratios.

Arguments and rendering only; the measuring is
:func:`ftppose_cli.benchmarking.runner.run_benchmark`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ftppose_cli.cli.help import renamed
from ftppose_cli.cli.options import pruning_ratios
from ftppose_cli.errors import FtpposeError
from ftppose_cli.weights import POSE

if TYPE_CHECKING:  # the library is imported lazily so `ftppose --help` stays fast
    from ftppose_cli.benchmarking.runner import BenchmarkResult

_MODEL = "Model"
_RUN = "Measurement"
_HARDWARE = "Hardware"
_INPUT = "Input"
_OUTPUT = "Output"


def _parse_backends(text: str) -> tuple[str, ...]:
    backends = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [b for b in backends if b not in ("torch", "onnx")]
    if not backends or unknown:
        raise FtpposeError(None, f"--backend must be torch, onnx or both (comma separated), got {text!r}")
    return backends


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_table(result: BenchmarkResult) -> Table:
    """The per-ratio table: cost, latency, speed-ups and (with --data) accuracy."""
    has_accuracy = any(row.accuracy is not None for row in result.rows)
    table = Table(title=f"FTP-Pose {result.model.get('size')} K={result.window}, batch {result.batch_size}, "
                        f"{result.device} {result.dtype}, {result.threads} threads, {result.repeats} repeats (median)")
    for name in ("ratio", "tokens/frame", "GFLOPs/clip", "ms/clip", "p90 ms", "clips/s", "peak MB",
                 "x ratio 0", "ms/window (video)", "x ratio 0 (video)", "x K=1 (video)"):
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
                      f"{row.peak_memory_mb:.0f}", f"{row.speedup_vs_ratio0:.2f}",
                      f"{row.video_latency.median_ms:.1f}", f"{row.video_speedup_vs_ratio0:.2f}",
                      f"{row.speedup_vs_single_frame:.2f}", *accuracy_cells(row.accuracy))
    single = result.single_frame
    table.add_row("K=1", "-", f"{single.gflops:.2f}", f"{single.latency.median_ms:.1f}",
                  f"{single.latency.p90_ms:.1f}", f"{1000.0 * result.batch_size / single.latency.median_ms:.2f}",
                  "-", "-", f"{single.latency.median_ms:.1f}", "-", "1.00", *accuracy_cells(single.accuracy),
                  style="dim")
    if result.average_pose is not None:
        table.add_row("avg pose", *["-"] * 10, *accuracy_cells(result.average_pose), style="dim")
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
    """End-to-end annotate: fps and ms per frame of each pipeline stage, per backend and ratio."""
    stages = list(rows[0].stage_ms_per_frame)
    backends = len({row.backend for row in rows}) > 1
    table = Table(title=f"annotate {video.name} end to end ({rows[0].frames} frames, "
                        f"{rows[0].person_frames} person-frames)")
    for name in (*(("backend",) if backends else ()), "ratio", "fps", "x ratio 0", *(("x torch",) if backends else ()),
                 *[f"{s} ms" for s in stages]):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(*((row.backend,) if backends else ()), f"{row.ratio:g}", f"{row.fps_median:.2f}",
                      f"{row.speedup_vs_ratio0:.2f}", *((f"{row.speedup_vs_torch:.2f}",) if backends else ()),
                      *[f"{row.stage_ms_per_frame[s]:.1f}" for s in stages])
    return table


def render_backends(rows, threads: int) -> Table:
    """The pose model on each backend: video-mode and clip latency, speed-ups, agreement with PyTorch."""
    table = Table(title=f"Backends: the pose model, batch {rows[0].batch}, {threads} threads (median; video mode: "
                        "one new frame per window)")
    for name in ("backend", "ratio", "ms/batch (video)", "p90", "windows/s", "x torch", "x ratio 0 (video)",
                 "ms/batch (clip)", "keypoints vs torch, % of box"):
        table.add_column(name, justify="right")
    for row in rows:
        agreement = "-" if row.agreement is None else f"{100 * row.agreement.max_box_fraction:.2g}"
        table.add_row(row.backend, f"{row.ratio:g}", f"{row.video.median_ms:.1f}", f"{row.video.p90_ms:.1f}",
                      f"{row.windows_per_s:.1f}", f"{row.speedup_vs_torch:.2f}", f"{row.video_speedup_vs_ratio0:.2f}",
                      f"{row.clip.median_ms:.1f}", agreement)
    return table


def bench_command(
    weights: Annotated[Path | None, typer.Option(help="Pose checkpoint (.safetensors with its .json).",
                                                    rich_help_panel=_MODEL, show_default="weights/pose")] = None,
    size: Annotated[str | None, typer.Option(help=f"Benchmark random weights of this size instead: "
                                                f"{POSE.size_choices}.", rich_help_panel=_MODEL)] = None,
    window: Annotated[int | None, typer.Option(help="Frames per window K.", rich_help_panel=_MODEL,
                                                  show_default="the checkpoint's; 3 with --size")] = None,
    ratios: Annotated[str, typer.Option(callback=pruning_ratios, help="Pruning ratios, comma separated (0 is "
                                        "always measured, as the reference).",
                                        rich_help_panel=_RUN)] = "0,0.25,0.5,0.75,0.9",
    batch_size: Annotated[int, typer.Option(help="Windows (people) per forward pass.", rich_help_panel=_RUN)] = 1,
    warmup: Annotated[int, typer.Option(help="Untimed runs before timing.", rich_help_panel=_RUN)] = 3,
    repeats: Annotated[int, typer.Option(help="Timed runs; the median is reported.", rich_help_panel=_RUN)] = 10,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda[:N].", rich_help_panel=_HARDWARE)] = "auto",
    half: Annotated[bool, typer.Option("--half", help="float16 on a GPU, bfloat16 on a CPU.",
                                       rich_help_panel=_HARDWARE)] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model's forward (clip latency).",
                                          rich_help_panel=_HARDWARE)] = False,
    threads: Annotated[int | None, typer.Option(help="CPU threads (torch's and ONNX Runtime's); 1 is often "
                                                   "faster on a loaded machine.", rich_help_panel=_HARDWARE,
                                                   show_default="the backends'")] = None,
    backend: Annotated[str, typer.Option(help="Backends to compare, comma separated: torch, onnx (ONNX Runtime "
                                         "on the CPU; pip install -e \".\\[onnx]\"). With onnx, a table compares "
                                         "them (PyTorch the reference), and --video runs annotate on each.",
                                         rich_help_panel=_HARDWARE)] = "torch",
    data: Annotated[Path | None, typer.Option(help="Folder of COCO / PoseTrack18 keypoint JSON with their "
                                                 "images: adds held-out PCK per ratio.",
                                                 rich_help_panel=_INPUT)] = None,
    video: Annotated[Path | None, typer.Option(help="Also time the whole annotate pipeline on this video at "
                                                  "each ratio (fps, ms per stage).", rich_help_panel=_INPUT)] = None,
    flip_test: Annotated[bool, typer.Option("--flip-test", help="Average with the mirrored crop when scoring "
                                            "--data.", rich_help_panel=_INPUT)] = False,
    csv: Annotated[Path | None, typer.Option(help="Write one row per ratio and reference to this CSV.",
                                                rich_help_panel=_OUTPUT)] = None,
    report_json: Annotated[Path | None, typer.Option("--report-json", help="Write the full result (every "
                                                        "sample) to this JSON.", rich_help_panel=_OUTPUT)] = None,
    json_old: Annotated[Path | None, typer.Option("--json", hidden=True)] = None,
    plot: Annotated[Path | None, typer.Option(help="Write speed-up and accuracy against ratio to this PNG.",
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
        weights=weights, size=size, ratios=ratios, device=device, batch_size=batch_size,
        half=half, window=window, compile=compile, warmup=warmup, repeats=repeats, data=data,
        flip_test=flip_test, threads=threads,
    )
    backends = tuple(dict.fromkeys(("torch", *_parse_backends(backend))))  # PyTorch is the reference
    if threads is not None:  # every part of the run, the end-to-end one too, at the same thread count
        import torch

        torch.set_num_threads(threads)
    with errors.status("benchmarking..."):
        result = run_benchmark(options)
    backend_rows = None
    if backends != ("torch",):
        from ftppose_cli.benchmarking.backends import benchmark_backends

        with errors.status(f"comparing {', '.join(backends)}..."):
            backend_rows = benchmark_backends(options, backends, sample=video)
    if video is not None:
        from ftppose_cli.benchmarking.video import benchmark_video

        with errors.status(f"annotating {video} at each ratio..."):
            rows = benchmark_video(video, options.ratios, weights=weights, device=device,
                                   repeats=max(1, min(repeats, 3)), half=half, backends=backends, threads=threads)
        result = replace(result, video=rows)
    if backend_rows is not None:
        result = replace(result, backends=backend_rows)
    console.print(render_table(result))
    console.print(render_stages(result))
    if result.backends:
        console.print(render_backends(result.backends, result.threads))
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
