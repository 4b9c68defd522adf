"""FTP-Pose assembly: shapes, the epsilon = 0 path, single-frame equivalence, batch independence."""

from __future__ import annotations

import pytest
import torch

import ftppose_cli.models.mgfe as mgfe
from ftppose_cli.models.ftppose import FTPPose, config_for, create_model
from ftppose_cli.weights import POSE

# A tiny input keeps every size affordable on a CPU: 64x48 -> 4x3 tokens.
SMALL_INPUT = dict(img_size=(64, 48))


def _model(size: str = "tiny", **overrides) -> FTPPose:
    torch.manual_seed(0)
    return create_model(size, **{**SMALL_INPUT, "depth": 2, "temporal_depth": 1, **overrides}).eval()


@pytest.mark.parametrize("size", POSE.sizes)
def test_every_size_builds_with_its_width_and_gives_heatmaps(size: str) -> None:
    model = _model(size)
    assert model.config.embed_dim == config_for(size).embed_dim
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        out = model(x, epsilon=0.5)
    assert out.shape == (2, 17, 16, 12)


def test_registered_depths_follow_vitpose() -> None:
    assert [(config_for(s).embed_dim, config_for(s).depth) for s in ("small", "base", "large", "huge")] == [
        (384, 12), (768, 12), (1024, 24), (1280, 32)]


def test_backbone_returns_last_and_intermediate_tokens() -> None:
    model = _model()
    last, inter = model.embed_frames(torch.randn(5, 3, 64, 48))
    assert last.shape == inter.shape == (5, 12, 192)
    assert not torch.equal(last, inter)


def test_epsilon_zero_never_enters_the_pruning_code(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        reference = model(x, epsilon=0.0)

    def forbidden(*args, **kwargs):
        raise AssertionError("pruning code ran at epsilon = 0")

    monkeypatch.setattr(mgfe, "prune_tokens", forbidden)
    with torch.no_grad():
        again = model(x, epsilon=0.0)
    assert torch.equal(reference, again)


def test_keeping_every_token_through_the_pruning_path_is_bit_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _trained_temporal_model()  # with the temporal entry at zero the tokens could not matter
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        reference = model(x, epsilon=0.0)
    monkeypatch.setattr(mgfe, "keep_count", lambda num, eps: num)
    with torch.no_grad():
        through_pruning = model(x, epsilon=0.5)
    assert torch.equal(reference, through_pruning)


def test_pruning_changes_the_output_once_the_temporal_path_is_trained() -> None:
    model = _model()
    torch.nn.init.normal_(model.head.temporal_entry.weight)
    x = torch.randn(1, 3, 3, 64, 48)
    with torch.no_grad():
        assert not torch.equal(model(x, 0.0), model(x, 0.75))


def test_fresh_temporal_model_predicts_exactly_as_its_single_frame_weights() -> None:
    single = _model(window=1)
    video = FTPPose(single.config.__class__(**{**single.config.__dict__, "window": 3})).eval()
    missing, unexpected = video.load_state_dict(single.state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("high_resolution", "temporal_branch", "fusion", "head.temporal"))
                                  for k in missing)
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        for eps in (0.0, 0.5, 0.9):
            assert torch.equal(video(x, eps), single(x[:, 1]))


def test_one_persons_output_does_not_depend_on_the_rest_of_the_batch() -> None:
    model = _model()
    x = torch.randn(4, 3, 3, 64, 48)
    with torch.no_grad():
        for eps in (0.0, 0.5):
            together = model(x, eps)
            alone = torch.cat([model(x[i:i + 1], eps) for i in range(4)])
            torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


def test_encode_then_decode_equals_forward() -> None:
    model = _model()
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        last, inter = model.embed_frames(x.flatten(0, 1))
        split = model.estimate_window(last.view(2, 3, *last.shape[1:]), inter.view(2, 3, *inter.shape[1:])[:, 1], 0.5)
        torch.testing.assert_close(split, model(x, 0.5))


def test_window_must_be_odd() -> None:
    with pytest.raises(ValueError, match="odd"):
        config_for("tiny", window=2)


def test_wrong_window_length_is_refused() -> None:
    with pytest.raises(ValueError, match="windows of 3"):
        _model()(torch.randn(1, 5, 3, 64, 48))


def _trained_temporal_model() -> FTPPose:
    model = _model()
    torch.nn.init.normal_(model.head.temporal_entry.weight)  # the temporal path counts
    return model


def test_each_frame_pruned_once_gives_the_windows_output() -> None:
    model = _trained_temporal_model()
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        last, inter = model.embed_frames(x.flatten(0, 1))
        windows = last.view(2, 3, *last.shape[1:])
        key_inter = inter.view(2, 3, *inter.shape[1:])[:, 1]
        for eps in (0.0, 0.5, 0.9):
            _, _, kept = model.embed_and_keep(x.flatten(0, 1), eps)
            split = model.estimate_kept(kept.view(2, 3, *kept.shape[1:]), windows[:, 1], key_inter)
            assert torch.equal(split, model.estimate_window(windows, key_inter, eps))
        assert model.keep_frame_tokens(last, 0.0) is last


def test_ranked_tokens_cut_to_a_ratio_give_that_ratios_output() -> None:
    model = _trained_temporal_model()
    x = torch.randn(2, 3, 3, 64, 48)
    with torch.no_grad():
        last, inter = model.embed_frames(x.flatten(0, 1))
        ranked = model.rank_frame_tokens(last).view(2, 3, *last.shape[1:])
        windows, key_inter = last.view(2, 3, *last.shape[1:]), inter.view(2, 3, *inter.shape[1:])[:, 1]
        for eps, keep in ((0.5, 6), (0.9, 2)):
            from_ranked = model.estimate_kept(ranked[:, :, :keep], windows[:, 1], key_inter)
            expected = model.estimate_window(windows, key_inter, eps)
            torch.testing.assert_close(from_ranked, expected, rtol=1e-4, atol=1e-5)
