"""What `annotate` and the training commands show while they work, and what stays on screen afterwards.

While a video runs: a progress bar with frames done of the total, frames per
second and time left, from the first frame on (the total is known before
decoding starts, and the bar moves per frame finished, not per batch). When
it is done the bar goes, and two lines stay: a summary (frames,
person-frames, tracks, time, fps) and ``Saved:`` with every file written. A
speed table per stage closes the run.

Speeds are shown to two significant digits: 0.355 fps is "0.36", not "0.4".

Training (`train`, `train-detector`) reports steps through a callback
(:mod:`ftppose_cli.training.progress`); :func:`step_progress` draws it as one
bar per task (an epoch, cutting crops) with the running losses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ftppose_cli.pipeline.annotator import VideoReport
    from ftppose_cli.training.progress import StepProgress

ProgressUpdate = Callable[[int, "int | None", int], None]
_COLOURS = {"error": "red", "warning": "yellow", "interrupted": "yellow"}
HEARTBEAT_STEPS = 25  # off a terminal, a line every this many steps says where a long task is


def significant(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` significant digits, no exponent: 0.0354 -> "0.035", 4 -> "4.0", 123 -> "120"."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    text = f"{value:#.{digits}g}"
    return f"{float(text):.0f}" if "e" in text else text.rstrip(".")


class _FpsColumn(ProgressColumn):
    """Frames per second, from rich's own speed estimate (over the last 30 s)."""

    def render(self, task: Task) -> Text:
        return Text(f"{significant(task.speed)} fps" if task.speed else "- fps", style="progress.data.speed")


@contextmanager
def video_progress(console: Console, name: str) -> Iterator[ProgressUpdate]:
    """A progress bar for one input; yields ``update(frames_done, total, people_in_frame)``. Gone once done.

    Only on a terminal: in a log, the lines that stay say all there is.
    """
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
                  _FpsColumn(), TextColumn("{task.fields[people]} people"), TimeElapsedColumn(),
                  TextColumn("left"), TimeRemainingColumn(), console=console, transient=True,
                  disable=console.quiet or not console.is_terminal) as progress:
        task = progress.add_task(escape(name), total=None, people=0)

        def update(done: int, total: int | None, people: int) -> None:
            progress.update(task, completed=done, total=total, people=people)

        yield update


@contextmanager
def step_progress(console: Console) -> Iterator[StepProgress]:
    """A bar for the task under way with its running values; yields the callback training takes.

    On a terminal each task's bar goes when the next task starts. In a log (no
    terminal) there is no bar: a line every :data:`HEARTBEAT_STEPS` steps says
    where the task is and how long it has run.
    """
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[values]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=True, disable=console.quiet or not console.is_terminal) as progress:
        shown: dict[str, object] = {}  # the task now on screen: its name, bar and start time

        def update(task: str, done: int, total: int, values: dict[str, float]) -> None:
            text = " ".join(f"{name} {value:.4g}" for name, value in values.items())
            if shown.get("name") != task:
                if "bar" in shown:
                    progress.remove_task(shown["bar"])
                shown.update(name=task, bar=progress.add_task(escape(task), total=total, values=text),
                             started=time.monotonic())
            progress.update(shown["bar"], completed=done, total=total, values=text)
            if not console.is_terminal and done and done % HEARTBEAT_STEPS == 0:
                console.print(escape(f"{task} step {done}/{total} {text} {time.monotonic() - shown['started']:.0f}s"))

        yield update


def say(console: Console, kind: str, text: object) -> None:
    """One ``error:``, ``warning:`` or ``interrupted:`` line: never wrapped, so a log keeps one line per
    problem, and the text printed as it is (a path's ``[brackets]`` are not rich markup)."""
    colour = _COLOURS[kind]
    console.print(f"[{colour}]{kind}:[/{colour}] {escape(str(text))}", soft_wrap=True, highlight=False)


def summary_line(report: VideoReport) -> str:
    """One line per input that stays: what was done, how fast."""
    interrupted = " (interrupted)" if report.interrupted else ""
    return (f"{report.video.name}{interrupted}: {_count(report.frames, 'frame')}, "
            f"{_count(report.person_frames, 'person-frame')}, {_count(report.tracks, 'track')} "
            f"in {report.wall_seconds:.1f} s ({significant(report.fps)} fps)")


def saved_line(report: VideoReport) -> str:
    """``Saved: a.mp4, a.json``: every output of the input; a folder of overlay images with its count."""
    return "Saved: " + ", ".join(_describe(path) for path in report.outputs)


def _describe(path: Path) -> str:
    if path.is_dir():
        count = sum(1 for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        return f"{path}/ ({_count(count, 'image')})"
    return str(path)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def report_table(reports: list[VideoReport], stages: tuple[str, ...]) -> Table:
    """The speed report: per input, ms per frame for each stage and fps end to end."""
    table = Table(title="ftppose annotate: speed report", title_justify="left")
    for column in ("input", "frames", "person-frames", "tracks", *[f"{s} ms" for s in stages], "fps"):
        table.add_column(column, justify="left" if column == "input" else "right")
    for r in reports:
        ms = r.stage_ms_per_frame()
        table.add_row(escape(r.video.name) + (" (interrupted)" if r.interrupted else ""), str(r.frames),
                      str(r.person_frames), str(r.tracks), *[f"{ms[s]:.1f}" for s in stages], significant(r.fps))
    table.caption = "ms per frame for each stage; fps end to end (decode runs on its own thread, overlapping)"
    return table
