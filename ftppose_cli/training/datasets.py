"""The pose training dataset over the crop cache.

Each item is a window of K augmented 256x192 crops of one person plus the key
frame's heatmap targets. Sampling weights balance scenes (the corpus is
dominated by two of them), so an epoch is a number of draws, not a pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ftppose_cli.crops import box_to_center_scale, crop_affine, normalise_poses, to_model_input, warp_crop
from ftppose_cli.formats.joints import JOINT_INDEX, flip_permutation
from ftppose_cli.training.augment import (
    aspect_stretch,
    background_patch,
    blur_face,
    body_mask,
    cover_face,
    degrade_key_frame,
    jitter_affine,
    neighbour_offset,
    occlude,
    paste_neighbour,
    paste_on_background,
    photometric,
    random_geometry,
)
from ftppose_cli.training.targets import gaussian_heatmaps
from ftppose_cli.training.teacher_labels import TEACHER_VAL_SCENES

VISIBLE = 0.5


class CropCache:
    """Read-only view of a cache written by :func:`build_crop_cache`."""

    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        self.info = json.loads((root / "info.json").read_text())
        self.crops = np.load(root / "crops.npy", mmap_mode="r")
        meta = np.load(root / "meta.npz")
        self.keypoints = meta["keypoints"]
        self.visibility = meta["visibility"]
        self.box_wh = meta["box_wh"]
        self.scene = meta["scene"]
        self.source = meta["source"]
        self.frame = meta["frame"]

    def __len__(self) -> int:
        return len(self.keypoints)

    @property
    def val_scenes(self) -> set[str]:
        """The validation scenes recorded when the cache was built (older teacher caches: the teacher's pair)."""
        return set(self.info.get("val_scenes", TEACHER_VAL_SCENES))

    def split_by_scene(self, val_scenes: set[str]) -> tuple[np.ndarray, np.ndarray]:
        is_val = np.isin(self.scene, sorted(val_scenes))
        return np.flatnonzero(~is_val), np.flatnonzero(is_val)

    def boxes(self, indices: np.ndarray) -> np.ndarray:
        """Teacher boxes ``(n, 4)`` xyxy in cached pixels: every crop is centred on its person's box."""
        half = self.crops.shape[2] / 2
        wh = self.box_wh[indices].reshape(-1, 2)
        return np.concatenate([half - wh / 2, half + wh / 2], axis=1)

    def mean_pose(self, indices: np.ndarray) -> np.ndarray:
        """Per-joint mean ``(17, 2)`` of these people's labelled joints (visibility >= 0.5), normalised
        by the crop the model sees (``normalise_poses``); 0 (the crop centre) for a joint never labelled.

        Placed in a box it is the best image-blind guess this data allows: the baseline a model
        trained on these people must beat to have learned anything from the pixels.
        """
        norm = normalise_poses(self.keypoints[indices], self.boxes(indices))
        weight = (self.visibility[indices] >= VISIBLE)[..., None]
        return ((norm * weight).sum(0) / np.maximum(weight.sum(0), 1)).astype(np.float32)

    def scene_weights(self, indices: np.ndarray, power: float = 0.5, balance_facing: bool = False) -> np.ndarray:
        """Per-sample weights so a scene with n people is drawn about n**power times as often as one with 1.

        ``balance_facing`` then gives people seen from behind as many draws as people facing the
        camera (side views and people without both shoulders keep their share). The photos, drawn
        most often per person, nearly all face the camera, so without it a model learns that people
        face the camera, and calls the sides of people seen from behind the wrong way round.
        """
        scenes = self.scene[indices]
        _, inverse, counts = np.unique(scenes, return_inverse=True, return_counts=True)
        w = counts[inverse].astype(np.float64) ** (power - 1.0)
        w = w / w.sum()
        if balance_facing:
            facing = self.facing(indices)
            away, towards = facing < 0, facing > 0
            if away.any() and towards.any():
                both = w[away].sum() + w[towards].sum()
                w[away] *= both / 2 / w[away].sum()
                w[towards] *= both / 2 / w[towards].sum()
        return w

    def facing(self, indices: np.ndarray) -> np.ndarray:
        """+1 facing the camera, -1 seen from behind, 0 side view or shoulders unlabelled.

        An upright person faces the camera when their left shoulder is on the image's right;
        a shoulder gap under 5 % of the box width is a side view.
        """
        left, right = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
        kp, vis = self.keypoints[indices], self.visibility[indices]
        gap = kp[:, left, 0] - kp[:, right, 0]
        labelled = (vis[:, left] >= VISIBLE) & (vis[:, right] >= VISIBLE)
        margin = 0.05 * self.box_wh[indices, 0]
        return np.where(labelled & (gap > margin), 1, np.where(labelled & (gap < -margin), -1, 0))


def _then(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine that applies ``inner`` first, then ``outer``."""
    return outer @ np.vstack([inner, [0.0, 0.0, 1.0]])


class PoseWindowDataset(Dataset):
    """Windows of K crops around cached people, augmented when ``train``."""

    def __init__(
        self,
        cache: CropCache,
        indices: np.ndarray,
        window: int = 1,
        input_size: tuple[int, int] = (256, 192),
        heatmap_size: tuple[int, int] = (64, 48),
        train: bool = True,
        seed: int = 0,
        background_paste: float = 0.0,
        aspect_jitter: float = 0.0,
        neighbour_paste: float = 0.0,
        synthetic_back: float = 0.0,
        face_blur: float = 0.0,
        key_frame_degrade: float = 0.0,
    ) -> None:
        self.cache = cache
        self.indices = np.asarray(indices)
        self.window = window
        self.input_size = input_size
        self.heatmap_size = heatmap_size
        self.train = train
        self.seed = seed
        self.background_paste = background_paste  # probability of moving the person onto another background
        self.aspect_jitter = aspect_jitter  # std of the log vertical stretch of the crop
        self.neighbour_paste = neighbour_paste  # probability of pasting another person beside this one
        self.synthetic_back = synthetic_back  # probability of turning a person facing the camera into a back view
        self.face_blur = face_blur  # probability of blurring the face of a person still facing the camera
        self.key_frame_degrade = key_frame_degrade  # probability of spoiling the key frame of a window (K > 1)
        self.epoch = 0
        self.draws: np.ndarray | None = None
        self.flip_perm = flip_permutation()
        self._mirror = np.array([[-1.0, 0.0, input_size[1] - 1.0], [0.0, 1.0, 0.0]])  # left-right in input pixels
        cached_window = cache.crops.shape[1]
        if window > cached_window:
            raise ValueError(f"cache holds windows of {cached_window} frames, {window} requested")
        centre = cached_window // 2
        self.slots = list(range(centre - window // 2, centre + window // 2 + 1))

    def __len__(self) -> int:
        return len(self.indices) if self.draws is None else len(self.draws)

    def set_epoch(self, epoch: int, draws: np.ndarray | None = None) -> None:
        """Reseed augmentation per epoch so resumed runs replay the same draws.

        ``draws`` (positions into ``indices``, repeats allowed) makes item i of
        the epoch its i-th draw, seeded by i: a person drawn many times in an
        epoch (the few photo people are drawn ~25 times each) gets a new
        augmentation every time instead of the same crop over and over, which
        the model would memorise within the epoch.
        """
        self.epoch = epoch
        self.draws = None if draws is None else np.asarray(draws)

    def _donor(self, rng: np.random.Generator) -> int:
        """Another person of this split (never a validation person) to borrow pixels from."""
        return int(self.indices[rng.integers(len(self.indices))])

    def _key_frame(self, index: int) -> np.ndarray:
        """The cached centre frame of person ``index``."""
        return np.asarray(self.cache.crops[index, self.cache.crops.shape[1] // 2])

    def _crop_region(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Centre and size (w, h) of the unaugmented crop of cached person ``index`` (cached pixels)."""
        center, size = box_to_center_scale(self.cache.boxes(np.array([index])),
                                           aspect=self.input_size[1] / self.input_size[0])
        return center[0], size[0]

    def _add_neighbour(self, crops: np.ndarray, joints: np.ndarray, weights: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
        """Paste another cached person beside (behind or in front of) this one, on every frame."""
        donor = self._donor(rng)
        placed = crop_affine(*self._crop_region(donor), self.input_size, 0.0)
        matrix = _then(neighbour_offset(rng, self.input_size), placed)
        if rng.random() < 0.5:  # the neighbour faces either way, whatever the person does
            matrix = _then(self._mirror, matrix)
        neighbour = warp_crop(self._key_frame(donor), matrix, self.input_size)
        donor_joints = self.cache.keypoints[donor] @ matrix[:, :2].T + matrix[:, 2]
        donor_visible = (self.cache.visibility[donor] >= VISIBLE).astype(np.float32)
        return paste_neighbour(crops, body_mask(joints, weights, self.input_size), neighbour,
                               body_mask(donor_joints, donor_visible, self.input_size), in_front=rng.random() < 0.3)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        index = int(self.indices[item if self.draws is None else self.draws[item]])
        rng = np.random.default_rng((self.seed, self.epoch, item))
        cache = self.cache
        frames = np.asarray(cache.crops[index, self.slots])  # (K, S, S, 3)
        keypoints = cache.keypoints[index].copy()
        weights = (cache.visibility[index] >= VISIBLE).astype(np.float32)
        box_w, box_h = cache.box_wh[index]
        center, size = self._crop_region(index)
        rotation, flip = 0.0, False
        if self.train:
            scale, rotation, shift, flip = random_geometry(rng)
            center = center + shift * np.array([box_w, box_h], np.float32)
            size = size * scale
        matrix = crop_affine(center, size, self.input_size, rotation)
        if flip:
            matrix = _then(self._mirror, matrix)
        if self.train and self.aspect_jitter > 0:  # no draw when off: older runs replay exactly
            matrix = _then(aspect_stretch(rng, self.input_size, self.aspect_jitter), matrix)
        crops = []
        still = self.window > 1 and np.array_equal(frames[0], frames[-1])
        key = self.window // 2
        for k, frame in enumerate(frames):
            m = matrix
            if self.train and still and k != key:
                m = _then(jitter_affine(rng, self.input_size), matrix)
            crops.append(warp_crop(frame, m, self.input_size))
        crops = np.stack(crops)
        joints = keypoints @ matrix[:, :2].T + matrix[:, 2]
        if flip:
            joints = joints[self.flip_perm]
            weights = weights[self.flip_perm]
        facing = cache.facing(np.array([index]))[0] if self.synthetic_back > 0 or self.face_blur > 0 else 0
        if self.train and self.synthetic_back > 0 and rng.random() < self.synthetic_back and facing > 0:
            # No face and the sides swapped: the 2-D geometry of the same pose seen from behind.
            crops = cover_face(crops, joints, weights, rng)
            joints, weights = joints[self.flip_perm], weights[self.flip_perm]
            facing = -1
        if self.train and facing > 0 and self.face_blur > 0 and rng.random() < self.face_blur:
            crops = blur_face(crops, joints, weights, rng)
        if self.train and self.background_paste > 0 and rng.random() < self.background_paste:
            donor = self._key_frame(self._donor(rng))
            crops = paste_on_background(crops, body_mask(joints, weights, self.input_size),
                                        background_patch(donor, self.input_size, rng))
        if self.train and self.neighbour_paste > 0 and rng.random() < self.neighbour_paste:
            crops = self._add_neighbour(crops, joints, weights, rng)
        if self.train:
            crops = photometric(crops, rng)
            if rng.random() < 0.4:
                crops = occlude(crops, rng, self._key_frame(self._donor(rng)))
            if self.window > 1 and self.key_frame_degrade > 0 and rng.random() < self.key_frame_degrade:
                crops = degrade_key_frame(crops, key, rng, self._key_frame(self._donor(rng)))
        target, target_weight = gaussian_heatmaps(joints, weights, self.input_size, self.heatmap_size)
        return {
            "inputs": torch.from_numpy(to_model_input(crops)),
            "target": torch.from_numpy(target),
            "target_weight": torch.from_numpy(target_weight),
            "joints": torch.from_numpy(joints.astype(np.float32)),
            "visible": torch.from_numpy(weights),
            "box_size": torch.tensor(float(max(box_w, box_h)) * self.input_size[1] / float(size[0])),
        }
