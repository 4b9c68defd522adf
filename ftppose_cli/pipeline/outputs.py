"""Where `annotate` writes each input's outputs, and the check that they can be written, before any work.

Outputs are named after their input, so the names alone can clash (two
inputs called ``clip``) or land on the input itself; and a file can be
unwritable. Both are found here for a whole batch before the first frame is
decoded, so a long run never fails at its end for a name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ftppose_cli.atomic import check_writable
from ftppose_cli.errors import InputError
from ftppose_cli.inputs import AnnotateInput


class OutputOptions(Protocol):
    """What naming the outputs depends on (:class:`~ftppose_cli.pipeline.annotator.AnnotateOptions` has it)."""

    output_dir: Path
    write_video: bool
    overwrite: bool


def output_paths(item: str | Path | AnnotateInput, options: OutputOptions) -> tuple[Path, Path]:
    """Where the overlay and the JSON of an input go.

    The overlay of a video is ``<stem>.mp4``, of a still ``<stem>`` with
    the image's own suffix, of a sequence a folder ``<name>/`` holding
    one image per frame under the source image's name; the JSON is
    ``<name>.json``. All in the output folder.
    """
    item = as_input(item)
    folder, name = options.output_dir, item.name
    overlay = {"video": folder / f"{name}.mp4", "still": folder / f"{name}{item.path.suffix}",
               "sequence": folder / name}[item.kind]
    return overlay, folder / f"{name}.json"


def check_outputs(item: str | Path | AnnotateInput, options: OutputOptions) -> None:
    """Raise :class:`InputError` unless every file annotating ``item`` writes could be published."""
    check_writable(*_written(as_input(item), options), overwrite=options.overwrite)


def claim_outputs(items: list[AnnotateInput], options: OutputOptions, *, check_files: bool = True
                  ) -> tuple[list[AnnotateInput], list[InputError]]:
    """Check every input's outputs before any work: the inputs that can go ahead, and an error for each other.

    Outputs are named after the input (a video's or image's stem, a folder's
    name), so two inputs of the same name (``a/clip.mp4`` and ``b/clip.mp4``,
    or ``clip.mp4`` and ``clip.jpg``) would write the same files: the later
    one is refused rather than silently replacing the first one's results
    (with ``overwrite``) or failing with a bare "output exists" (without).
    An output that would land on its own input, or that cannot be written,
    is refused too, so a batch learns of it before the first frame is decoded.

    ``check_files=False`` does only what depends on the names alone, so that
    every process of a torchrun job accepts the same inputs; each then checks
    the files of its own share.
    """
    claimed: dict[Path, Path] = {}
    accepted: list[AnnotateInput] = []
    errors: list[InputError] = []
    for item in items:
        outputs = _written(item, options)
        first = next((claimed[p] for p in outputs if p in claimed), None)
        try:
            if first is not None:
                shown = ", ".join(str(p) for p in _shown(item, options))
                raise InputError(item.path, f"its outputs ({shown}) are also those of {first}, an input of the "
                                            "same name; annotate it into another --output-dir or rename it")
            sources = {p.resolve() for p in item.images or (item.path,)}
            if any(p.resolve() in sources for p in outputs):
                itself = {"video": "the video itself", "still": "the image itself", "sequence": "its own images"}
                raise InputError(item.path, f"its overlay would replace {itself[item.kind]}; choose another "
                                            "--output-dir")
            if check_files:
                check_outputs(item, options)
        except InputError as error:
            errors.append(error)
            continue
        claimed.update((p, item.path) for p in outputs)
        accepted.append(item)
    return accepted, errors


def as_input(item: str | Path | AnnotateInput) -> AnnotateInput:
    """An input as given, or a file taken as a video or a still by its suffix."""
    return item if isinstance(item, AnnotateInput) else AnnotateInput.of_file(item)


def _shown(item: AnnotateInput, options: OutputOptions) -> tuple[Path, ...]:
    """The outputs of ``item`` as a message names them: the JSON, and the overlay (a sequence's folder) if on."""
    overlay_out, json_out = output_paths(item, options)
    return (json_out, overlay_out) if options.write_video else (json_out,)


def _written(item: AnnotateInput, options: OutputOptions) -> tuple[Path, ...]:
    """The files annotating ``item`` writes: the JSON, and unless it is off the overlay (a sequence's: one per image).

    A sequence's overlay images are all listed, also those a ``--stride`` or
    ``--end`` leaves out: what may be written is what must be free.
    """
    overlay_out, json_out = output_paths(item, options)
    if not options.write_video:
        return (json_out,)
    if item.kind == "sequence":
        return (json_out, *(overlay_out / p.name for p in item.images))
    return (json_out, overlay_out)
