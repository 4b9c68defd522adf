"""Training: a loss that falls, exact resume, sampled pruning ratios, DDP on CPU with gloo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ftppose_cli
from ftppose_cli.models.ftppose import load_model
from ftppose_cli.training.trainer import TrainConfig, train
from tests.crop_factory import synthetic_crop_cache

SMALL = {"img_size": (64, 48), "depth": 2, "temporal_depth": 1}


def _config(cache: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig(cache=str(cache), out_dir=str(out), size="tiny", window=3, epochs=2, samples_per_epoch=16,
                       batch_size=4, warmup_steps=2, num_workers=0, val_scenes=("a",), model_overrides=SMALL)
    return replace(base, **overrides)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_crop_cache(tmp_path_factory.mktemp("cache"))


def test_training_writes_a_loadable_checkpoint_and_history(cache: Path, tmp_path: Path) -> None:
    best = train(_config(cache, tmp_path / "run"))
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) == 2 and {"loss", "pck@0.1", "pck@0.2", "any_side@0.1"} <= set(history[0])
    assert all(h["any_side@0.1"] >= h["pck@0.1"] for h in history)  # either side can only count more joints
    model = load_model(best)
    assert model.config.window == 3 and model.config.img_size == (64, 48)
    document = json.loads(best.with_suffix(".json").read_text())
    assert document["inference"]["pruning_ratios"] == [0.0, 0.25, 0.5, 0.75, 0.9]


def test_resume_continues_exactly(cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    train(_config(cache, tmp_path / "straight"))
    torch.manual_seed(0)
    train(_config(cache, tmp_path / "resumed", stop_after=1))
    assert len(json.loads((tmp_path / "resumed" / "history.json").read_text())) == 1
    train(_config(cache, tmp_path / "resumed"))  # picks up last.pt
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=False)["model"]
    resumed = torch.load(tmp_path / "resumed" / "last.pt", weights_only=False)["model"]
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


def test_weight_average_is_exported_and_resumes_exactly(cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    train(_config(cache, tmp_path / "straight", ema_decay=0.9))
    torch.manual_seed(0)
    train(_config(cache, tmp_path / "resumed", ema_decay=0.9, stop_after=1))
    train(_config(cache, tmp_path / "resumed", ema_decay=0.9))
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=False)
    resumed = torch.load(tmp_path / "resumed" / "last.pt", weights_only=False)
    for key in straight["ema"]:
        assert torch.equal(straight["ema"][key], resumed["ema"][key]), key
    key = "head.final.weight"
    assert not torch.equal(straight["ema"][key], straight["model"][key])  # an average, not a copy
    train(_config(cache, tmp_path / "one", ema_decay=0.9, epochs=1))  # one epoch: it is the best
    exported = load_file(str(tmp_path / "one" / "best.safetensors"))
    averaged = torch.load(tmp_path / "one" / "last.pt", weights_only=False)["ema"]
    assert torch.equal(exported[key].float(), averaged[key].half().float())
    latest = load_file(str(tmp_path / "straight" / "last.safetensors"))  # the last epoch, best or not
    assert torch.equal(latest[key].float(), straight["ema"][key].half().float())


@pytest.fixture(scope="module")
def single_frame_weights(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("single_frame")
    train(_config(cache, out, epochs=1, window=1))
    return out / "best.safetensors"


def _second_stage(cache: Path, init: Path, out: Path, **overrides) -> tuple[dict, dict]:
    """Weights before and after one K = 3 epoch started from ``init``."""
    train(_config(cache, out, epochs=1, init_from=str(init), **overrides))
    return load_file(str(init)), torch.load(out / "last.pt", weights_only=False)["model"]


def test_frozen_backbone_stays_fixed(cache: Path, single_frame_weights: Path, tmp_path: Path) -> None:
    before, after = _second_stage(cache, single_frame_weights, tmp_path / "second", freeze_backbone=True)
    assert torch.equal(before["backbone.vit.blocks.0.attn.qkv.weight"].float(),
                       after["backbone.vit.blocks.0.attn.qkv.weight"].half().float())
    assert not torch.equal(before["head.final.weight"].float(), after["head.final.weight"].half().float())


def test_temporal_only_keeps_single_frame_predictions_fixed(cache: Path, single_frame_weights: Path,
                                                            tmp_path: Path) -> None:
    before, after = _second_stage(cache, single_frame_weights, tmp_path / "second", temporal_only=True)
    for key in ("backbone.vit.blocks.0.attn.qkv.weight", "head.deconv1.1.running_mean", "head.final.weight"):
        assert torch.equal(before[key].float(), after[key].half().float()), key
    assert after["head.temporal_entry.weight"].abs().sum() > 0


def test_two_process_ddp_with_gloo(cache: Path, tmp_path: Path) -> None:
    script = tmp_path / "ddp.py"
    script.write_text(
        "import sys\n"
        "from ftppose_cli.training.trainer import TrainConfig, train\n"
        f"train(TrainConfig(cache={str(cache)!r}, out_dir={str(tmp_path / 'ddp')!r}, size='tiny', window=3,\n"
        "    epochs=1, samples_per_epoch=16, batch_size=4, warmup_steps=2, num_workers=0, val_scenes=('a',),\n"
        f"    threads=1, device='cpu', model_overrides={SMALL!r}))\n"
    )
    package_root = str(Path(ftppose_cli.__file__).parents[1])  # this checkout, not another installed copy
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         str(script)], capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "ddp" / "best.safetensors").exists()
    assert len(json.loads((tmp_path / "ddp" / "history.json").read_text())) == 1


def test_lspet_validation_people_are_scored_apart_and_capped(tmp_path: Path) -> None:
    import numpy as np

    from ftppose_cli.formats.lspet import LSPET_VAL_SCENE
    from ftppose_cli.training.datasets import CropCache
    from ftppose_cli.training.trainer import validation_groups

    root = synthetic_crop_cache(tmp_path / "cache")
    meta = dict(np.load(root / "meta.npz"))
    meta["scene"] = np.array(["a", LSPET_VAL_SCENE, "b"] * 8)
    np.savez(root / "meta.npz", **meta)
    cache = CropCache(root)
    _, val = cache.split_by_scene({"a", LSPET_VAL_SCENE})
    groups = validation_groups(cache, val, max_people=5)
    assert set(groups) == {"", "lspet/"}
    assert set(cache.scene[groups["lspet/"]]) == {LSPET_VAL_SCENE} and set(cache.scene[groups[""]]) == {"a"}
    assert len(groups[""]) == len(groups["lspet/"]) == 5
    assert len(validation_groups(cache, val, None)["lspet/"]) == 8
    history_run = train(_config(root, tmp_path / "run", val_scenes=("a", LSPET_VAL_SCENE), epochs=1))
    history = json.loads((history_run.parent / "history.json").read_text())
    assert {"pck@0.1", "lspet/pck@0.1", "lspet/pck@0.1@eps0.5"} <= set(history[0])
