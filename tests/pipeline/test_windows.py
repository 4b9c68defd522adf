"""Windows over cached features: backbone once per person-frame, edge padding, bounded memory."""

from __future__ import annotations

import numpy as np
import torch

from ftppose_cli.models.ftppose import create_model
from ftppose_cli.pipeline.estimator import PersonFeatures, PoseEstimator
from ftppose_cli.pipeline.windows import FrameEntry, WindowScheduler


def _entry(index: int, tracks: list[int], dim: int = 2) -> FrameEntry:
    """A frame whose people carry their (frame, track) in the first two feature channels."""
    n = len(tracks)
    last = torch.zeros(n, 1, dim)
    for row, track in enumerate(tracks):
        last[row, 0, 0] = index
        last[row, 0, 1] = track
    feats = PersonFeatures(last, last.clone(), np.zeros((n, 2, 3)))
    return FrameEntry(index, None, np.zeros((n, 4)), np.ones(n), np.array(tracks, dtype=int), feats)


def _run(frames: list[list[int]], radius: int = 1) -> list[tuple[int, int, list[int]]]:
    """(frame, track, frames used in its window) for every person, in emission order."""
    scheduler = WindowScheduler(radius)
    out = []

    def consume(ready):
        if not ready:
            return
        batch = scheduler.windows(ready)
        row = 0
        for entry, count in zip(batch.entries, batch.counts):
            for _ in range(count):
                window = batch.windows.kept[row, :, 0]
                out.append((entry.index, int(window[radius, 1]), [int(v) for v in window[:, 0]]))
                row += 1

    for i, tracks in enumerate(frames):
        consume(scheduler.push(_entry(i, tracks)))
    consume(scheduler.flush())
    return out


def test_full_windows_use_the_neighbouring_frames_of_the_same_track() -> None:
    result = _run([[0, 1], [0, 1], [0, 1], [0, 1]])
    assert (1, 0, [0, 1, 2]) in result and (2, 1, [1, 2, 3]) in result
    assert [r[0] for r in result] == [0, 0, 1, 1, 2, 2, 3, 3]  # every frame, in order


def test_tracks_starting_or_ending_mid_window_repeat_their_edge_frame() -> None:
    result = _run([[0], [0, 1], [0, 1], [1]])
    windows = {(f, t): w for f, t, w in result}
    assert windows[(0, 0)] == [0, 0, 1]  # video start
    assert windows[(1, 1)] == [1, 1, 2]  # track 1 starts at frame 1
    assert windows[(2, 0)] == [1, 2, 2]  # track 0 ends at frame 2
    assert windows[(3, 1)] == [2, 3, 3]  # video end


def test_a_missed_frame_is_padded_towards_the_key_frame() -> None:
    windows = {(f, t): w for f, t, w in _run([[0], [], [0], [0], [0]], radius=2)}
    assert windows[(2, 0)] == [0, 2, 2, 3, 4]


def test_scheduler_keeps_only_the_frames_windows_can_still_need() -> None:
    scheduler = WindowScheduler(1)
    for i in range(50):
        ready = scheduler.push(_entry(i, [0]))
        if ready:
            scheduler.windows(ready)
        assert len(scheduler._frames) <= 3


def test_backbone_runs_once_per_person_frame_and_matches_the_full_forward() -> None:
    torch.manual_seed(0)
    model = create_model("tiny", img_size=(64, 48), depth=2, temporal_depth=1).eval()
    torch.nn.init.normal_(model.head.temporal_entry.weight)  # make the temporal path count
    estimator = PoseEstimator(model, pruning_ratio=0.5)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(5)]
    boxes = np.array([[10, 10, 60, 110], [80, 5, 150, 115]], np.float32)
    scheduler = WindowScheduler(1)
    features = estimator.embed_people(images, [boxes] * 5)
    results = []
    for i, f in enumerate(features):
        entry = FrameEntry(i, None, boxes, np.ones(2), np.array([0, 1]), f)
        for ready in (scheduler.push(entry),):
            if ready:
                b = scheduler.windows(ready)
                results.append(estimator.estimate_windows(b.windows, b.to_image))
    b = scheduler.windows(scheduler.flush())
    results.append(estimator.estimate_windows(b.windows, b.to_image))
    assert estimator.backbone_crops == 10  # 5 frames x 2 people, not 3x that
    # Frame 2's window is frames 1..3: compare with the model's own forward on those crops.
    crops = [estimator._crops(img, boxes)[0] for img in images[1:4]]
    from ftppose_cli.crops import to_model_input

    clip = torch.from_numpy(np.stack([to_model_input(c) for c in crops], axis=1))  # (2, 3, 3, H, W)
    with torch.no_grad():
        heatmaps = model(clip, 0.5)
    from ftppose_cli.models.decoding import decode_output

    _, scores = decode_output(heatmaps, model.config.heatmap_kind)
    np.testing.assert_allclose(results[2][1], scores.numpy(), rtol=1e-4, atol=1e-5)
