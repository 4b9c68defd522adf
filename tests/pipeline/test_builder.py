"""build_annotator: where the command line's detector settings reach the detector."""

from __future__ import annotations

from pathlib import Path

from ftppose_cli.pipeline.annotate import AnnotateOptions
from ftppose_cli.pipeline.builder import build_annotator
from ftppose_cli.runtime import default_detector_weights


def test_detector_keeps_its_own_settings_unless_overridden(tiny_checkpoint: Path, tmp_path: Path) -> None:
    options = AnnotateOptions(output_dir=tmp_path)
    stored = build_annotator(options, weights=tiny_checkpoint, device="cpu").people
    assert stored.input_size == stored.model.config.input_size
    assert stored.conf == stored.weights.inference["min_box_score"]
    chosen = build_annotator(options, weights=tiny_checkpoint, device="cpu", det_thr=0.5, det_size=288).people
    assert (chosen.input_size, chosen.conf) == (288, 0.5)
    assert default_detector_weights().exists()
