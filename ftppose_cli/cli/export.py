"""`ftppose export`: the pose model's two halves and the person detector as ONNX, checked against PyTorch.

Arguments, the checks that need no torch (the output files), and rendering;
the export is :mod:`ftppose_cli.export`, the check
:func:`ftppose_cli.benchmarking.agreement.check_export`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ftppose_cli.cli.options import pruning_ratios
from ftppose_cli.cli.progress import say
from ftppose_cli.errors import FtpposeError

_MODEL = "Model"
_CHECK = "Check"
_OUTPUT = "Output"
TOLERANCE_CROP_PX = 0.5  # a keypoint moved by half an input pixel is a broken export, not rounding


def export_command(
    weights: Annotated[Path | None, typer.Option(help="Pose checkpoint (.safetensors with its .json).",
                                                    rich_help_panel=_MODEL, show_default="weights/pose")] = None,
    detector: Annotated[Path | None, typer.Option(help="Person detector checkpoint.", rich_help_panel=_MODEL,
                                                     show_default="weights/detector")] = None,
    no_detector: Annotated[bool, typer.Option("--no-detector", help="Export the pose model only.",
                                              rich_help_panel=_MODEL)] = False,
    opset: Annotated[int, typer.Option(min=18, max=23, help="ONNX opset.", rich_help_panel=_MODEL)] = 20,
    check_on: Annotated[Path | None, typer.Option(
        "--check-on", help="Video or image whose people the exported models are checked on against PyTorch "
        "(its first --check-frames frames).", rich_help_panel=_CHECK,
        show_default="examples/vtest_short.mp4")] = None,
    check_frames: Annotated[int, typer.Option(min=1, max=300, help="Frames of --check-on to compare on.",
                                              rich_help_panel=_CHECK)] = 8,
    ratios: Annotated[str, typer.Option(callback=pruning_ratios, help="Pruning ratios to compare at, comma separated.",
                                        rich_help_panel=_CHECK)] = "0,0.5,0.9",
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the comparison with PyTorch.",
                                           rich_help_panel=_CHECK)] = False,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads of torch and ONNX Runtime for the "
                                                   "check.", rich_help_panel=_CHECK,
                                                   show_default="the backends'")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where the .onnx files go.",
                                             rich_help_panel=_OUTPUT)] = Path("ftppose_onnx"),
    overwrite: Annotated[bool, typer.Option(help="Replace existing files.", rich_help_panel=_OUTPUT)] = False,
    report_json: Annotated[Path | None, typer.Option("--report-json", help="Write the files and the check "
                                                        "as JSON.", rich_help_panel=_OUTPUT,
                                                        show_default=False)] = None,
) -> None:
    """Export the pose model (per-frame and window halves) and the person detector to ONNX, checked against PyTorch.

    Run them with `ftppose annotate --backend onnx --weights OUTPUT_DIR` (pip install -e ".\\[onnx]").
    """
    from ftppose_cli.atomic import check_folder, check_writable
    from ftppose_cli.export import DETECTOR, POSE_FRAMES, POSE_WINDOW

    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)
    names = [POSE_FRAMES, POSE_WINDOW] + ([] if no_detector else [DETECTOR])
    # every output before any work (and before torch is imported); errors become one line in cli/app.py
    check_folder(output_dir)
    for name in names:
        check_writable(output_dir / name, overwrite=overwrite)
    if report_json is not None:
        check_writable(report_json, overwrite=overwrite)
    for path, what in ((weights, "pose checkpoint"), (detector, "detector checkpoint")):
        if path is not None and not (path.exists() or path.with_suffix(".safetensors").exists()):
            raise FtpposeError(path, f"{what} not found")
    if check_on is not None and not check_on.is_file():
        raise FtpposeError(check_on, "file not found")
    report = _export_and_check(weights, None if no_detector else detector, no_detector, opset, output_dir,
                               overwrite, None if no_check else check_on, check_frames, ratios, threads, err)
    out.print(_files_table(report["files"]))
    check = report["check"]
    if check is not None:
        out.print(_check_table(check))
    if report_json is not None:
        from ftppose_cli.atomic import atomic_write_text

        atomic_write_text(report_json, json.dumps(report, indent=2) + "\n", overwrite=overwrite)
    out.print(f"Saved: {', '.join(str(Path(f['path'])) for f in report['files'])}", markup=False, soft_wrap=True)
    worst = None if check is None else max(p["max_crop_px"] for p in check["poses"])
    if worst is not None and worst > TOLERANCE_CROP_PX:
        raise FtpposeError(None, f"the exported pose model differs from PyTorch by up to {worst:.3g} pixels of "
                                 f"the crop (more than {TOLERANCE_CROP_PX}); do not deploy these files")


def _export_and_check(weights: Path | None, detector: Path | None, no_detector: bool, opset: int, output_dir: Path,
                      overwrite: bool, check_on: Path | None, check_frames: int, ratios: tuple[float, ...],
                      threads: int | None, err: Console) -> dict:
    import torch

    from ftppose_cli.benchmarking.agreement import check_export
    from ftppose_cli.export import DETECTOR, export_detector_weights, export_pose_weights
    from ftppose_cli.runtime import default_detector_weights, default_pose_weights, example_clip
    from ftppose_cli.weights import weights_paths

    if threads is not None:
        torch.set_num_threads(threads)
    pose_weights, _ = weights_paths(weights or default_pose_weights())
    detector_weights, _ = weights_paths(detector or default_detector_weights())
    with err.status(f"exporting {pose_weights}..."):
        frames, window = export_pose_weights(pose_weights, output_dir, opset=opset, overwrite=overwrite)
    detector_file = None
    if not no_detector:
        with err.status(f"exporting {detector_weights}..."):
            detector_file = export_detector_weights(detector_weights, output_dir / DETECTOR, opset=opset,
                                                    overwrite=overwrite)
    files = [{"part": part, "path": str(path), "megabytes": path.stat().st_size / 1e6}
             for part, path in (("pose, per frame", frames), ("pose, per window", window),
                                ("person detector", detector_file)) if path is not None]
    check = None
    sample = check_on or example_clip()
    if sample.is_file():
        with err.status(f"comparing with PyTorch on {sample}..."):
            check = check_export(frames, window, detector_file, pose_weights, detector_weights, sample, ratios,
                                 check_frames, threads).to_dict()
    elif check_on is None:
        say(err, "warning", f"not compared with PyTorch: {sample} is not here; "
                            "give --check-on a video or image with people")
    return {"files": files, "opset": opset, "check": check}


def _files_table(files: list[dict]) -> Table:
    table = Table(title="ONNX files")
    for name in ("part", "file", "MB"):
        table.add_column(name, justify="right" if name == "MB" else "left")
    for f in files:
        table.add_row(f["part"], f["path"], f"{f['megabytes']:.1f}")
    return table


def _check_table(check: dict) -> Table:
    table = Table(title=f"Against PyTorch: {check['people']} people of {Path(check['sample']).name}, "
                        f"{check['frames']} frames")
    for name in ("model", "ratio", "compared", "largest keypoint difference, crop px", "% of box", "score"):
        table.add_column(name, justify="right")
    for pose in check["poses"]:
        table.add_row("pose", f"{pose['ratio']:g}", f"{pose['windows']} windows", f"{pose['max_crop_px']:.2g}",
                      f"{100 * pose['max_box_fraction']:.2g}", f"{pose['max_score']:.2g}")
    detector = check["detector"]
    if detector is not None:
        table.add_row("detector", "-", f"{detector['boxes']} boxes ({detector['unmatched']} unmatched)",
                      f"box {detector['max_box_px']:.2g} frame px", "-", f"{detector['max_score']:.2g}")
    return table


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
