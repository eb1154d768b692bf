"""Novel objects: the demo's auxiliary outliers and test anomalies.

An object is something no scene contains: a shape no scene object has and a
high-contrast texture no scene surface has (stripes, zigzags, concentric
rings, whose bright and dark parts differ by a factor of 2.4; nothing like
the window grids of the buildings). Its *colour* is that of
one scene class (:data:`FAMILY_WEIGHTS`: sky blues, building greys,
vegetation greens, sidewalk beige, road grey, car paints), so the
in-distribution model, which never saw such textures, assigns most of an
object's pixels to the class whose colour it has. The families are mixed with
imbalanced frequencies, so the model sees the outliers as several classes, the
frequent ones most: the condition the balanced energy loss is built for.

The outlier bank (the role of COCO) and the test anomalies use the same
colours and textures but disjoint shape families (:data:`BANK_SHAPES`,
:data:`ANOMALY_SHAPES`): the test asks for objects the bank never showed.
"""
from typing import Optional, Tuple

import cv2
import numpy as np

from mmseg_be.outliers.bank import OutlierBankWriter


# The scenes' things in realistic, distinct colours (RGB; drawn by
# demo.scenes): cars in saturated paints (red, dark blue, yellow, orange,
# plum), none of them the grey, green, blue or beige of a scene surface, so
# that an object's colour says which class it imitates; persons in everyday
# clothing.
CAR_PAINTS = ((150, 28, 28), (32, 48, 98), (205, 170, 40), (210, 105, 30),
              (120, 30, 90))
CLOTHES = ((52, 62, 102), (36, 36, 42), (120, 120, 124), (102, 72, 52),
           (200, 200, 196), (140, 40, 40))
BANK_SHAPES = ('polygon', 'star', 'ring')
ANOMALY_SHAPES = ('ellipse', 'box', 'triangle')
PATTERNS = ('stripes', 'zigzag', 'rings')
# Colour families: each takes the colour of one scene class. Imbalanced on
# purpose; as the in-distribution model sees them (the estimated prior) they
# spread over about five classes, three to four and a half after sharpening
# with gamma 3 (docs/demo.md has the measured values). Car paint is rare:
# the model already takes novel objects of any colour for cars (the scenes'
# only compact objects).
FAMILY_WEIGHTS = (('sky', 0.25), ('building', 0.22), ('vegetation', 0.20),
                  ('sidewalk', 0.16), ('road', 0.12), ('car', 0.05))
# Brightness of the dark and the bright part of a texture (x base colour).
DARK, BRIGHT = 0.55, 1.3


def noise(rng: np.random.Generator, shape: Tuple[int, ...],
          scale: float) -> np.ndarray:
    """Gaussian noise of standard deviation ``scale`` (float32)."""
    return rng.normal(0.0, scale, shape).astype(np.float32)


def family_colour(rng: np.random.Generator, family: str) -> np.ndarray:
    """A base colour (float RGB) of the scene class ``family`` imitates, as
    :func:`demo.scenes.render_scene` draws that class."""
    if family == 'car':
        return np.array(CAR_PAINTS[int(rng.integers(len(CAR_PAINTS)))],
                        np.float32) + rng.uniform(-10, 10, 3)
    if family == 'building':
        tone = rng.uniform(60, 160)
        return np.array([tone, tone * rng.uniform(0.85, 1.05), tone * 0.9],
                        np.float32)
    if family == 'vegetation':
        return np.array([rng.uniform(40, 90), rng.uniform(100, 150), 40.0],
                        np.float32)
    if family == 'sky':
        return np.array([rng.uniform(60, 110), rng.uniform(120, 160), 220.0],
                        np.float32)
    if family == 'sidewalk':
        return np.array([175.0, 165, 150], np.float32) * rng.uniform(0.8, 1.1)
    if family == 'road':
        return np.full(3, rng.uniform(70, 110), np.float32)
    raise ValueError(f'unknown colour family {family!r}; one of '
                     f'{[n for n, _ in FAMILY_WEIGHTS]}')


def pattern(rng: np.random.Generator, kind: str, h: int,
            w: int) -> np.ndarray:
    """A binary texture (h, w) bool: True on its bright part."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3.0, 6.0)
    if kind == 'stripes':
        angle = rng.uniform(0, np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
        return (t % period) < period / 2
    if kind == 'rings':  # concentric, around a point of the box
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        return (np.hypot(yy - cy, xx - cx) % period) < period / 2
    if kind == 'zigzag':
        tooth = rng.uniform(3.0, 6.0)
        offset = np.abs((xx % (2 * tooth)) - tooth)
        return ((yy + offset) % period) < period / 2
    raise ValueError(f'unknown pattern {kind!r}; one of {PATTERNS}')


def shape_mask(rng: np.random.Generator, shape: str, h: int,
               w: int) -> np.ndarray:
    """A filled shape of family ``shape`` in an (h, w) box (bool)."""
    mask = np.zeros((h, w), np.uint8)
    cx, cy = w / 2, h / 2
    if shape == 'ellipse':
        cv2.ellipse(mask, (int(cx), int(cy)), (max(1, w // 2 - 1),
                                               max(1, h // 2 - 1)),
                    float(rng.uniform(-20, 20)), 0, 360, 1, -1)
    elif shape == 'box':
        mask[h // 10:h - h // 10, w // 10:w - w // 10] = 1
    elif shape == 'triangle':
        pts = np.array([[int(rng.uniform(0.2, 0.8) * w), 0], [w - 1, h - 1],
                        [0, h - 1]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    elif shape == 'ring':
        cv2.ellipse(mask, (int(cx), int(cy)), (max(1, w // 2 - 1),
                                               max(1, h // 2 - 1)),
                    0, 0, 360, 1, max(3, min(h, w) // 4))
    elif shape in ('polygon', 'star'):
        k = int(rng.integers(5, 10)) * (2 if shape == 'star' else 1)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.6, 1.0, k)
        if shape == 'star':
            rad[::2] *= 0.5
        pts = np.stack([cx + np.cos(ang) * rad * (w / 2 - 1),
                        cy + np.sin(ang) * rad * (h / 2 - 1)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return mask.astype(bool)


def render_novel_object(rng: np.random.Generator, height: int, width: int,
                        shapes: Tuple[str, ...] = BANK_SHAPES,
                        family: Optional[str] = None
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one novel object in an (height, width) box.

    Args:
        rng: Random generator.
        height: Box height in pixels.
        width: Box width in pixels.
        shapes: Shape families to draw from.
        family: Colour family (a name of :data:`FAMILY_WEIGHTS`); None draws
            one with the weights of :data:`FAMILY_WEIGHTS`.

    Returns:
        tuple: RGB pixels (height, width, 3) uint8 and mask (height, width)
        bool.
    """
    if family is None:
        names = [n for n, _ in FAMILY_WEIGHTS]
        weights = np.array([w for _, w in FAMILY_WEIGHTS])
        family = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    base = family_colour(rng, family)
    mask = shape_mask(rng, shapes[int(rng.integers(len(shapes)))], height,
                      width)
    bright = pattern(rng, PATTERNS[int(rng.integers(len(PATTERNS)))], height,
                     width)
    rgb = base * np.where(bright, BRIGHT, DARK)[..., None].astype(np.float32)
    rgb = (rgb + noise(rng, (height, width, 3), 4.0)) * rng.uniform(0.8, 1.15)
    return np.clip(rgb, 0, 255).astype(np.uint8), mask


def write_outlier_bank(root: str, num: int, max_side: int,
                       seed: int = 0) -> int:
    """Write ``num`` novel objects of :data:`BANK_SHAPES` into an outlier
    bank at ``root`` (the on-disk format of the COCO bank, so that
    ``PasteOutliers`` reads it the same way). Re-running with the same
    arguments skips the entries already written.

    Args:
        root: Bank directory.
        num: Number of objects.
        max_side: Largest object side in pixels; sides are drawn from
            [0.4, 1] x ``max_side``.
        seed: Seed; entry ``i`` is the same object for the same seed.

    Returns:
        int: Number of entries in the bank afterwards.
    """
    info = dict(source='demo novel objects', num=num, max_side=max_side,
                seed=seed, shapes=list(BANK_SHAPES), patterns=list(PATTERNS),
                families=[list(f) for f in FAMILY_WEIGHTS])
    writer = OutlierBankWriter(root, info=info)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(num)):
        key = f'synthetic_{i:06d}'
        if key in writer:
            continue
        rng = np.random.default_rng(child)
        h = int(rng.integers(max(6, int(0.4 * max_side)), max_side + 1))
        w = int(np.clip(h * rng.uniform(0.7, 1.6), 6, 2 * max_side))
        rgb, mask = render_novel_object(rng, h, w, BANK_SHAPES)
        writer.add(rgb, mask, dict(image_id=i, category_ids=[]), key=key)
    return len(writer)
