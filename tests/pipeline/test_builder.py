"""build_annotator: where the command line's detector settings reach the detector."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ftppose_cli.pipeline.annotator import AnnotateOptions
from ftppose_cli.pipeline.builder import build_annotator
from ftppose_cli.runtime import default_detector_weights


def test_detector_keeps_its_own_settings_unless_overridden(tiny_checkpoint: Path, tmp_path: Path) -> None:
    options = AnnotateOptions(output_dir=tmp_path, weights=tiny_checkpoint, device="cpu")
    stored = build_annotator(options).people
    assert stored.input_sizes == tuple(stored.weights.inference.get("input_sizes", [stored.model.config.input_size]))
    assert stored.min_box_score == stored.weights.inference["min_box_score"]
    chosen = build_annotator(replace(options, min_box_score=0.5, detector_input_sizes=(288,))).people
    assert (chosen.input_sizes, chosen.min_box_score) == ((288,), 0.5)
    assert build_annotator(replace(options, detector_input_sizes=(416, 256))).people.input_sizes == (416, 256)
    assert default_detector_weights().exists()
