"""Streaming PoseTrack output for `annotate`: one record per decoded frame, written atomically.

Every decoded frame is listed, also frames with nobody in them, because the
official evaluator pairs ground-truth and prediction frames by position. The
2018 layout carries the ``categories`` entry poseval maps joints by; the 2017
("annolist") layout uses its own 15 joint ids. Frames are kept as small numpy
arrays until :meth:`PoseTrackWriter.close`, which writes the whole file to a
temporary name and renames it, so a reader never sees half a file. An extra
``ftppose`` record says how the file was made and whether the run was
interrupted; poseval ignores keys it does not know.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ftppose_cli.errors import InputError
from ftppose_cli.formats.joints import JOINT_INDEX, POSETRACK18_TO_17, POSETRACK_CATEGORY
from ftppose_cli.pipeline.poses import PoseResult
from ftppose_cli.video.reader import VideoInfo


def _round(values: np.ndarray, digits: int = 2) -> list:
    return np.round(values.astype(np.float64), digits).tolist()


class PoseTrackWriter:
    def __init__(self, path: str | Path, info: VideoInfo, layout: str = "2018", overwrite: bool = False,
                 visible_thr: float = 0.0) -> None:
        if layout not in ("2017", "2018"):
            raise ValueError(f"unknown PoseTrack layout {layout!r}")
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise InputError(self.path, "output exists; pass --overwrite to replace it")
        self.info = info
        self.layout = layout
        self.visible_thr = visible_thr
        self.frames: list[tuple[int, PoseResult]] = []

    def add_frame(self, index: int, poses: PoseResult) -> None:
        self.frames.append((index, poses))

    def document(self, interrupted: bool = False, extra: dict | None = None) -> dict:
        stem = self.info.path.stem
        record = {"source": str(self.info.path), "frames": len(self.frames), "interrupted": interrupted,
                  "width": self.info.width, "height": self.info.height, "fps": float(self.info.fps or 0),
                  **(extra or {})}
        if self.layout == "2018":
            return {**self._layout_2018(stem), "ftppose": record}
        return {**self._layout_2017(stem), "ftppose": record}

    def _file_name(self, stem: str, index: int) -> str:
        return f"images/{stem}/{index:06d}.jpg"

    def _layout_2018(self, stem: str) -> dict:
        images, annotations = [], []
        for index, poses in self.frames:
            image_id = index
            images.append({"id": image_id, "file_name": self._file_name(stem, index), "frame_id": index,
                           "vid_id": stem, "nframes": len(self.frames), "is_labeled": True,
                           "width": self.info.width, "height": self.info.height})
            for person in range(len(poses)):
                xy, scores = poses.xy[person], poses.scores[person]
                visible = (scores >= self.visible_thr).astype(np.float64)
                keypoints = np.concatenate([xy, visible[:, None]], axis=1)
                x1, y1, x2, y2 = poses.boxes[person]
                annotations.append({
                    "id": len(annotations), "image_id": image_id, "category_id": 1,
                    "track_id": int(poses.track_ids[person]),
                    "keypoints": _round(keypoints.reshape(-1)),
                    "scores": _round(scores, 4),
                    "bbox": _round(np.array([x1, y1, x2 - x1, y2 - y1])),
                    "score": round(float(poses.box_scores[person]), 4),
                })
        return {"images": images, "annotations": annotations, "categories": [POSETRACK_CATEGORY]}

    def _layout_2017(self, stem: str) -> dict:
        annolist = []
        head_top, head_bottom = JOINT_INDEX["head_top"], JOINT_INDEX["head_bottom"]
        for index, poses in self.frames:
            rects = []
            for person in range(len(poses)):
                xy, scores = poses.xy[person], poses.scores[person]
                # The 2017 layout's head box is what poseval sizes the hit radius by;
                # predictions do not need it, but give the head-top/neck extent.
                hx = sorted((float(xy[head_top, 0]), float(xy[head_bottom, 0])))
                hy = sorted((float(xy[head_top, 1]), float(xy[head_bottom, 1])))
                points = [{"id": [pt17], "x": [round(float(xy[j18, 0]), 2)], "y": [round(float(xy[j18, 1]), 2)],
                           "score": [round(float(scores[j18]), 4)],
                           "is_visible": [int(scores[j18] >= self.visible_thr)]}
                          for j18, pt17 in sorted(POSETRACK18_TO_17.items(), key=lambda kv: kv[1])]
                rects.append({"x1": [round(hx[0], 2)], "y1": [round(hy[0], 2)], "x2": [round(hx[1], 2)],
                              "y2": [round(hy[1], 2)], "track_id": [int(poses.track_ids[person])],
                              "score": [round(float(poses.box_scores[person]), 4)],
                              "annopoints": [{"point": points}]})
            annolist.append({"image": [{"name": self._file_name(stem, index)}], "imgnum": [index + 1],
                             "is_labeled": [1], "annorect": rects})
        return {"annolist": annolist}

    def close(self, interrupted: bool = False, extra: dict | None = None) -> Path:
        """Write the file atomically and return its path."""
        document = self.document(interrupted, extra)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle, separators=(",", ":"))
                handle.write("\n")
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path
