"""ONNX export round trip on a tiny model: both pose halves and the detector against PyTorch, their metadata."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ftppose_cli.errors import FtpposeError
from ftppose_cli.export import POSE_FRAMES, POSE_WINDOW, export_detector, export_pose
from ftppose_cli.models.ftppose import create_model, load_model
from ftppose_cli.models.pruning import keep_count

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_the_per_frame_half_gives_the_backbone_tokens_and_their_dpc_knn_order(tiny_checkpoint: Path,
                                                                              tiny_onnx_export: Path) -> None:
    model = load_model(tiny_checkpoint)
    session = _session(tiny_onnx_export / POSE_FRAMES)
    for batch in (1, 3):  # the batch is dynamic
        images = torch.randn(batch, 3, 64, 48)
        last, intermediate, ranked = session.run(None, {"images": images.numpy()})
        with torch.no_grad():
            ref_last, ref_intermediate = model.embed_frames(images)
            ref_ranked = model.rank_frame_tokens(ref_last)
        np.testing.assert_allclose(last, ref_last.numpy(), atol=1e-4)
        np.testing.assert_allclose(intermediate, ref_intermediate.numpy(), atol=1e-4)
        np.testing.assert_allclose(ranked, ref_ranked.numpy(), atol=1e-4)


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.9])
def test_the_window_half_takes_the_ratio_as_its_token_count(tiny_checkpoint: Path, tiny_onnx_export: Path,
                                                           ratio: float) -> None:
    model = load_model(tiny_checkpoint)
    session = _session(tiny_onnx_export / POSE_WINDOW)
    with torch.no_grad():
        last, intermediate = model.embed_frames(torch.randn(6, 3, 64, 48))
        kept = model.rank_frame_tokens(last)[:, :keep_count(last.shape[1], ratio)] if ratio else last
        windows = kept.reshape(2, 3, *kept.shape[1:])
        key_last, key_intermediate = last.reshape(2, 3, *last.shape[1:])[:, 1], intermediate.reshape(2, 3, 12, -1)[:, 1]
        expected = model.estimate_kept(windows, key_last, key_intermediate)
        # The unpruned model sees the grid order; the order of the kept tokens changes only the rounding.
        reference = model.estimate_window(last.reshape(2, 3, *last.shape[1:]), key_intermediate, ratio)
        without_temporal_tokens = model.estimate_kept(windows * 0, key_last, key_intermediate)
    heatmaps, = session.run(None, {"kept": windows.contiguous().numpy(), "key_last": key_last.contiguous().numpy(),
                                   "key_intermediate": key_intermediate.contiguous().numpy()})
    assert heatmaps.shape == (2, 17, 16, 12)
    np.testing.assert_allclose(heatmaps, expected.numpy(), atol=1e-4)
    np.testing.assert_allclose(heatmaps, reference.numpy(), atol=1e-4)
    assert not np.allclose(expected.numpy(), without_temporal_tokens.numpy())  # the kept tokens matter


def test_metadata_says_how_to_run_the_files(tiny_onnx_export: Path) -> None:
    for name, part in ((POSE_FRAMES, "pose_frames"), (POSE_WINDOW, "pose_window")):
        metadata = _session(tiny_onnx_export / name).get_modelmeta().custom_metadata_map
        assert metadata["ftppose.part"] == part and metadata["ftppose.format"] == "ftppose-onnx"
        assert json.loads(metadata["ftppose.input_size"]) == [64, 48]
        assert json.loads(metadata["ftppose.joint_names"])[:3] == ["nose", "head_bottom", "head_top"]
        assert "ceil((1 - epsilon) * 12)" in metadata["ftppose.pruning"]
        assert json.loads(metadata["ftppose.source"])["checkpoint"] == "pose.safetensors"
        assert len(json.loads(metadata["ftppose.source"])["sha256"]) == 64


def test_a_single_frame_model_exports_a_head_on_its_frames_tokens(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("tiny", img_size=(64, 48), depth=2, window=1).eval()
    frames, window = export_pose(model, tmp_path)
    session = _session(window)
    assert [i.name for i in session.get_inputs()] == ["key_last"]
    images = torch.randn(2, 3, 64, 48)
    last, _, _ = _session(frames).run(None, {"images": images.numpy()})
    heatmaps, = session.run(None, {"key_last": last})
    with torch.no_grad():
        np.testing.assert_allclose(heatmaps, model(images).numpy(), atol=1e-4)


def test_a_model_merging_pruned_tokens_is_refused(tmp_path: Path) -> None:
    model = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1, merge_pruned=True).eval()
    with pytest.raises(FtpposeError, match="merge"):
        export_pose(model, tmp_path)
    assert not list(tmp_path.iterdir())


def test_existing_files_are_kept_without_overwrite(tiny_checkpoint: Path, tiny_onnx_export: Path) -> None:
    before = {path: path.read_bytes() for path in tiny_onnx_export.iterdir()}
    with pytest.raises(FtpposeError, match="output exists; pass --overwrite"):
        export_pose(load_model(tiny_checkpoint), tiny_onnx_export)
    assert {path: path.read_bytes() for path in tiny_onnx_export.iterdir()} == before  # nothing new, nothing changed


def test_without_the_exporter_packages_the_error_says_what_to_install(tiny_checkpoint: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import fails as if it were not installed
    with pytest.raises(FtpposeError, match=r"pip install -e \"\.\[onnx\]\""):
        export_pose(load_model(tiny_checkpoint), tmp_path)


def test_the_detector_exports_with_a_dynamic_batch_and_image_size(tmp_path: Path) -> None:
    from ftppose_cli.detection.network import create_detector

    torch.manual_seed(0)
    network = create_detector("tiny", input_size=96).eval()
    for module in network.modules():  # BatchNorms with statistics, so folding them is tested
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    inference = {"min_box_score": 0.3, "nms_iou": 0.5, "input_sizes": [96, 64]}
    path = export_detector(network, tmp_path / "detector.onnx", inference=inference)
    session = _session(path)
    metadata = session.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["ftppose.inference"]) == inference
    assert json.loads(metadata["ftppose.detector_config"])["input_size"] == 96
    for shape in ((1, 3, 96, 64), (2, 3, 64, 128)):
        images = torch.rand(*shape) * 255
        heat, ltrb = session.run(None, {"images": images.numpy()})
        with torch.no_grad():
            ref_heat, ref_ltrb = network(images)
        np.testing.assert_allclose(heat, ref_heat.numpy(), atol=1e-3)
        np.testing.assert_allclose(ltrb, ref_ltrb.numpy(), atol=1e-2)
