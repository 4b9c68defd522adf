"""Images in, images out: still photos and folders of frames as a frame source, overlays saved as images.

A photo annotated as a one-frame MP4 is not what anyone wants back, and a
folder of extracted frames is how many datasets (PoseTrack among them) and
pipelines hand over video. :class:`ImageFrames` reads a list of JPEG/PNG
files as the pipeline's frames, upright (OpenCV applies the EXIF
orientation, as the video reader applies the display matrix), and
:class:`ImageWriter` saves each overlay in its source's format under its
source's name.

A sequence has no timestamps of its own: frame ``i`` is stamped ``i`` in a
time base of ``1 / fps`` (a nominal 25 fps), so its ``pts`` is also its
position in the list, which is how the writer names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ftppose_cli.atomic import atomic_write, check_writable
from ftppose_cli.errors import InputError
from ftppose_cli.video.frame_range import FrameRange
from ftppose_cli.video.frames import Frame, VideoInfo

NOMINAL_FPS = Fraction(25)  # FFmpeg's own fallback rate; it only sets how long the tracker remembers a lost person
_JPEG_QUALITY = 95


def read_image(path: Path) -> np.ndarray:
    """An upright BGR image, or :class:`InputError` naming the file."""
    if not path.is_file():
        raise InputError(path, "file not found")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "not a readable JPEG or PNG image")
    return image


class ImageFrames:
    """The images of a still or a sequence, in the order given, as the pipeline's frame source.

    Every image must have the first one's size: the tracker and the overlay
    assume one frame size. The first image is read up front, so a bad input
    fails before any output is opened.
    """

    def __init__(self, paths: Sequence[Path], source: Path, selection: FrameRange | None = None) -> None:
        if not paths:
            raise InputError(source, "no images to annotate")
        self.paths = list(paths)
        self.selection = selection or FrameRange()
        height, width = read_image(self.paths[0]).shape[:2]
        self.info = VideoInfo(path=source, width=width, height=height, rotation=0, fps=NOMINAL_FPS,
                              time_base=1 / NOMINAL_FPS, frame_count=len(self.paths),
                              duration=float(len(self.paths) / NOMINAL_FPS), has_audio=False, codec="image")
        self.truncated = False
        self.warnings: list[str] = []

    @property
    def expected_frames(self) -> int | None:
        return self.selection.expected_count(len(self.paths), float(NOMINAL_FPS))

    def __iter__(self) -> Iterator[Frame]:
        selected = self.selection.selector()
        yielded = 0
        for index, path in enumerate(self.paths):
            time = float(index / NOMINAL_FPS)
            if not selected(index, time):
                if selected.done:
                    break
                continue
            image = read_image(path)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise InputError(path, f"size {image.shape[1]}x{image.shape[0]} differs from the sequence's "
                                 f"{self.info.width}x{self.info.height} (pass --stills to annotate each on its own)")
            yielded += 1
            yield Frame(index=index, image=image, pts=index, time_base=self.info.time_base, time=time)
        if yielded == 0:
            raise InputError(self.info.path, f"no image in {self.selection}: there are {len(self.paths)}")


class ImageWriter:
    """Save overlays as images: frame ``pts`` goes to ``targets[pts]``, in the format its suffix names.

    Each file is written atomically. ``location`` is what :meth:`close`
    reports: the folder of a sequence's overlays, or a still's one file.
    """

    def __init__(self, targets: Sequence[Path], location: Path, overwrite: bool = False) -> None:
        self.targets = list(targets)
        self.location = location
        self.overwrite = overwrite
        self.warnings: list[str] = []
        self.frames_written = 0
        self._closed = False
        check_writable(*self.targets, overwrite=overwrite)

    def write(self, image: np.ndarray, pts: int) -> None:
        if self._closed:
            raise RuntimeError(f"{self.location}: writer is closed")
        target = self.targets[pts]
        options = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY] if target.suffix.lower() in (".jpg", ".jpeg") else []
        ok, encoded = cv2.imencode(target.suffix, image, options)
        if not ok:
            raise InputError(target, f"cannot encode the overlay as {target.suffix}")
        atomic_write(target, lambda tmp: Path(tmp).write_bytes(encoded.tobytes()), overwrite=self.overwrite)
        self.frames_written += 1

    def close(self, finished: bool = True, keep: bool = True) -> Path | None:
        """Where the overlays are, or ``None`` if none was written (each image is complete once written)."""
        if self._closed:
            return None
        self._closed = True
        return self.location if self.frames_written else None
