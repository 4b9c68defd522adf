"""`torchrun --nproc_per_node 2 -m ftppose_cli annotate / eval --data`: inputs shared out, one merged report.

Two CPU processes with the gloo backend, as on a machine without GPUs; the
same code gives each rank its own GPU where there are some.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ftppose_cli.distributed import Ranks, shard
from tests import video_factory as factory

REPO = Path(__file__).resolve().parents[2]


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "ftppose_cli", *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def test_shares_are_balanced_disjoint_and_complete() -> None:
    items, sizes = list("abcdef"), [50, 10, 40, 30, 20, 5]
    shares = [shard(items, sizes, Ranks(rank, 2, rank)) for rank in range(2)]
    assert shares == [["a", "b", "e"], ["c", "d", "f"]]  # 80 and 75 bytes, each in input order
    assert shard(items, sizes, Ranks()) == items and shard([], [], Ranks(1, 3, 1)) == []
    assert Ranks.from_env() == Ranks() and Ranks().device("auto") == "auto"


def test_annotate_on_two_processes_writes_each_video_once_and_one_report(tiny_checkpoint: Path,
                                                                         tmp_path: Path) -> None:
    videos = [factory.write_video(tmp_path / f"v{i}.mp4", frames=6) for i in range(3)]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"image_id": i, "bbox": [2, 2, 20, 40], "score": 0.9} for i in range(6)]))
    result = _torchrun("annotate", *map(str, videos), str(tmp_path / "missing.mp4"), "--weights",
                       str(tiny_checkpoint), "--boxes", str(boxes), "-o", str(tmp_path / "out"), "--threads", "1",
                       "--report-json", str(tmp_path / "report.json"), cwd=tmp_path)
    assert result.returncode != 0  # the missing input fails the run, after the others are done
    assert result.stderr.count("missing.mp4: no such file or folder") == 1, result.stderr[-3000:]
    saved = [line for line in result.stdout.splitlines() if "Saved:" in line]
    assert {line.split(": Saved")[0] for line in saved} == {"rank 0", "rank 1"} and len(saved) == 3, result.stdout
    for video in videos:  # each video by exactly one rank
        assert sum(f"{video.stem}.mp4," in line for line in saved) == 1
        assert (tmp_path / "out" / f"{video.stem}.json").exists()
    report = json.loads((tmp_path / "report.json").read_text())
    assert sorted(Path(r["video"]).name for r in report) == ["v0.mp4", "v1.mp4", "v2.mp4"]
    assert result.stdout.count("speed report") == 1
    assert "ftppose_cli/" not in result.stderr  # no traceback of ours (torchrun prints its own for the exit code 1)


def test_eval_run_mode_on_two_processes_scores_once(tiny_checkpoint: Path, tmp_path: Path, shared_data: Path) -> None:
    root = shared_data / "heldout" / "mmpose_posetrack18"
    result = _torchrun("eval", "--data", str(root), "--boxes", "gt", "--weights", str(tiny_checkpoint),
                       "-o", str(tmp_path / "pred"), "--report-json", str(tmp_path / "scores.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "pred" / "val").glob("*.json")) == sorted(
        p.name for p in (root / "annotations" / "val").glob("*.json"))
    assert result.stdout.count("Average Precision") == 1 and "sequences scored: 3" in result.stdout
    assert json.loads((tmp_path / "scores.json").read_text())
