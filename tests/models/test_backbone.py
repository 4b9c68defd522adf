"""ViT backbone stems: the convolutional stem keeps the token grid, and checkpoints record which stem they use."""

from __future__ import annotations

import pytest
import torch

from ftppose_cli.models.backbone import ViTBackbone, conv_stem_embed
from ftppose_cli.models.ftppose import FTPPoseConfig, create_model, load_model
from ftppose_cli.weights import POSE, save_weights


def test_conv_stem_gives_the_same_tokens_shape_as_the_patch_stem() -> None:
    images = torch.randn(2, 3, 64, 48)
    shapes = {}
    for stem in ("patch", "conv"):
        backbone = ViTBackbone(img_size=(64, 48), embed_dim=64, depth=2, num_heads=2, stem=stem).eval()
        last, intermediate = backbone(images)
        shapes[stem] = (last.shape, intermediate.shape)
    assert shapes["conv"] == shapes["patch"] == ((2, 12, 64), (2, 12, 64))


def test_conv_stem_is_four_stride_two_convolutions_ending_at_the_embedding_width() -> None:
    embed = conv_stem_embed(img_size=(64, 48), patch_size=16, in_chans=3, embed_dim=64, bias=True)
    convs = [m for m in embed.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.stride, c.kernel_size) for c in convs] == [
        (8, (2, 2), (3, 3)), (16, (2, 2), (3, 3)), (32, (2, 2), (3, 3)), (64, (2, 2), (3, 3))]
    assert embed.grid_size == (4, 3)


def test_tokens_depend_on_pixels_within_their_own_patch_and_its_neighbours_only() -> None:
    """The stem's receptive field is local: a pixel change far from a token's patch leaves that token alone."""
    torch.manual_seed(0)
    embed = conv_stem_embed(img_size=(64, 48), patch_size=16, in_chans=3, embed_dim=32).eval()
    images = torch.randn(1, 3, 64, 48)
    changed = images.clone()
    changed[:, :, 60:, 44:] += 1.0  # bottom-right patch
    with torch.no_grad():
        before, after = embed(images), embed(changed)
    moved = (before - after).abs().amax(dim=-1).reshape(4, 3)
    assert moved[3, 2] > 0
    assert torch.all(moved[:2] == 0) and torch.all(moved[:, 0] == 0)


def test_non_power_of_two_patch_is_refused() -> None:
    with pytest.raises(ValueError, match="power-of-two"):
        conv_stem_embed(img_size=(60, 48), patch_size=12, in_chans=3, embed_dim=32)


def test_unknown_stem_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stem"):
        ViTBackbone(img_size=(64, 48), embed_dim=32, depth=1, num_heads=2, stem="hybrid")


def test_conv_stem_checkpoint_round_trips_and_old_configs_mean_the_patch_stem(tmp_path) -> None:
    torch.manual_seed(0)
    model = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1, window=1, stem="conv").eval()
    save_weights(model, tmp_path / "conv", POSE, half=False)
    loaded = load_model(tmp_path / "conv.safetensors")
    assert loaded.config.stem == "conv"
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    legacy = {k: v for k, v in model.config.to_dict().items() if k != "stem"}
    assert FTPPoseConfig.from_dict(legacy).stem == "patch"
