"""A synthetic outlier bank in the on-disk format of the COCO bank.

Random polygons in random colours with noise, stored through
:class:`~mmseg_be.outliers.bank.OutlierBankWriter` so that ``PasteOutliers``
reads them exactly like a bank built from COCO: a stand-in for smoke runs and
tests on a machine without COCO. (The demo draws its own objects, made for
its scenes: ``demo/objects.py`` of a checkout.)
"""
from typing import Tuple

import cv2
import numpy as np

from .bank import OutlierBankWriter


def render_random_object(rng: np.random.Generator,
                         max_side: int) -> Tuple[np.ndarray, np.ndarray]:
    """A random polygon (5-9 corners) in a random colour with noise.

    Args:
        rng: Random generator.
        max_side: Largest side of the object's box in pixels (>= 6).

    Returns:
        tuple: RGB pixels (h, w, 3) uint8 and mask (h, w) bool.
    """
    h = int(rng.integers(max(6, max_side // 3), max_side + 1))
    w = int(rng.integers(max(6, max_side // 3), max_side + 1))
    k = int(rng.integers(5, 10))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = rng.uniform(0.5, 1.0, k)
    pts = np.stack([w / 2 + np.cos(ang) * rad * (w / 2 - 1),
                    h / 2 + np.sin(ang) * rad * (h / 2 - 1)], 1)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    rgb = rng.uniform(0, 255, 3) + rng.normal(0, 12, (h, w, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8), mask.astype(bool)


def write_synthetic_bank(root: str, num: int, max_side: int = 64,
                         seed: int = 0) -> int:
    """Write ``num`` random objects into an outlier bank at ``root``.

    Re-running with the same arguments skips the entries already written.

    Args:
        root: Bank directory.
        num: Number of objects.
        max_side: Largest object side in pixels.
        seed: Seed; entry ``i`` is the same object for the same seed.

    Returns:
        int: Number of entries in the bank afterwards.
    """
    info = dict(source='synthetic', num=num, max_side=max_side, seed=seed)
    writer = OutlierBankWriter(root, info=info)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(num)):
        key = f'synthetic_{i:06d}'
        if key in writer:
            continue
        rgb, mask = render_random_object(np.random.default_rng(child),
                                         max_side)
        writer.add(rgb, mask, dict(image_id=i, category_ids=[]), key=key)
    return len(writer)
