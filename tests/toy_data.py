"""A tiny generated segmentation dataset for smoke runs and tests.

Each image is a noisy mosaic of axis-aligned rectangles whose colour depends
on their class, so a network can learn it in a few iterations. Optionally a
rectangle per image is labelled ``ood_value`` (a pasted outlier) and a border
strip ``ignore_index``. Layout (MMSeg's ``BaseSegDataset`` defaults with PNG
suffixes)::

    root/img_dir/{train,val}/{i:04d}.png
    root/ann_dir/{train,val}/{i:04d}.png
"""
import os
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

from mmseg_be.constants import IGNORE_INDEX


def _draw_sample(rng: np.random.Generator, size: Tuple[int, int],
                 num_classes: int, ood_value: Optional[int],
                 ignore_index: int) -> Tuple[np.ndarray, np.ndarray]:
    h, w = size
    palette = (np.arange(num_classes)[:, None] * np.array([67, 131, 29]) +
               40) % 256
    label = np.full((h, w), rng.integers(num_classes), np.uint8)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - h // 4), rng.integers(0, w - w // 4)
        dy, dx = rng.integers(h // 6, h // 2), rng.integers(w // 6, w // 2)
        label[y0:y0 + dy, x0:x0 + dx] = rng.integers(num_classes)
    img = palette[label].astype(np.float32)
    img += rng.normal(0, 12, img.shape)
    if ood_value is not None:
        y0, x0 = rng.integers(0, h - h // 4), rng.integers(0, w - w // 4)
        label[y0:y0 + h // 5, x0:x0 + w // 5] = ood_value
        img[y0:y0 + h // 5, x0:x0 + w // 5] = rng.uniform(0, 255, 3)
    label[:, :2] = ignore_index
    return np.clip(img, 0, 255).astype(np.uint8), label


def write_toy_seg_dataset(root: str,
                          num_images: int = 4,
                          size: Tuple[int, int] = (64, 96),
                          num_classes: int = 4,
                          ood_value: Optional[int] = None,
                          ignore_index: int = IGNORE_INDEX,
                          seed: int = 0) -> str:
    """Write a train and a val split of generated images and labels.

    Args:
        root: Output folder (created).
        num_images: Images per split.
        size: (height, width) of every image.
        num_classes: Number of in-distribution classes (labels 0..C-1).
        ood_value: If given, one rectangle per image gets this label (e.g.
            :data:`~mmseg_be.constants.OUTLIER_LABEL` for pasted outliers,
            or an anomaly label).
        ignore_index: Label of the two left pixel columns.
        seed: Seed of the generator; same seed, same files.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    for split in ('train', 'val'):
        img_dir = osp.join(root, 'img_dir', split)
        ann_dir = osp.join(root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(num_images):
            img, label = _draw_sample(rng, size, num_classes, ood_value,
                                      ignore_index)
            cv2.imwrite(osp.join(img_dir, f'{i:04d}.png'), img[..., ::-1])
            cv2.imwrite(osp.join(ann_dir, f'{i:04d}.png'), label)
    return root
