"""How training says how far it is: a callback the caller renders, so the library draws nothing itself.

The pipeline reports frames done the same way (``progress`` of
:meth:`~ftppose_cli.pipeline.annotator.VideoAnnotator.annotate`). The CLI turns
these calls into bars (:func:`ftppose_cli.cli.progress.step_progress`); a
script passes its own function or none. Lines worth keeping (an epoch's
scores, "resumed from ...") go to a separate ``log`` callable, ``print`` by
default.
"""

from __future__ import annotations

from collections.abc import Callable

StepProgress = Callable[[str, int, int, dict[str, float]], None]
"""``(task, done, total, values)``: ``done`` of the ``total`` steps of ``task`` (``"epoch 3/30"``, ``"cutting
crops"``) are done; ``values`` are running figures such as the mean loss. Called with ``done == 0`` when a task
starts, then after every step."""


def no_progress(task: str, done: int, total: int, values: dict[str, float]) -> None:
    """The default :data:`StepProgress`: report nothing."""
