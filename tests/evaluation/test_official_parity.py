"""Parity with the official evaluators, checked without them: their recorded numbers on random cases.

``benchmarks/eval_parity.py`` generates random PoseTrack cases (crowds,
occlusion, jitter, left/right swaps, missed / extra / duplicate people, track
switches, sparse labels, ignore regions, whole-pixel coordinates, tied and
missing scores), scores each with the official tool in its own environment
and with ftppose, and can record the first cases: their seeds, a digest of
the generated files and every figure the official tool gave (to 10 digits). The
fixtures here came from that harness:

* ``data/poseval_parity.json``: poseval (Python 3 port, motmetrics 1.4.0,
  numpy 1.23.5): AP, precision, recall, MOTA, MOTP, MOT precision / recall,
  per joint, per group and total.
* ``data/posetrack21_parity.json``: the PoseTrack21 kit (numpy 1.23.5,
  scipy 1.10.1): mAP with precision / recall, HOTA, DetA, AssA, LocA.

Each case is regenerated from its seed (the digest catches a changed
generator: re-record then) and every figure must match to 1e-6, far inside
the 0.01 the figures are printed to.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

_HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_parity.py"
_spec = importlib.util.spec_from_file_location("eval_parity", _HARNESS)
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-6


def _cases(fixture: str) -> list[dict]:
    """Each recorded case with its figures by name (NaN where the official tool gave NaN)."""
    document = json.loads((DATA / fixture).read_text())
    return [{"seed": case["seed"], "digest": case["digest"],
             "figures": {name: math.nan if value is None else value
                         for name, value in zip(document["figures"], case["values"])}}
            for case in document["cases"]]


def _check(case: dict, version: str, tmp_path: Path) -> None:
    files = harness.build_case(case["seed"], version)
    assert harness.case_digest(files) == case["digest"], "the case generator changed: re-record the fixture"
    gt_dir, pred_dir = harness.write_case(files, tmp_path)
    ours = (harness.ftppose_figures(gt_dir, pred_dir, "2018") if version == "18"
            else harness.ftppose_pt21_figures(gt_dir, pred_dir))
    wrong = {}
    for key, expected in case["figures"].items():
        if harness.difference(expected, ours[key]) > TOLERANCE:
            wrong[key] = (expected, ours[key])
    assert not wrong, f"seed {case['seed']}: official vs ftppose {wrong}"


@pytest.mark.parametrize("case", _cases("poseval_parity.json"), ids=lambda case: f"seed{case['seed']}")
def test_poseval_figures(case: dict, tmp_path: Path) -> None:
    _check(case, "18", tmp_path)


@pytest.mark.parametrize("case", _cases("posetrack21_parity.json"), ids=lambda case: f"seed{case['seed']}")
def test_posetrack21_kit_figures(case: dict, tmp_path: Path) -> None:
    _check(case, "21", tmp_path)
