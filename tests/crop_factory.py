"""A small synthetic crop cache in the layout `build_crop_cache` writes, for training tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def synthetic_crop_cache(root: Path, count: int = 24, side: int = 96, seed: int = 0) -> Path:
    """Bright blobs at the joints on a dark background, 3-frame windows, two scenes."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    crops = np.lib.format.open_memmap(root / "crops.npy", mode="w+", dtype=np.uint8, shape=(count, 3, side, side, 3))
    keypoints = rng.uniform(side * 0.3, side * 0.7, size=(count, 17, 2)).astype(np.float32)
    for i in range(count):
        for t in range(3):
            frame = np.full((side, side, 3), 20, np.uint8)
            for x, y in keypoints[i].astype(int):
                frame[max(0, y - 1):y + 2, max(0, x - 1):x + 2] = 230
            crops[i, t] = frame
    crops.flush()
    np.savez(root / "meta.npz", keypoints=keypoints, visibility=np.ones((count, 17), np.float32),
             box_extent=np.full(count, side / 1.6, np.float32),
             box_wh=np.tile(np.array([[side / 2.5, side / 1.6]], np.float32), (count, 1)),
             scene=np.array(["a" if i % 2 else "b" for i in range(count)]), source=np.array(["x"] * count),
             frame=np.arange(count))
    (root / "info.json").write_text(json.dumps({"side": side, "radius": 1, "count": count}))
    return root
