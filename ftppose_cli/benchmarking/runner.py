"""Speed, cost and (optionally) accuracy of one model across pruning ratios.

For every ratio the same weights are run and measured:

* tokens kept per frame in the temporal branch and GFLOPs (torch's counter);
* latency of a clip, the model's full forward on ``batch`` windows of K
  frames (the backbone runs K times per window): median, p90, clips/s, and
  peak memory while it runs;
* latency in video mode, where each frame's backbone features, and the tokens
  it keeps after pruning, are computed once and reused by the K windows
  containing it: one frame through ``embed_and_keep`` plus ``estimate_kept``.
  This is what annotating a video costs per person-frame, so the comparison
  with the single-frame (K=1) baseline, and ``x ratio 0 (video)``, use it;
* each stage timed on its own (backbone on one frame per window, MGFE,
  fusion, head) and its share of their sum;
* with held-out data, PCK of the model at that ratio.

Two references are measured in the same run: ratio 0 (no pruning; always
measured, even if not asked for, since every speed-up is relative to it) and
the single-frame model (same backbone and head weights, window 1).
Accuracy is measured after all timings, so evaluation never disturbs them.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ftppose_cli.benchmarking.flops import count_stage_flops
from ftppose_cli.benchmarking.heldout import evaluate_heldout
from ftppose_cli.benchmarking.memory import PeakMemory
from ftppose_cli.benchmarking.timing import Timing, time_callable
from ftppose_cli.errors import FtpposeError
from ftppose_cli.evaluation.heldout import HeldoutResult, HeldoutSet, average_pose_baseline, load_heldout
from ftppose_cli.models.ftppose import FTPPose, create_model, load_model
from ftppose_cli.models.pruning import keep_count
from ftppose_cli.runtime import default_pose_weights, resolve_device

DEFAULT_RATIOS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9)
STAGES: tuple[str, ...] = ("backbone", "mgfe", "fusion", "head")


@dataclass(frozen=True)
class BenchmarkOptions:
    """What to measure. ``weights`` wins over ``size``; neither means the shipped default weights."""

    weights: str | Path | None = None
    size: str | None = None
    ratios: tuple[float, ...] = DEFAULT_RATIOS
    device: str = "auto"
    batch_size: int = 1
    half: bool = False
    window: int | None = None
    compile: bool = False
    warmup: int = 3
    repeats: int = 10
    data: str | Path | None = None
    flip_test: bool = False
    threads: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise FtpposeError(None, f"batch size must be >= 1, got {self.batch_size}")
        if self.repeats < 1:
            raise FtpposeError(None, f"repeats must be >= 1, got {self.repeats}")
        if self.warmup < 0:
            raise FtpposeError(None, f"warmup must be >= 0, got {self.warmup}")
        if not self.ratios:
            raise FtpposeError(None, "at least one pruning ratio is needed")
        for ratio in self.ratios:
            if not 0.0 <= ratio < 1.0:
                raise FtpposeError(None, f"pruning ratio must be in [0, 1), got {ratio}")
        if self.threads is not None and self.threads < 1:
            raise FtpposeError(None, f"threads must be >= 1, got {self.threads}")
        if self.window is not None and (self.window < 1 or self.window % 2 == 0):
            raise FtpposeError(None, f"window must be odd and >= 1, got {self.window}")


@dataclass(frozen=True)
class RatioResult:
    """Everything measured at one pruning ratio."""

    ratio: float
    tokens_per_frame: int
    gflops_per_clip: float
    gflops_video: float
    stage_gflops: dict[str, float]
    latency: Timing
    video_latency: Timing
    clips_per_s: float
    peak_memory_mb: float
    stage_ms: dict[str, float]
    stage_share: dict[str, float]
    speedup_vs_ratio0: float = 1.0
    speedup_vs_single_frame: float = 1.0
    accuracy: HeldoutResult | None = None
    video_speedup_vs_ratio0: float = 1.0

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["latency"] = self.latency.to_dict()
        data["video_latency"] = self.video_latency.to_dict()
        data["accuracy"] = None if self.accuracy is None else self.accuracy.to_dict()
        return data


@dataclass(frozen=True)
class SingleFrameResult:
    """The K=1 reference: backbone and head on one frame per person, same weights."""

    gflops: float
    latency: Timing
    accuracy: HeldoutResult | None = None

    def to_dict(self) -> dict:
        return {"gflops": self.gflops, "latency": self.latency.to_dict(),
                "accuracy": None if self.accuracy is None else self.accuracy.to_dict()}


@dataclass(frozen=True)
class BenchmarkResult:
    """One benchmark run: its setting, a row per ratio and the references."""

    model: dict
    source: str
    device: str
    dtype: str
    batch_size: int
    window: int
    compiled: bool
    warmup: int
    repeats: int
    threads: int
    memory_kind: str
    rows: list[RatioResult]
    single_frame: SingleFrameResult
    average_pose: HeldoutResult | None = None
    environment: dict = field(default_factory=dict)
    video: list | None = None  # end-to-end rows (VideoRatioResult) when --video was given
    backends: list | None = None  # the model on each backend (BackendRow) when --backend named more than torch

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["rows"] = [row.to_dict() for row in self.rows]
        data["single_frame"] = self.single_frame.to_dict()
        data["average_pose"] = None if self.average_pose is None else self.average_pose.to_dict()
        data["video"] = None if self.video is None else [row.to_dict() for row in self.video]
        data["backends"] = None if self.backends is None else [row.to_dict() for row in self.backends]
        return data

    def row(self, ratio: float) -> RatioResult:
        for row in self.rows:
            if abs(row.ratio - ratio) < 1e-9:
                return row
        raise KeyError(ratio)


# --------------------------------------------------------------------------- models


def with_window(model: FTPPose, window: int, seed: int = 0) -> FTPPose:
    """The same network at another window size, sharing every tensor both have.

    From a K=3 model, ``window=1`` gives the single-frame baseline with the
    same backbone and head. From a K=1 checkpoint, ``window=3`` adds a
    temporal path with fresh weights whose head entry is zero, so it predicts
    what the K=1 model predicts while costing what a K=3 model costs.
    """
    if window == model.config.window:
        return model
    torch.manual_seed(seed)
    other = FTPPose(dataclasses.replace(model.config, window=window))
    mine = model.state_dict()
    target = other.state_dict()
    shared = {k: v for k, v in mine.items() if k in target and target[k].shape == v.shape}
    other.load_state_dict(shared, strict=False)
    return other.to(next(model.parameters()).device).eval()


def build_model(options: BenchmarkOptions) -> tuple[FTPPose, str]:
    """The model to measure (float32, CPU, eval mode) and a description of where it came from."""
    if options.weights is not None:
        model, source = load_model(options.weights), str(options.weights)
    elif options.size is not None:
        torch.manual_seed(options.seed)
        try:
            model = create_model(options.size)
        except ValueError as exc:
            raise FtpposeError(None, str(exc)) from None
        source = f"random weights ({options.size})"
    else:
        default = default_pose_weights()
        if not default.is_file():
            raise FtpposeError(default, "default pose weights not found; pass --weights PATH, or --size S to "
                               "benchmark random weights")
        model, source = load_model(default), str(default)
    if options.window is not None:
        model = with_window(model, options.window, options.seed)
    return model.eval(), source


def _dtype(device: torch.device, half: bool) -> torch.dtype:
    """Half precision is float16 on a GPU; the CPU has no fast float16 matmul, so it gets bfloat16."""
    if not half:
        return torch.float32
    return torch.bfloat16 if device.type == "cpu" else torch.float16


# --------------------------------------------------------------------------- measuring


@dataclass
class _Inputs:
    clips: torch.Tensor  # (B, K, 3, H, W)
    frames: torch.Tensor  # (B, 3, H, W): one new frame per window in video mode
    last: torch.Tensor  # (B, K, N, C) cached backbone tokens
    key_intermediate: torch.Tensor  # (B, N, C)


@torch.inference_mode()
def _inputs(model: FTPPose, batch: int, device: torch.device, dtype: torch.dtype, seed: int) -> _Inputs:
    cfg = model.config
    generator = torch.Generator().manual_seed(seed)
    clips = torch.randn(batch, cfg.window, 3, *cfg.img_size, generator=generator).to(device, dtype)
    last, inter = model.embed_frames(clips.flatten(0, 1))
    last = last.reshape(batch, cfg.window, *last.shape[1:])
    key_inter = inter.reshape(batch, cfg.window, *inter.shape[1:])[:, model.key_index]
    return _Inputs(clips, clips[:, model.key_index].contiguous(), last, key_inter)


def stage_callables(model: FTPPose, inputs: _Inputs, pruning_ratio: float) -> dict[str, Callable[[], object]]:
    """One zero-argument callable per stage, fed with the previous stage's real output."""
    cfg = model.config
    grid = cfg.grid_size
    batch, _, _, dim = inputs.last.shape
    key = inputs.last[:, model.key_index]
    key_map = key.transpose(1, 2).reshape(batch, dim, *grid)
    stages: dict[str, Callable[[], object]] = {"backbone": lambda: model.embed_frames(inputs.frames)}
    if not model.temporal:
        stages["head"] = lambda: model.head(key_map)
        return stages
    merge = cfg.merge_pruned
    with torch.inference_mode():
        query = model.high_resolution(key, inputs.key_intermediate, grid)
        context = model.temporal_branch(inputs.last, pruning_ratio, merge)
        fused_map = model.fusion(query, context).transpose(1, 2).reshape(batch, dim, grid[0] * 2, grid[1] * 2)
    stages["mgfe"] = lambda: (model.high_resolution(key, inputs.key_intermediate, grid),
                              model.temporal_branch(inputs.last, pruning_ratio, merge))
    stages["fusion"] = lambda: model.fusion(query, context)
    stages["head"] = lambda: model.head(key_map, fused_map)
    return stages


def _video_step(model: FTPPose, inputs: _Inputs, epsilon: float) -> Callable[[], object]:
    """Per window in video mode: one new frame through the per-frame half (backbone, and its pruning), then
    the window from the tokens its frames kept, as ``annotate`` runs it."""
    batch, window, num, dim = inputs.last.shape
    with torch.inference_mode():
        kept = model.keep_frame_tokens(inputs.last.flatten(0, 1), epsilon).reshape(batch, window, -1, dim)
    key_last = inputs.last[:, model.key_index].contiguous()

    def step() -> torch.Tensor:
        model.embed_and_keep(inputs.frames, epsilon)
        return model.estimate_kept(kept, key_last, inputs.key_intermediate)

    return step


def _measure_ratio(model: FTPPose, forward: Callable, inputs: _Inputs, pruning_ratio: float, options: BenchmarkOptions,
                   device: torch.device, flops: dict) -> RatioResult:
    cfg = model.config
    with PeakMemory(device) as meter:
        latency = time_callable(lambda: forward(inputs.clips, pruning_ratio), device, options.warmup, options.repeats)
    video = time_callable(_video_step(model, inputs, pruning_ratio), device, options.warmup, options.repeats)
    stage_ms = {name: time_callable(fn, device, options.warmup, options.repeats).median_ms
                for name, fn in stage_callables(model, inputs, pruning_ratio).items()}
    total = sum(stage_ms.values())
    stage_gflops = {name: cost.flops / 1e9 for name, cost in flops.items()}
    gflops_video = sum(stage_gflops.values())
    num = cfg.grid_size[0] * cfg.grid_size[1]
    return RatioResult(
        ratio=pruning_ratio,
        tokens_per_frame=keep_count(num, pruning_ratio) if model.temporal else num,
        gflops_per_clip=gflops_video + (cfg.window - 1) * stage_gflops["backbone"],
        gflops_video=gflops_video,
        stage_gflops=stage_gflops,
        latency=latency,
        video_latency=video,
        clips_per_s=1000.0 * options.batch_size / latency.median_ms,
        peak_memory_mb=meter.result.peak_mb,
        stage_ms=stage_ms,
        stage_share={name: ms / total for name, ms in stage_ms.items()},
    )


def run_benchmark(options: BenchmarkOptions, model: FTPPose | None = None,
                  heldout: HeldoutSet | None = None) -> BenchmarkResult:
    """Measure ``model`` (or the one ``options`` names) at every ratio; see the module docstring.

    ``heldout`` passes already loaded held-out data (otherwise ``options.data``
    is loaded when given). ``options.threads`` sets torch's intra-op threads
    for the run and restores them afterwards.
    """
    previous_threads = torch.get_num_threads()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    try:
        return _run(options, model, heldout)
    finally:
        torch.set_num_threads(previous_threads)


def _run(options: BenchmarkOptions, model: FTPPose | None, heldout: HeldoutSet | None) -> BenchmarkResult:
    device = resolve_device(options.device)
    if model is None:
        model, source = build_model(options)
    else:
        source = "given model"
        if options.window is not None:
            model = with_window(model, options.window, options.seed)
    if heldout is None and options.data is not None:
        heldout = load_heldout(options.data)
    dtype = _dtype(device, options.half)
    ratios = tuple(sorted({0.0, *(float(r) for r in options.ratios)}))
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    model = model.to(device).eval()
    single = with_window(model, 1, options.seed).to(device).eval()
    flops = {r: count_stage_flops(model, r, batch=1, backbone_per_window=False) for r in ratios}
    single_gflops = sum(c.flops for c in count_stage_flops(single, 0.0, batch=1).values()) / 1e9
    model = model.to(dtype)
    single = single.to(dtype)
    forward = torch.compile(model) if options.compile else model

    inputs = _inputs(model, options.batch_size, device, dtype, options.seed)
    single_frames = inputs.frames
    single_latency = time_callable(lambda: single(single_frames), device, options.warmup, options.repeats)
    rows = [_measure_ratio(model, forward, inputs, r, options, device, flops[r]) for r in ratios]
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None

    base = rows[0]
    rows = [dataclasses.replace(row, speedup_vs_ratio0=base.latency.median_ms / row.latency.median_ms,
                                speedup_vs_single_frame=single_latency.median_ms / row.video_latency.median_ms,
                                video_speedup_vs_ratio0=base.video_latency.median_ms / row.video_latency.median_ms)
            for row in rows]
    average_pose = None
    single_accuracy = None
    if heldout is not None:
        # Evaluation may move the model to another dtype (the estimator runs float32 on a CPU): timings are done.
        rows = [dataclasses.replace(row, accuracy=evaluate_heldout(model, heldout, row.ratio, options.flip_test,
                                                                   device, options.half)) for row in rows]
        single_accuracy = evaluate_heldout(single, heldout, 0.0, options.flip_test, device, options.half)
        average_pose = average_pose_baseline(heldout)

    return BenchmarkResult(
        model=model.config.to_dict(),
        source=source,
        device=str(device),
        dtype=str(dtype).removeprefix("torch."),
        batch_size=options.batch_size,
        window=model.config.window,
        compiled=options.compile,
        warmup=options.warmup,
        repeats=options.repeats,
        threads=torch.get_num_threads(),
        memory_kind="cuda max_memory_allocated" if device.type == "cuda" else "peak RSS (sampled)",
        rows=rows,
        single_frame=SingleFrameResult(single_gflops, single_latency, single_accuracy),
        average_pose=average_pose,
        environment={
            "torch": torch.__version__,
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
    )
