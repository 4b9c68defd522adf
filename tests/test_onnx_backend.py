"""The ONNX Runtime backend: the same poses and boxes as PyTorch, exports on first use, clear errors."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ftppose_cli.benchmarking.agreement import detector_agreement, pose_agreement
from ftppose_cli.errors import CheckpointError, FtpposeError
from ftppose_cli.export import POSE_FRAMES, POSE_WINDOW
from ftppose_cli.models.ftppose import create_model, load_model
from ftppose_cli.onnx_backend import OnnxPoseModel, detector_onnx, load_detector, make_session, onnx_models
from ftppose_cli.pipeline.estimator import PoseEstimator
from ftppose_cli.pipeline.windows import FrameEntry, WindowScheduler
from ftppose_cli.weights import DETECTOR, POSE, save_weights

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _frames(count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(count)]


BOXES = np.array([[10, 10, 60, 110], [80, 5, 150, 115]], np.float32)


@pytest.mark.parametrize("ratio", [0.0, 0.5])
def test_poses_on_onnx_runtime_are_pytorch_poses(tiny_checkpoint: Path, tiny_onnx_export: Path, ratio: float) -> None:
    """The same windows through both backends: the same heatmaps, so the same keypoints.

    The tiny model is random, its heatmaps flat, so sub-pixel refinement is
    ill-conditioned there; the keypoints are held to ``ftppose export``'s
    tolerance (half a crop pixel) and the heatmaps, which carry the agreement, tightly.
    """
    onnx = OnnxPoseModel(tiny_onnx_export / POSE_FRAMES, tiny_onnx_export / POSE_WINDOW, threads=1)
    model = load_model(tiny_checkpoint)
    for flip_test in (False, True):
        reference = PoseEstimator(model, pruning_ratio=ratio, flip_test=flip_test)
        exported = PoseEstimator(onnx, pruning_ratio=ratio, flip_test=flip_test)
        agreement = pose_agreement(reference, exported, _frames(), BOXES)
        assert agreement.windows == 8 and agreement.max_crop_px < 0.5 and agreement.max_score < 1e-4
    scheduler = WindowScheduler(1)
    features = PoseEstimator(onnx, pruning_ratio=ratio).embed_people(_frames(3), [BOXES] * 3)
    for index, frame in enumerate(features):
        scheduler.push(FrameEntry(index, None, BOXES, np.ones(2), np.arange(2), frame))
    windows = scheduler.windows(scheduler.flush()).windows
    with torch.no_grad():
        expected = model.estimate_kept(windows.kept, windows.key_last, windows.key_intermediate)
    actual = onnx.estimate_kept(windows.kept, windows.key_last, windows.key_intermediate)
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)


def test_each_frame_gives_the_window_its_first_ranked_tokens(tiny_onnx_export: Path) -> None:
    onnx = OnnxPoseModel(tiny_onnx_export / POSE_FRAMES, tiny_onnx_export / POSE_WINDOW)
    images = torch.randn(2, 3, 64, 48)
    last, _, kept = onnx.embed_and_keep(images, 0.0)
    assert kept is last
    _, _, kept = onnx.embed_and_keep(images, 0.5)
    assert kept.shape == (2, 6, 192)


def test_a_checkpoint_is_exported_once_into_the_cache(tiny_checkpoint: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTPPOSE_CACHE", str(tmp_path / "cache"))
    said: list[str] = []
    first = onnx_models(tiny_checkpoint, on_export=said.append)
    again = onnx_models(tiny_checkpoint, on_export=said.append)
    assert first == again and first.pose_frames.is_file() and first.detector is None
    assert len(said) == 1 and "first use" in said[0]
    # Other weights are other files.
    torch.manual_seed(1)
    other = tmp_path / "other" / "pose"
    save_weights(create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1), other, POSE, half=False)
    assert onnx_models(other.with_suffix(".safetensors"), on_export=said.append).pose_frames != first.pose_frames
    assert len(said) == 2


def test_an_export_folder_is_used_as_it_is(tiny_onnx_export: Path) -> None:
    files = onnx_models(tiny_onnx_export, on_export=lambda line: pytest.fail(line))
    assert files.pose_frames == tiny_onnx_export / POSE_FRAMES and files.detector is None


def test_halves_of_two_exports_are_refused(tiny_onnx_export: Path, tmp_path: Path) -> None:
    from ftppose_cli.export import export_pose

    torch.manual_seed(3)
    other = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1).eval()
    export_pose(other, tmp_path, source={"checkpoint": "other.safetensors", "sha256": "0" * 64})
    with pytest.raises(CheckpointError, match="different checkpoints"):
        OnnxPoseModel(tiny_onnx_export / POSE_FRAMES, tmp_path / POSE_WINDOW)


def test_files_that_are_not_an_ftppose_export_are_named(tiny_onnx_export: Path, tmp_path: Path) -> None:
    import onnx

    model = onnx.load(str(tiny_onnx_export / POSE_FRAMES))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    with pytest.raises(CheckpointError, match="bare.onnx: not an ONNX file written by ftppose export"):
        OnnxPoseModel(tmp_path / "bare.onnx", tiny_onnx_export / POSE_WINDOW)
    with pytest.raises(CheckpointError, match="is the pose_window part of an export, expected pose_frames"):
        OnnxPoseModel(tiny_onnx_export / POSE_WINDOW, tiny_onnx_export / POSE_WINDOW)
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(CheckpointError, match="junk.onnx: ONNX Runtime cannot load it"):
        make_session(tmp_path / "junk.onnx")


def test_without_onnx_runtime_the_error_says_what_to_install(tiny_onnx_export: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(FtpposeError, match=r"not installed: pip install -e \"\.\[onnx\]\"") as error:
        OnnxPoseModel(tiny_onnx_export / POSE_FRAMES, tiny_onnx_export / POSE_WINDOW)
    assert "\n" not in str(error.value)


def test_the_detector_on_onnx_runtime_finds_the_same_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftppose_cli.detection.detector import PersonDetector
    from ftppose_cli.detection.network import create_detector

    monkeypatch.setenv("FTPPOSE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    network = create_detector("tiny", input_size=128).eval()
    torch.nn.init.constant_(network.heat_head[-1].bias, 0.0)  # centres everywhere, so there are boxes to compare
    weights, _ = save_weights(network, tmp_path / "detector", DETECTOR, half=False, inference={"min_box_score": 0.45})
    onnx = load_detector(detector_onnx(weights), threads=1)
    assert onnx.min_box_score == 0.45 and onnx.input_sizes == (128,)
    agreement = detector_agreement(PersonDetector.from_checkpoint(weights), onnx, _frames(2))
    assert agreement.boxes > 0 and agreement.unmatched == 0 and agreement.max_box_px < 0.01


def test_a_folder_without_an_export_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="folder without pose_frames.onnx"):
        onnx_models(tmp_path)
    shutil.rmtree(tmp_path)
    with pytest.raises(CheckpointError, match="pose checkpoint file not found"):
        onnx_models(tmp_path / "nothing.safetensors")
