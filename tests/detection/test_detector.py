"""PersonDetector: letterbox, decoding, checkpoints, the batched API."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ftppose_cli.detection.detector import PersonDetector, decode, letterbox_batch, load_detector_network
from ftppose_cli.detection.network import create_detector
from ftppose_cli.errors import CheckpointError
from ftppose_cli.training.detector_targets import make_targets
from ftppose_cli.weights import DETECTOR, save_weights


@pytest.fixture(scope="module")
def tiny_detector_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = create_detector("tiny", input_size=128)
    path = tmp_path_factory.mktemp("det") / "detector"
    save_weights(model, path, DETECTOR, half=True, inference={"min_box_score": 0.25}, training={"note": "test"})
    return path.with_suffix(".safetensors"), model


def test_letterbox_round_trip() -> None:
    imgs = [np.zeros((480, 640, 3), np.uint8), np.zeros((300, 200, 3), np.uint8)]
    x, boxes = letterbox_batch(imgs, 416)
    assert x.shape[0] == 2 and x.shape[1] == 3
    assert x.shape[2] % 32 == 0 and x.shape[3] % 32 == 0
    assert x.shape[3] == 416 and x.shape[2] == 416  # the tall image sets the height
    lb = boxes[0]
    assert lb.scale == pytest.approx(416 / 640)
    xyxy = np.array([[10.0, 20.0, 300.0, 470.0]], np.float32)
    np.testing.assert_allclose(lb.to_original(lb.to_input(xyxy)), xyxy, atol=1e-3)
    # boxes beyond the image are clipped back into it
    out = boxes[1].to_original(np.array([[-5.0, -5.0, 1000.0, 1000.0]], np.float32))
    np.testing.assert_allclose(out, [[0, 0, 200, 300]])
    # the image sits top-left, the rest is grey padding
    assert float(x[1, 0, 0, 0]) == 0.0 and float(x[1, 0, 0, -1]) == 114.0


def test_decode_synthetic_heatmap() -> None:
    stride = 8
    heat = torch.full((1, 1, 10, 12), -10.0)
    heat[0, 0, 5, 7] = 3.0   # the peak
    heat[0, 0, 5, 8] = 2.0   # a weaker neighbour: removed by the 3x3 max-pool
    heat[0, 0, 1, 1] = -3.0  # below the threshold
    ltrb = torch.zeros(1, 4, 10, 12)
    ltrb[0, :, 5, 7] = torch.tensor([20.0, 30.0, 10.0, 40.0])
    (xyxy, scores), = decode(heat, ltrb, stride, min_box_score=0.3)
    cx, cy = (7 + 0.5) * stride, (5 + 0.5) * stride
    np.testing.assert_allclose(xyxy, [[cx - 20, cy - 30, cx + 10, cy + 40]], atol=1e-4)
    np.testing.assert_allclose(scores, [torch.sigmoid(torch.tensor(3.0)).item()], atol=1e-6)


def test_targets_decode_back_to_the_box() -> None:
    box = np.array([[40.0, 24.0, 104.0, 152.0]], np.float32)
    t = make_targets(box, np.zeros((0, 4), np.float32), 192, 160, 8)
    heat = t["heatmap"][0]
    i, j = np.unravel_index(heat.argmax(), heat.shape)
    assert heat[i, j] == 1.0
    cx, cy = (j + 0.5) * 8, (i + 0.5) * 8
    ltrb = np.zeros((4,) + heat.shape, np.float32)
    x1, y1, x2, y2 = t["box"][:, i, j]
    ltrb[:, i, j] = [cx - x1, cy - y1, x2 - cx, y2 - cy]
    logits = torch.from_numpy(np.log(heat.clip(1e-6, 1 - 1e-6) / (1 - heat.clip(1e-6, 1 - 1e-6))))[None, None]
    (xyxy, _), = decode(logits, torch.from_numpy(ltrb)[None], 8, min_box_score=0.5)
    np.testing.assert_allclose(xyxy, box, atol=1e-3)
    assert t["reg_weight"].sum() > 0


def test_checkpoint_round_trip(tiny_detector_ckpt) -> None:
    path, model = tiny_detector_ckpt
    loaded, stored = load_detector_network(path)
    assert stored.inference["min_box_score"] == 0.25 and stored.dtype == "float16" and stored.training["note"] == "test"
    assert loaded.config == model.config
    x = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        a, b = model.eval()(x), loaded(x)
    torch.testing.assert_close(a[0], b[0], atol=2e-2, rtol=1e-2)
    # the stem, the .json and the .safetensors all name the same checkpoint
    for p in (path, path.with_suffix(".json"), path.with_suffix("")):
        assert PersonDetector.from_checkpoint(p).min_box_score == 0.25


def test_detect_returns_supervision_detections(tiny_detector_ckpt) -> None:
    import supervision as sv

    path, _ = tiny_detector_ckpt
    det = PersonDetector.from_checkpoint(path, min_box_score=0.0)
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), rng.integers(0, 255, (90, 60, 3), dtype=np.uint8)]
    out = det.detect(imgs)
    assert len(out) == 2
    for d, img in zip(out, imgs):
        assert isinstance(d, sv.Detections)
        assert d.xyxy.shape[1] == 4 and len(d) > 0
        assert (d.class_id == 0).all() and d.confidence.shape == (len(d),)
        assert (d.xyxy[:, [0, 2]] <= img.shape[1]).all() and (d.xyxy[:, [1, 3]] <= img.shape[0]).all()
        assert (d.xyxy >= 0).all()
    assert det.detect([]) == []


class _SizeDependentNetwork:
    """Stands in for the network: what it finds depends on the input size, as a real one's does."""

    def __init__(self) -> None:
        from ftppose_cli.detection.network import DetectorConfig

        self.config = DetectorConfig(input_size=128)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = images.shape
        heat = torch.full((b, 1, h // 8, w // 8), -10.0)
        ltrb = torch.zeros((b, 4, h // 8, w // 8))
        if h == 128:  # the large input finds the small person: centre (20, 20), 8 px each way
            heat[:, 0, 2, 2], ltrb[:, :, 2, 2] = 3.0, 8.0
        else:  # the small input finds the large person and, less sure, the small one again
            heat[:, 0, 4, 4], ltrb[:, :, 4, 4] = 2.0, 20.0
            heat[:, 0, 1, 1], ltrb[:, :, 1, 1] = 0.0, torch.tensor([6.0, 6.0, 2.0, 2.0])
        return heat, ltrb


def test_several_input_sizes_are_merged_by_one_nms() -> None:
    """A person found at either size is kept; one found at both is kept once, at its best score."""
    image = np.zeros((160, 160, 3), np.uint8)  # scale 0.8 at 128 px, 0.4 at 64 px
    both = PersonDetector(_SizeDependentNetwork(), input_sizes=(128, 64), min_box_score=0.3, fuse=False)
    xyxy, scores = both.predict_raw([image])[0]
    np.testing.assert_allclose(xyxy, [[15, 15, 35, 35], [40, 40, 140, 140]], atol=1e-4)
    np.testing.assert_allclose(scores, torch.sigmoid(torch.tensor([3.0, 2.0])).numpy(), atol=1e-6)
    large_only = PersonDetector(_SizeDependentNetwork(), input_sizes=(64,), min_box_score=0.3, fuse=False)
    assert len(large_only.predict_raw([image])[0][1]) == 2  # no NMS across sizes with one size: both stay
    assert PersonDetector(_SizeDependentNetwork(), fuse=False).input_sizes == (128,)


def test_stored_input_sizes_are_the_default(tmp_path) -> None:
    model = create_detector("tiny", input_size=128)
    path, _ = save_weights(model, tmp_path / "detector", DETECTOR, inference={"input_sizes": [128, 96]})
    assert PersonDetector.from_checkpoint(path).input_sizes == (128, 96)
    assert PersonDetector.from_checkpoint(path, input_sizes=(64,)).input_sizes == (64,)
    with pytest.raises(ValueError, match="at least 32"):
        PersonDetector(model, input_sizes=(16,))


def test_wrong_checkpoints_raise_one_clear_error(tmp_path, tiny_detector_ckpt) -> None:
    path, _ = tiny_detector_ckpt
    with pytest.raises(CheckpointError, match="not found"):
        PersonDetector.from_checkpoint(tmp_path / "missing.safetensors")
    # corrupt weights
    bad = tmp_path / "bad"
    bad.with_suffix(".json").write_text(path.with_suffix(".json").read_text())
    bad.with_suffix(".safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="unreadable") as exc:
        PersonDetector.from_checkpoint(bad)
    assert "\n" not in str(exc.value)
    # not JSON / not a detector config
    other = tmp_path / "other"
    other.with_suffix(".safetensors").write_bytes(path.read_bytes())
    other.with_suffix(".json").write_text("{not json")
    with pytest.raises(CheckpointError, match="JSON"):
        PersonDetector.from_checkpoint(other)
    other.with_suffix(".json").write_text(json.dumps({"format": "ftppose-pose"}))
    with pytest.raises(CheckpointError, match="not a person-detector"):
        PersonDetector.from_checkpoint(other)
    # weights of another architecture
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["config"]["widths"] = [8, 16, 32, 64, 96]  # the same key in both schemas
    other.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        PersonDetector.from_checkpoint(other)
