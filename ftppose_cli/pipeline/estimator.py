"""Batched top-down pose estimation around an FTP-Pose model.

The work is split so video inference pays the backbone once per person-frame:
:meth:`PoseEstimator.encode` crops every person of a batch of frames and runs
the backbone on all of them in one pass, and prunes each frame's tokens for
the temporal branch there, once; :meth:`PoseEstimator.decode` runs the MGFE,
fusion and head on windows assembled from those cached tokens and maps the
heatmap peaks back to image pixels.

The network is :class:`~ftppose_cli.models.ftppose.FTPPose` in PyTorch or its
ONNX export on ONNX Runtime (:class:`~ftppose_cli.onnx_backend.OnnxPoseModel`);
both answer the two calls of :class:`PoseNetwork`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ftppose_cli.crops import box_to_center_scale, crop_affine, invert_affine, to_model_input, warp_crop
from ftppose_cli.models.decoding import decode_output, flip_back, heatmap_to_input, to_probabilities
from ftppose_cli.models.ftppose import FTPPose, FTPPoseConfig


class PoseNetwork(Protocol):
    """The two halves of FTP-Pose the estimator calls (see :class:`FTPPose` for their contracts)."""

    config: FTPPoseConfig

    def embed_and_keep(self, images: torch.Tensor, epsilon: float = 0.0
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def estimate_kept(self, kept: torch.Tensor, key_last: torch.Tensor, key_intermediate: torch.Tensor
                    ) -> torch.Tensor: ...


@dataclass
class PersonFeatures:
    """Backbone tokens of the people of one frame, aligned with its boxes.

    ``kept`` is what each person of this frame gives the temporal branch of
    every window containing the frame: ``last`` itself at ratio 0, else the
    tokens pruning keeps (:meth:`FTPPose.keep_frame_tokens`).
    """

    last: torch.Tensor  # (n, N, C)
    intermediate: torch.Tensor  # (n, N, C)
    to_image: np.ndarray  # (n, 2, 3): model-input pixels -> image pixels
    last_flipped: torch.Tensor | None = None
    intermediate_flipped: torch.Tensor | None = None
    kept: torch.Tensor | None = None  # (n, T, C); None means ``last``
    kept_flipped: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.kept is None:
            self.kept = self.last
        if self.kept_flipped is None:
            self.kept_flipped = self.last_flipped

    def __len__(self) -> int:
        return int(self.last.shape[0])


@dataclass
class WindowTokens:
    """A batch of windows as the temporal half takes them (:meth:`FTPPose.estimate_kept`)."""

    kept: torch.Tensor  # (B, K, T, C): each frame's kept tokens
    key_last: torch.Tensor  # (B, N, C)
    key_intermediate: torch.Tensor  # (B, N, C)

    def __len__(self) -> int:
        return int(self.key_last.shape[0])

    def __getitem__(self, rows: slice) -> WindowTokens:
        return WindowTokens(self.kept[rows], self.key_last[rows], self.key_intermediate[rows])


class PoseEstimator:
    """Crops, backbone, windows -> keypoints in image pixels with per-joint scores."""

    def __init__(
        self,
        model: FTPPose | PoseNetwork,
        device: torch.device | str = "cpu",
        pruning_ratio: float = 0.0,
        half: bool = False,
        flip_test: bool = False,
        max_batch: int = 64,
    ) -> None:
        self.device = torch.device(device)
        self.dtype = torch.float16 if half and self.device.type != "cpu" else torch.float32
        # Settings that could not be honoured, for the caller to show (the CLI prints them as warnings).
        self.warnings: list[str] = []
        if half and self.dtype != torch.float16:
            self.warnings.append("half precision needs a GPU; running in full precision on the CPU")
        if isinstance(model, torch.nn.Module):
            model = model.to(self.device, self.dtype).eval()
        self.model = model
        self.config = model.config
        self.pruning_ratio = pruning_ratio
        self.flip_test = flip_test
        self.max_batch = max_batch
        self.backbone_crops = 0  # person-frames sent through the backbone, for accounting

    @property
    def window(self) -> int:
        return self.config.window

    def _crops(self, image: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = self.config.img_size
        centers, sizes = box_to_center_scale(boxes_xyxy, aspect=size[1] / size[0])
        crops, to_image = [], []
        for c, s in zip(centers, sizes):
            matrix = crop_affine(c, s, size)
            crops.append(warp_crop(image, matrix, size))
            to_image.append(invert_affine(matrix))
        return np.stack(crops), np.stack(to_image)

    @torch.inference_mode()
    def _backbone(self, crops: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for start in range(0, len(crops), self.max_batch):
            x = torch.from_numpy(to_model_input(crops[start:start + self.max_batch]))
            parts.append(self.model.embed_and_keep(x.to(self.device, self.dtype), self.pruning_ratio))
        self.backbone_crops += len(crops)
        last, inter = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        unpruned = all(kept is last_part for last_part, _, kept in parts)  # ratio 0: no second copy of ``last``
        return last, inter, last if unpruned else torch.cat([p[2] for p in parts])

    def embed_people(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[PersonFeatures]:
        """Backbone features of every person of a batch of frames, in one pass over all crops."""
        counts = [len(b) for b in boxes]
        dim = self.config.embed_dim
        num = self.config.grid_size[0] * self.config.grid_size[1]
        if sum(counts) == 0:
            empty = torch.zeros(0, num, dim, device=self.device, dtype=self.dtype)
            return [PersonFeatures(empty, empty, np.zeros((0, 2, 3))) for _ in images]
        crops, to_image = zip(*(self._crops(img, b) for img, b in zip(images, boxes) if len(b)))
        crops = np.concatenate(crops)
        to_image = np.concatenate(to_image)
        last, inter, kept = self._backbone(crops)
        last_f = inter_f = kept_f = None
        if self.flip_test:
            last_f, inter_f, kept_f = self._backbone(np.ascontiguousarray(crops[:, :, ::-1]))
        out, start = [], 0
        for n in counts:
            sl = slice(start, start + n)
            out.append(PersonFeatures(last[sl], inter[sl], to_image[sl],
                                      None if last_f is None else last_f[sl], None if inter_f is None else inter_f[sl],
                                      kept[sl], None if kept_f is None else kept_f[sl]))
            start += n
        return out

    @torch.inference_mode()
    def estimate_windows(
        self,
        windows: WindowTokens,
        to_image: np.ndarray,
        flipped: WindowTokens | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Windows -> keypoints ``(B, J, 2)`` in image pixels and scores ``(B, J)``.

        ``flipped``: the same windows of the mirrored crops, averaged in when the flip test is on.
        """
        if len(windows) == 0:
            joints = self.config.num_joints
            return np.zeros((0, joints, 2), np.float32), np.zeros((0, joints), np.float32)
        heatmaps = []
        for start in range(0, len(windows), self.max_batch):
            part = windows[start:start + self.max_batch]
            h = self.model.estimate_kept(part.kept, part.key_last, part.key_intermediate).float()
            if self.flip_test and flipped is not None:
                # Average probabilities, not logits, so both views weigh the same.
                kind = self.config.heatmap_kind
                mirrored = flipped[start:start + self.max_batch]
                hf = self.model.estimate_kept(mirrored.kept, mirrored.key_last, mirrored.key_intermediate).float()
                h = 0.5 * (to_probabilities(h, kind) + flip_back(to_probabilities(hf, kind)))
                if kind == "softmax":
                    h = torch.log(h.clamp(min=1e-12))  # back to logits of the averaged distribution
            heatmaps.append(h.cpu())
        coords, scores = decode_output(torch.cat(heatmaps), self.config.heatmap_kind)
        coords = heatmap_to_input(coords, self.config.heatmap_size, self.config.img_size).numpy()
        xy = np.einsum("bij,bkj->bki", to_image[:, :, :2], coords) + to_image[:, None, :, 2]
        return xy.astype(np.float32), scores.numpy().astype(np.float32)

    def estimate_stills(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Poses on still images: each person's window repeats its one frame."""
        features = self.embed_people(images, boxes)
        results = []
        for f in features:
            k = self.window
            windows = WindowTokens(f.kept[:, None].expand(-1, k, -1, -1), f.last, f.intermediate)
            flipped = None
            if f.last_flipped is not None:
                flipped = WindowTokens(f.kept_flipped[:, None].expand(-1, k, -1, -1), f.last_flipped,
                                       f.intermediate_flipped)
            results.append(self.estimate_windows(windows, f.to_image, flipped))
        return results
