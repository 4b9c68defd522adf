"""Int8 ONNX pose models: how much faster than float32 on ONNX Runtime, and how much held-out accuracy they cost.

Exports the pose model (float32), then quantises both halves with ONNX Runtime's tools two ways:

* dynamic: int8 weights of every MatMul, activations quantised on the fly;
* static (QDQ): int8 weights (per channel) and uint8 activations with ranges
  calibrated on the people of the example clip (``--calibration``, never the
  held-out set), MatMuls only. Quantising the convolutions too (the stem and
  the head's deconvolutions) moved keypoints 3.5x further from float32 on
  other real videos (mean 1.4 % of the box against 0.4 %) for no more speed,
  so they stay float32.

Speed: video mode (one new frame per window, then the window), the three
variants round-robin in one loop. Accuracy: PCK and PCKh on ``../shared/data/heldout``
at each ratio, and the loss against float32 in points. ``ftppose`` would offer int8
only where every loss is under 1 point (issue 33) and it is faster; the verdict is printed.

    python benchmarks/measure_int8.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from ftppose_cli.benchmarking.agreement import sample_frames
from ftppose_cli.benchmarking.backends import compare_backends
from ftppose_cli.benchmarking.heldout import predict_people
from ftppose_cli.crops import to_model_input
from ftppose_cli.detection.detector import PersonDetector
from ftppose_cli.evaluation.heldout import load_heldout, score_predictions
from ftppose_cli.export import POSE_FRAMES, POSE_WINDOW, export_pose
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.models.pruning import keep_count
from ftppose_cli.onnx_backend import OnnxPoseModel
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.runtime import default_detector_weights, default_pose_weights, example_clip

REPO = Path(__file__).resolve().parents[1]
LOSS_LIMIT = 0.01  # 1 PCK point


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=default_pose_weights())
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "heldout")
    parser.add_argument("--calibration", type=Path, default=example_clip(),
                        help="video whose people calibrate the static ranges (every 3rd of its first 60 frames)")
    parser.add_argument("--ratios", default="0,0.5,0.9")
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=15)
    return parser.parse_args()


class _Feeds:
    """An ONNX Runtime calibration data reader over a list of input dicts."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def _calibration_feeds(fp32: OnnxPoseModel, video: Path, ratios: list[float]) -> tuple[list[dict], list[dict]]:
    """Inputs of both halves on real people: their crops, and windows at each ratio's token count."""
    detector = PersonDetector.from_checkpoint(default_detector_weights())
    estimator = PoseEstimator(fp32)
    crops = []
    for frame in sample_frames(video, 60)[::3]:
        (boxes, _), = detector.predict_raw([frame])
        if len(boxes):
            crops.append(estimator._crops(frame, boxes)[0])
    images = to_model_input(np.concatenate(crops))
    batches = [images[i:i + 8] for i in range(0, len(images) - 7, 8)]  # equal shapes: the calibrators stack them
    frame_feeds = [{"images": batch} for batch in batches]
    window_feeds = []
    for batch in batches:
        last, intermediate, ranked = fp32.frames_session.run(None, {"images": batch})
        for ratio in ratios:
            kept = last if ratio == 0 else ranked[:, :keep_count(last.shape[1], ratio)]
            window_feeds.append({"kept": np.ascontiguousarray(np.stack([kept] * fp32.config.window, 1)),
                                 "key_last": last, "key_intermediate": intermediate})
    return frame_feeds, window_feeds


def _quantise(folder: Path, fp32: OnnxPoseModel, calibration: Path,
              ratios: list[float]) -> dict[str, tuple[Path, Path]]:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    frame_feeds, window_feeds = _calibration_feeds(fp32, calibration, ratios)
    out: dict[str, dict[str, Path]] = {"int8 dynamic": {}, "int8 static": {}}
    for name, feeds in ((POSE_FRAMES, frame_feeds), (POSE_WINDOW, window_feeds)):
        prepared = folder / f"prepared_{name}"
        quant_pre_process(str(folder / name), str(prepared), skip_symbolic_shape=True)
        out["int8 dynamic"][name] = folder / f"dynamic_{name}"
        quantize_dynamic(str(prepared), str(out["int8 dynamic"][name]), weight_type=QuantType.QInt8)
        out["int8 static"][name] = folder / f"static_{name}"
        quantize_static(str(prepared), str(out["int8 static"][name]), _Feeds(feeds), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        op_types_to_quantize=["MatMul", "Gemm"], calibrate_method=CalibrationMethod.MinMax)
    return {variant: (files[POSE_FRAMES], files[POSE_WINDOW]) for variant, files in out.items()}


def main() -> None:
    args = _parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    ratios = [float(r) for r in args.ratios.split(",")]
    data = load_heldout(args.data)
    with tempfile.TemporaryDirectory(prefix="ftppose-int8-") as tmp:
        folder = Path(tmp)
        export_pose(load_model(args.weights), folder)
        networks = {"float32": OnnxPoseModel(folder / POSE_FRAMES, folder / POSE_WINDOW, args.threads)}
        for variant, (frames, window) in _quantise(folder, networks["float32"], args.calibration, ratios).items():
            networks[variant] = OnnxPoseModel(frames, window, args.threads)
        sizes = {variant: sum(p.stat().st_size for p in network.paths) / 1e6 for variant, network in networks.items()}
        load_before = os.getloadavg()
        speed = {batch: compare_backends(networks, (0.5,), batch, 3, args.repeats)
                 for batch in (int(b) for b in args.batch_sizes.split(","))}
        load_after = os.getloadavg()
        scores = {}
        for variant, network in networks.items():
            for ratio in ratios:
                pred, _ = predict_people(data, PoseEstimator(network, pruning_ratio=ratio))
                scores[(variant, ratio)] = score_predictions(data.people, pred)["overall"]

    print(f"{args.threads or 'default'} threads, load average {load_before[0]:.1f} -> {load_after[0]:.1f}; "
          f"held-out: {len(data.people)} people")
    print("\nspeed, video mode at ratio 0.5 (ms per call of B windows; x float32: faster than ONNX Runtime float32)")
    for batch, rows in speed.items():
        for row in rows:
            if row.ratio == 0.5:
                print(f"  B={batch:<3d} {row.backend:13s} {row.video.median_ms:8.1f} ms  x{row.speedup_vs_torch:.2f}"
                      f"   ({sizes[row.backend]:.1f} MB)")
    print("\nheld-out accuracy (loss against float32 in points)")
    verdict = {}
    for variant in networks:
        for ratio in ratios:
            s, base = scores[(variant, ratio)], scores[("float32", ratio)]
            cells = [(s.pck[t], base.pck[t]) for t in (0.05, 0.1, 0.2)] + [(s.pckh, base.pckh)]
            losses = [100 * (b - v) for v, b in cells if v is not None and b is not None]
            verdict[variant] = max(verdict.get(variant, 0.0), max(losses))
            shown = "  ".join(f"{v:.3f} ({100 * (v - b):+.1f})" for v, b in cells if v is not None)
            print(f"  {variant:13s} ratio {ratio:<4g} PCK@.05/.1/.2, PCKh@.5: {shown}")
    for variant in networks:
        if variant != "float32":
            worst = verdict[variant]
            gain = min(row.speedup_vs_torch for rows in speed.values() for row in rows
                       if row.backend == variant and row.ratio == 0.5)
            if worst >= 100 * LOSS_LIMIT:
                decision = "not offered (a loss of 1 point or more)"
            elif gain <= 1.0:
                decision = "not offered (no faster than float32)"
            else:
                decision = "may be offered (under 1 point, faster)"
            print(f"{variant}: largest loss {worst:.2f} points, at least x{gain:.2f} float32's speed -> {decision}")


if __name__ == "__main__":
    main()
