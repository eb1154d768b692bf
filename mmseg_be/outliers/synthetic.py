"""A synthetic outlier bank in the on-disk format of the COCO bank.

The demo's stand-in for COCO objects: novel objects of shapes no demo scene
has (:data:`BANK_SHAPES`: polygons, stars, rings), each with the appearance
of one scene class (:data:`FAMILY_WEIGHTS`: appearance families mixed with
imbalanced frequencies), stored through
:class:`~mmseg_be.outliers.bank.OutlierBankWriter` so that ``PasteOutliers``
reads them exactly like a bank built from COCO. The demo's test anomalies
(:mod:`mmseg_be.demo.scenes`) are drawn by the same
:func:`render_novel_object` with the disjoint :data:`ANOMALY_SHAPES`.
"""
from typing import Optional, Tuple

import cv2
import numpy as np

from .bank import OutlierBankWriter

# Novel objects come in shape families; the outlier bank and the anomaly
# test split draw from different families so that the test is not a copy of
# the training outliers.
BANK_SHAPES = ('polygon', 'star', 'ring')
ANOMALY_SHAPES = ('ellipse', 'box', 'triangle')

# Realistic, distinct appearance of the scene's things (RGB): cars in common
# car paints (white, silver, grey, black, dark blue, red, dark green, beige),
# persons in everyday clothing.
CAR_PAINTS = ((225, 225, 222), (172, 174, 178), (110, 112, 116), (32, 32, 36),
              (32, 48, 98), (150, 28, 28), (42, 72, 52), (192, 176, 142))
CLOTHES = ((52, 62, 102), (36, 36, 42), (120, 120, 124), (102, 72, 52),
           (200, 200, 196), (140, 40, 40))
# Appearance families of the outliers and test anomalies: each resembles one
# scene class; the frequencies are imbalanced on purpose (the released COCO
# prior, sharpened with gamma 3, spreads over about 4.8 effective classes;
# these weights aim at a similar spread as the model sees them).
FAMILY_WEIGHTS = (('car', 0.26), ('building', 0.21), ('vegetation', 0.17),
                  ('person', 0.14), ('sidewalk', 0.12), ('sky', 0.10))


def noise(rng: np.random.Generator, shape: Tuple[int, ...],
          scale: float) -> np.ndarray:
    """Gaussian noise of standard deviation ``scale`` (float32)."""
    return rng.normal(0.0, scale, shape).astype(np.float32)


def render_novel_object(rng: np.random.Generator, max_side: int,
                        shapes: Tuple[str, ...] = BANK_SHAPES,
                        family: Optional[str] = None
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Draw an object of a shape that never occurs in a scene, with the
    appearance of one scene class.

    Args:
        rng: Random generator.
        max_side: Largest side of the object's box in pixels.
        shapes: Shape families to draw from.
        family: Appearance family (a name of :data:`FAMILY_WEIGHTS`); None
            draws one with the weights of :data:`FAMILY_WEIGHTS`.

    Returns:
        tuple: RGB pixels (h, w, 3) uint8 and mask (h, w) bool.
    """
    if family is None:
        names = [n for n, _ in FAMILY_WEIGHTS]
        weights = np.array([w for _, w in FAMILY_WEIGHTS])
        family = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    side = int(rng.integers(max(6, max_side // 3), max_side + 1))
    h = side
    w = max(6, int(side * rng.uniform(0.6, 1.6)))
    mask = np.zeros((h, w), np.uint8)
    shape = shapes[int(rng.integers(len(shapes)))]
    c = (w / 2, h / 2)
    if shape == 'ellipse':
        cv2.ellipse(mask, (int(c[0]), int(c[1])), (w // 2 - 1, h // 2 - 1),
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
    elif shape == 'box':
        mask[h // 8:h - h // 8, w // 8:w - w // 8] = 1
    elif shape == 'triangle':
        pts = np.array([[w // 2, 0], [w - 1, h - 1], [0, h - 1]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    elif shape == 'ring':
        cv2.ellipse(mask, (int(c[0]), int(c[1])), (w // 2 - 1, h // 2 - 1),
                    0, 0, 360, 1, max(2, side // 5))
    else:  # polygon / star: random radii around the centre
        k = int(rng.integers(5, 10)) * (2 if shape == 'star' else 1)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.5, 1.0, k)
        if shape == 'star':
            rad[::2] *= 0.45
        pts = np.stack([c[0] + np.cos(ang) * rad * (w / 2 - 1),
                        c[1] + np.sin(ang) * rad * (h / 2 - 1)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    rgb = family_texture(rng, family, h, w)
    return np.clip(rgb, 0, 255).astype(np.uint8), mask.astype(bool)


def family_texture(rng: np.random.Generator, family: str, h: int,
                   w: int) -> np.ndarray:
    """Colours and texture of one appearance family (float RGB, (h, w, 3)).

    Each copies how its scene class is drawn in
    :func:`mmseg_be.demo.scenes.render_scene`.
    """
    yy, xx = np.mgrid[0:h, 0:w]
    if family == 'car':
        base = np.array(CAR_PAINTS[int(rng.integers(len(CAR_PAINTS)))],
                        np.float32) + rng.uniform(-10, 10, 3)
        rgb = np.broadcast_to(base, (h, w, 3)).copy()
        band = (yy >= h * 0.2) & (yy < h * 0.42)  # a dark window band
        rgb[band] *= 0.5
        texture = 6.0
    elif family == 'building':
        tone = rng.uniform(60, 160)
        rgb = np.broadcast_to(
            np.array([tone, tone * rng.uniform(0.85, 1.05), tone * 0.9],
                     np.float32), (h, w, 3)).copy()
        step = int(rng.integers(5, 9))
        rgb[(yy % step < step // 2) & (xx % step < step // 2)] *= \
            rng.uniform(0.4, 0.7)
        texture = 6.0
    elif family == 'vegetation':
        base = np.array([rng.uniform(40, 90), rng.uniform(100, 150), 40.0],
                        np.float32)
        rgb = np.broadcast_to(base, (h, w, 3)).copy()
        texture = 14.0
    elif family == 'person':
        rgb = np.broadcast_to(
            np.array(CLOTHES[int(rng.integers(len(CLOTHES)))], np.float32) +
            rng.uniform(-10, 10, 3), (h, w, 3)).copy()
        rgb[yy < h * 0.25] = (200.0, 160.0, 130.0)  # skin on top
        texture = 8.0
    elif family == 'sidewalk':
        rgb = np.broadcast_to(
            np.array([175.0, 165, 150], np.float32) * rng.uniform(0.8, 1.1),
            (h, w, 3)).copy()
        rgb[((xx // 6) + (yy // 6)) % 2 == 0] *= 0.93
        texture = 7.0
    elif family == 'sky':
        top = np.array([rng.uniform(60, 110), rng.uniform(120, 160), 220.0],
                       np.float32)
        rgb = top + (yy[..., None] / max(h, 1)) * 30
        texture = 3.0
    else:
        raise ValueError(f'unknown appearance family {family!r}; one of '
                         f'{[n for n, _ in FAMILY_WEIGHTS]}')
    rgb = rgb + noise(rng, (h, w, 1), texture) + noise(rng, (h, w, 3),
                                                        texture / 2)
    return rgb * rng.uniform(0.7, 1.2)


def write_synthetic_bank(root: str, num: int, max_side: int = 64,
                         seed: int = 0) -> int:
    """Write ``num`` novel objects into an outlier bank at ``root``.

    Re-running with the same arguments skips the entries already written.

    Args:
        root: Bank directory.
        num: Number of objects.
        max_side: Largest object side in pixels.
        seed: Seed; entry ``i`` is the same object for the same seed.

    Returns:
        int: Number of entries in the bank afterwards.
    """
    info = dict(source='synthetic', num=num, max_side=max_side, seed=seed,
                shapes=list(BANK_SHAPES),
                families=[list(f) for f in FAMILY_WEIGHTS])
    writer = OutlierBankWriter(root, info=info)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(num)):
        key = f'synthetic_{i:06d}'
        if key in writer:
            continue
        rgb, mask = render_novel_object(np.random.default_rng(child),
                                        max_side, BANK_SHAPES)
        writer.add(rgb, mask, dict(image_id=i, category_ids=[]), key=key)
    return len(writer)
