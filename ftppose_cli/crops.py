"""Person crops: box -> affine warp to the model's input, and back.

Top-down pose models see one person at a time at a fixed size. A box is
enlarged (1.25x by default, as in ViTPose) and padded to the input's aspect
ratio so the person is not squashed; the inverse affine maps heatmap
coordinates back to the image. The video pipeline, the training datasets and
the held-out baselines all crop with these functions, so they live below all
three.
"""

from __future__ import annotations

import cv2
import numpy as np


def box_to_center_scale(
    boxes_xyxy: np.ndarray, aspect: float = 192 / 256, padding: float = 1.25
) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(n, 2)`` and crop sizes ``(n, 2)`` (w, h) in pixels, with the given w/h aspect."""
    boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
    center = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    wider = w > aspect * h
    h = np.where(wider, w / aspect, h)
    w = np.where(wider, w, h * aspect)
    return center, np.stack([w, h], axis=1) * padding


def normalise_poses(keypoints: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
    """Joints ``(n, 17, 2)`` relative to the crop the model would see for each box: minus its
    centre, divided by the aspect-padded crop size. The frame in which image-blind poses are averaged."""
    centers, sizes = box_to_center_scale(np.asarray(boxes_xyxy, np.float32).reshape(-1, 4))
    return (np.asarray(keypoints, np.float32) - centers[:, None]) / sizes[:, None]


def place_poses(poses: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalise_poses`: normalised poses (one per box, or one for all) to pixels."""
    centers, sizes = box_to_center_scale(np.asarray(boxes_xyxy, np.float32).reshape(-1, 4))
    return (np.asarray(poses, np.float32) * sizes[:, None] + centers[:, None]).astype(np.float32)


def crop_affine(center: np.ndarray, size: np.ndarray, out_size: tuple[int, int], rotation: float = 0.0) -> np.ndarray:
    """2x3 affine taking the image region (centre, size (w, h), rotation in degrees) to ``out_size`` (H, W)."""
    out_h, out_w = out_size
    scale = out_w / float(size[0])
    angle = np.deg2rad(rotation)
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    # Rotate and scale about the centre, then move the centre to the middle of the output.
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]], dtype=np.float64)
    matrix[:, 2] = np.array([out_w / 2.0, out_h / 2.0]) - matrix[:, :2] @ np.asarray(center, dtype=np.float64)
    return matrix


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(matrix)


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to points ``(..., 2)``."""
    pts = np.asarray(points, dtype=np.float64)
    return (pts @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def warp_crop(image: np.ndarray, matrix: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """Warp the image with ``matrix`` to ``out_size`` (H, W); outside pixels are black."""
    return cv2.warpAffine(
        image, matrix, (out_size[1], out_size[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


# ImageNet statistics (RGB, of pixels in [0, 1]), as the ViT family expects; the ONNX export quotes them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_MEAN = np.array(IMAGENET_MEAN, dtype=np.float32) * 255.0
_STD = np.array(IMAGENET_STD, dtype=np.float32) * 255.0


def to_model_input(crops_bgr: np.ndarray) -> np.ndarray:
    """``(..., H, W, 3)`` uint8 BGR -> ``(..., 3, H, W)`` float32 normalised RGB.

    The channels are moved while the pixels are still bytes and the arithmetic
    is done in place: the same floats as normalising first, about 8x faster
    (it was a tenth of the pose stage's time on ONNX Runtime).
    """
    planes = np.ascontiguousarray(np.moveaxis(crops_bgr[..., ::-1], -1, -3)).astype(np.float32)
    planes -= _MEAN[:, None, None]
    planes /= _STD[:, None, None]
    return planes
