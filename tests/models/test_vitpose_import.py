"""Key mapping from an mmpose ViTPose state dict, on a synthetic one with mmpose's names."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ftppose_cli.errors import CheckpointError
from ftppose_cli.models.ftppose import create_model
from ftppose_cli.models.vitpose_import import load_vitpose_checkpoint


def _mmpose_state(model, head_prefix: str = "keypoint_head") -> dict[str, torch.Tensor]:
    """What an mmpose ViTPose checkpoint of the same size holds, with random values."""
    ours = model.state_dict()
    state: dict[str, torch.Tensor] = {}
    state["backbone.patch_embed.proj.weight"] = torch.randn_like(ours["backbone.vit.patch_embed.proj.weight"])
    state["backbone.patch_embed.proj.bias"] = torch.randn_like(ours["backbone.vit.patch_embed.proj.bias"])
    pos = ours["backbone.vit.pos_embed"]
    state["backbone.pos_embed"] = torch.randn(1, pos.shape[1] + 1, pos.shape[2])  # with a class-token slot
    for key, value in ours.items():
        if key.startswith("backbone.vit.blocks."):
            state[key.replace("backbone.vit.", "backbone.")] = torch.randn_like(value.float())
    state["backbone.last_norm.weight"] = torch.randn_like(ours["backbone.vit.norm.weight"])
    state["backbone.last_norm.bias"] = torch.randn_like(ours["backbone.vit.norm.bias"])
    names = {"deconv1.0": "deconv_layers.0", "deconv1.1": "deconv_layers.1", "deconv2.0": "deconv_layers.3",
             "deconv2.1": "deconv_layers.4", "final": "final_layer"}
    for key, value in ours.items():
        for mine, theirs in names.items():
            if key.startswith(f"head.{mine}."):
                state[key.replace(f"head.{mine}.", f"{head_prefix}.{theirs}.")] = (
                    value.clone() if value.dtype == torch.long else torch.randn_like(value.float()).abs())
    return state


@pytest.mark.parametrize("head_prefix", ["keypoint_head", "head"])
def test_every_backbone_and_head_tensor_is_mapped(tmp_path: Path, head_prefix: str) -> None:
    torch.manual_seed(0)
    model = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1).eval()
    state = _mmpose_state(model, head_prefix)
    torch.save({"state_dict": state, "meta": {}}, tmp_path / "vitpose.pth")
    load_vitpose_checkpoint(tmp_path / "vitpose.pth", model)
    loaded = model.state_dict()
    torch.testing.assert_close(loaded["backbone.vit.pos_embed"], state["backbone.pos_embed"][:, 1:])
    torch.testing.assert_close(loaded["backbone.vit.blocks.1.attn.qkv.weight"],
                               state["backbone.blocks.1.attn.qkv.weight"])
    torch.testing.assert_close(loaded["backbone.vit.norm.weight"], state["backbone.last_norm.weight"])
    torch.testing.assert_close(loaded["head.deconv2.1.running_var"],
                               state[f"{head_prefix}.deconv_layers.4.running_var"])
    torch.testing.assert_close(loaded["head.final.bias"], state[f"{head_prefix}.final_layer.bias"])
    # The temporal entry stays zero, so the imported model predicts as the single-frame ViTPose would.
    assert torch.count_nonzero(loaded["head.temporal_entry.weight"]) == 0


def test_wrong_size_is_named(tmp_path: Path) -> None:
    small = create_model("small", img_size=(64, 48), depth=2, temporal_depth=1)
    torch.save({"state_dict": _mmpose_state(small)}, tmp_path / "vitpose_s.pth")
    tiny = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1)
    with pytest.raises(CheckpointError, match="pick the matching --size"):
        load_vitpose_checkpoint(tmp_path / "vitpose_s.pth", tiny)


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "x.pth").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_vitpose_checkpoint(tmp_path / "x.pth", create_model("tiny", img_size=(64, 48), depth=2))
