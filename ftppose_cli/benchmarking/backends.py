"""The same pose model on each backend: PyTorch (eager) and its ONNX export on ONNX Runtime.

For every backend and ratio, the two ways the model runs are timed, all of
them round-robin in one loop (each round in a new random order, so no step
always follows the other backend's) so background load hits each alike:

* video mode, as ``annotate`` runs it: ``batch`` new frames through the
  per-frame half (backbone, and the tokens each keeps after pruning), then
  ``batch`` windows from the tokens their frames kept;
* a clip: ``batch`` windows of K fresh frames, all through the per-frame half.

Speed-ups are taken at the same ratio against PyTorch (``x torch``) and on
the same backend against ratio 0 (``x ratio 0``), both in video mode.
Agreement with PyTorch is measured separately on real crops
(:func:`ftppose_cli.benchmarking.agreement.pose_agreement`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ftppose_cli.benchmarking.agreement import PoseAgreement, first_frame_people, pose_agreement, sample_frames
from ftppose_cli.benchmarking.runner import BenchmarkOptions, build_model
from ftppose_cli.benchmarking.timing import Timing, time_interleaved
from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.errors import FtpposeError
from ftppose_cli.export import export_pose
from ftppose_cli.onnx_backend import OnnxPoseModel, onnxruntime_module
from ftppose_cli.pipeline.builder import BACKENDS
from ftppose_cli.pipeline.estimator import PoseEstimator, PoseNetwork
from ftppose_cli.runtime import default_detector_weights, example_clip


@dataclass(frozen=True)
class BackendRow:
    """One backend at one ratio."""

    backend: str
    ratio: float
    batch: int
    video: Timing  # ms per batch of windows, video mode
    clip: Timing  # ms per batch of clips
    speedup_vs_torch: float = 1.0  # video mode, same ratio
    video_speedup_vs_ratio0: float = 1.0  # video mode, same backend
    agreement: PoseAgreement | None = None  # with PyTorch, on real crops

    @property
    def windows_per_s(self) -> float:
        return 1000.0 * self.batch / self.video.median_ms

    def to_dict(self) -> dict:
        return {"backend": self.backend, "ratio": self.ratio, "batch": self.batch, "video": self.video.to_dict(),
                "clip": self.clip.to_dict(), "windows_per_s": self.windows_per_s,
                "speedup_vs_torch": self.speedup_vs_torch, "video_speedup_vs_ratio0": self.video_speedup_vs_ratio0,
                "agreement": None if self.agreement is None else self.agreement.to_dict()}


def _steps(network: PoseNetwork, clips: torch.Tensor, epsilon: float) -> tuple[Callable[[], object],
                                                                                Callable[[], object]]:
    """The video-mode step and the clip step of ``network`` at ``epsilon`` on ``clips (B, K, 3, H, W)``."""
    batch, window = clips.shape[:2]
    key = window // 2
    with torch.inference_mode():
        last, intermediate, kept = network.embed_and_keep(clips.flatten(0, 1), epsilon)
    kept = kept.reshape(batch, window, *kept.shape[1:]).contiguous()
    key_last = last.reshape(batch, window, *last.shape[1:])[:, key].contiguous()
    key_intermediate = intermediate.reshape(batch, window, *intermediate.shape[1:])[:, key].contiguous()
    frames = clips[:, key].contiguous()

    def video() -> object:
        network.embed_and_keep(frames, epsilon)
        return network.estimate_kept(kept, key_last, key_intermediate)

    def clip() -> object:
        all_last, all_intermediate, all_kept = network.embed_and_keep(clips.flatten(0, 1), epsilon)
        all_kept = all_kept.reshape(batch, window, *all_kept.shape[1:])
        return network.estimate_kept(all_kept, all_last.reshape(batch, window, *all_last.shape[1:])[:, key],
                                   all_intermediate.reshape(batch, window, *all_intermediate.shape[1:])[:, key])

    return video, clip


def compare_backends(networks: dict[str, PoseNetwork], ratios: tuple[float, ...], batch: int = 1, warmup: int = 3,
                     repeats: int = 10, seed: int = 0,
                     agreement: dict[tuple[str, float], PoseAgreement] | None = None) -> list[BackendRow]:
    """Time each network of ``networks`` (the first is the reference, normally ``"torch"``) at each ratio.

    Ratio 0 is always measured. ``agreement`` (per backend and ratio) is attached to the rows.
    """
    ratios = tuple(sorted({0.0, *ratios}))
    config = next(iter(networks.values())).config
    generator = torch.Generator().manual_seed(seed)
    clips = torch.randn(batch, config.window, 3, *config.img_size, generator=generator)
    video_steps, clip_steps = {}, {}
    for name, network in networks.items():
        for ratio in ratios:
            video_steps[(name, ratio)], clip_steps[(name, ratio)] = _steps(network, clips, ratio)
    video = _timed(video_steps, warmup, repeats, seed)
    clip = _timed(clip_steps, warmup, repeats, seed)
    reference = next(iter(networks))
    rows = []
    for name, ratio in video_steps:
        ms = video[(name, ratio)].median_ms
        rows.append(BackendRow(name, ratio, batch, video[(name, ratio)], clip[(name, ratio)],
                               speedup_vs_torch=video[(reference, ratio)].median_ms / ms,
                               video_speedup_vs_ratio0=video[(name, 0.0)].median_ms / ms,
                               agreement=(agreement or {}).get((name, ratio))))
    return rows


def _timed(steps: dict[tuple[str, float], Callable[[], object]], warmup: int, repeats: int,
           seed: int) -> dict[tuple[str, float], Timing]:
    labelled = {f"{name}@{ratio}": step for (name, ratio), step in steps.items()}
    timings = time_interleaved(labelled, "cpu", warmup, repeats, shuffle_seed=seed)
    return {key: timings[f"{key[0]}@{key[1]}"] for key in steps}


def benchmark_backends(options: BenchmarkOptions, backends: tuple[str, ...] = ("torch", "onnx"),
                       sample: Path | None = None) -> list[BackendRow]:
    """The model ``options`` names on each backend (PyTorch always, as the reference), at ``options.threads``.

    The ONNX side is the model exported afresh (so ``--size`` and ``--window``
    work too). With a real ``sample`` video or image (default: the example
    clip, when there) and the shipped detector, each ratio's keypoints are also
    compared with PyTorch's on its people.
    """
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise FtpposeError(None, f"unknown backend {unknown[0]!r}; choose from torch, onnx")
    if options.device not in ("auto", "cpu"):
        raise FtpposeError(None, "comparing backends runs on the CPU (ONNX Runtime's CPU provider); give --device cpu")
    previous_threads = torch.get_num_threads()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    try:
        model, _ = build_model(options)
        networks: dict[str, PoseNetwork] = {"torch": model}
        with tempfile.TemporaryDirectory(prefix="ftppose-onnx-") as folder:
            if "onnx" in backends:
                onnxruntime_module()
                frames_path, window_path = export_pose(model, folder)
                networks["onnx"] = OnnxPoseModel(frames_path, window_path, options.threads)
            agreement = {}
            sample = sample if sample is not None else example_clip()
            detector_weights = default_detector_weights()
            if len(networks) > 1 and sample.is_file() and detector_weights.is_file():
                images = sample_frames(sample, 8)
                boxes = first_frame_people(PersonDetector.from_checkpoint(detector_weights).predict_raw, images,
                                           sample)
                for ratio in sorted({0.0, *options.ratios}):
                    reference = PoseEstimator(model, pruning_ratio=ratio)
                    for name, network in networks.items():
                        if name != "torch":
                            exported = PoseEstimator(network, pruning_ratio=ratio)
                            agreement[(name, ratio)] = pose_agreement(reference, exported,
                                                                      images, boxes)
            return compare_backends(networks, options.ratios, options.batch_size, options.warmup, options.repeats,
                                    options.seed, agreement)
    finally:
        torch.set_num_threads(previous_threads)
