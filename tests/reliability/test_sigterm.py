"""SIGTERM (what `timeout`, containers, job schedulers and CI send) ends `annotate` the way Ctrl-C does.

A real signal needs a process of its own: the CLI runs in a subprocess whose
person source sends SIGTERM to its own process once 8 frames have been read,
so the signal lands mid-run at the same place every time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av

import ftppose_cli
from tests import video_factory as factory

_RUN_AND_TERMINATE = """
import os, signal, sys
from ftppose_cli.cli.app import main
from ftppose_cli.pipeline.annotator import BoxesFileSource

detect = BoxesFileSource.detect

def detect_then_terminate(self, images):
    if self._next >= 8:
        os.kill(os.getpid(), signal.SIGTERM)
    return detect(self, images)

BoxesFileSource.detect = detect_then_terminate
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_keeps_a_playable_video_and_a_json_flagged_interrupted(tiny_checkpoint: Path, boxes_json: Path,
                                                                       tmp_path: Path) -> None:
    video = factory.plain_video(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(ftppose_cli.__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_TERMINATE, "annotate", str(video), "--weights", str(tiny_checkpoint),
         "--boxes", str(boxes_json), "-o", str(out), "--batch-size", "4", "--quiet"],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 143, done.stderr
    document = json.loads((out / "plain.json").read_text())
    frames = len(document["images"])
    assert document["ftppose"]["interrupted"] is True and 0 < frames < 20
    with av.open(str(out / "plain.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == frames
    assert sorted(p.name for p in out.iterdir()) == ["plain.json", "plain.mp4"]  # no stray .partial
    assert done.stderr.strip() == f"interrupted: {video}: stopped by SIGTERM; kept the {frames} frames done"
