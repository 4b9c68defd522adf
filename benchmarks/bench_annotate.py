"""End-to-end speed of `ftppose annotate` and its memory on long videos.

Prints, on this machine:
* fps on the example clip with the shipped weights at pruning ratio 0 and 0.5,
  and with the same weights run as the single-frame model (K = 1: backbone and
  head only, the bound the pipeline approaches), each stage's share of the time;
* peak RSS of a 300-frame and a 3000-frame video (streaming: the two must be
  within 10 %), with synthetic moving people given as a boxes file so the
  pose stage does real work on every frame.

    python benchmarks/bench_annotate.py [--repeats 3] [--skip-memory]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "vtest_short.mp4"


def _annotate_speed(weights: Path | None, pruning_ratio: float, single_frame: bool, repeats: int) -> dict:
    from ftppose_cli.models.ftppose import FTPPose, load_model
    from ftppose_cli.pipeline.annotator import AnnotateOptions, VideoAnnotator
    from ftppose_cli.pipeline.builder import build_annotator
    from ftppose_cli.pipeline.estimator import PoseEstimator
    from ftppose_cli.runtime import default_pose_weights

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        options = AnnotateOptions(output_dir=Path(tmp), overwrite=True, weights=weights, pruning_ratio=pruning_ratio)
        annotator = build_annotator(options)
        if single_frame:
            model = load_model(weights or default_pose_weights())
            single = FTPPose(dataclasses.replace(model.config, window=1))
            single.load_state_dict(model.state_dict(), strict=False)  # backbone + head only
            annotator = VideoAnnotator(PoseEstimator(single, pruning_ratio=0.0), annotator.people, options)
        for _ in range(repeats):
            report = annotator.annotate(CLIP)
            runs.append(report)
    fps = [r.fps for r in runs]
    best = runs[int(np.argsort(fps)[len(fps) // 2])]
    total = sum(best.stage_seconds.values())
    return {"fps_median": statistics.median(fps), "fps_runs": fps, "frames": best.frames,
            "person_frames": best.person_frames,
            "stage_ms_per_frame": best.stage_ms_per_frame(),
            "stage_share": {k: v / total for k, v in best.stage_seconds.items()}}


def _synthetic_video(path: Path, frames: int, size=(320, 240)) -> Path:
    """Grey frames with three walking "people" (dark rectangles) and their boxes file beside it."""
    boxes = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 120, np.uint8)
            for k in range(3):
                x = int((i * (2 + k) + 60 * k) % (size[0] - 40))
                y = 40 + 50 * k
                image[y:y + 90, x:x + 35] = 40 + 30 * k
                boxes.append({"image_id": i, "bbox": [x, y, 35, 90], "score": 0.9, "category_id": 1})
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    path.with_suffix(".boxes.json").write_text(json.dumps(boxes))
    return path


def _peak_rss_mb(video: Path, out: Path) -> float:
    code = (
        "import resource, sys\n"
        "from ftppose_cli.cli.app import main\n"
        f"rc = main(['annotate', {str(video)!r}, '--boxes', {str(video.with_suffix('.boxes.json'))!r},"
        f" '--output-dir', {str(out)!r}, '--overwrite', '--quiet'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    results = {}
    for name, eps, single in (("K=3, ratio 0", 0.0, False), ("K=3, ratio 0.5", 0.5, False),
                              ("K=1 bound (backbone + head)", 0.0, True)):
        results[name] = r = _annotate_speed(args.weights, eps, single, args.repeats)
        shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in r["stage_share"].items())
        print(f"{name:>28}: {r['fps_median']:.2f} fps (median of {args.repeats}; {r['frames']} frames, "
              f"{r['person_frames']} person-frames) | {shares}")
    bound = results["K=1 bound (backbone + head)"]["fps_median"]
    print(f"ratio 0.5 reaches {100 * results['K=3, ratio 0.5']['fps_median'] / bound:.0f}% of the K=1 bound; "
          f"ratio 0 reaches {100 * results['K=3, ratio 0']['fps_median'] / bound:.0f}%")
    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            rss = {n: _peak_rss_mb(_synthetic_video(tmp / f"long_{n}.mp4", n), tmp / "out") for n in (300, 3000)}
        print(f"peak RSS: 300 frames {rss[300]:.0f} MB, 3000 frames {rss[3000]:.0f} MB "
              f"(ratio {rss[3000] / rss[300]:.3f}; streaming target <= 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
