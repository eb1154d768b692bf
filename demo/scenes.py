"""Procedural street scenes and the anomaly split: the demo's data.

Nothing here is downloaded: scenes are drawn from a seed. A scene has a sky, a
horizon with buildings and vegetation, a road in perspective with lane marks,
sidewalks, poles, and car- and person-like shapes whose size follows the
perspective; textures, lighting, blur and noise keep the task from being
trivial. Labels use a Cityscapes-like subset (:data:`CLASSES`).

The anomaly split puts novel objects (:mod:`demo.objects`: shapes and
textures no scene contains, in the colours of scene classes, of shape families
the outlier bank never contains) on the road, like the lost cargo of
Lost&Found, at sizes the demo's network resolves: 16 to 35 pixels high and
1.2 to 1.8 times as wide, i.e. 1 to 4 cells of its output stride 16. It is
written in the Fishyscapes layout (``original/*.png`` + ``labels/*.png`` with
0 inlier, 1 anomaly, 255 ignore) so the real dataset classes load it.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from mmseg_be.constants import IGNORE_INDEX

from .objects import (ANOMALY_SHAPES, CAR_PAINTS, CLOTHES, noise,
                      render_novel_object, write_outlier_bank)

CLASSES = ('road', 'sidewalk', 'building', 'pole', 'vegetation', 'sky',
           'person', 'car')
PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [153, 153, 153],
           [107, 142, 35], [70, 130, 180], [220, 20, 60], [0, 0, 142]]
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, SKY, PERSON, CAR = range(8)


def _fill(img: np.ndarray, label: np.ndarray, mask: np.ndarray,
          color: np.ndarray, cls: Optional[int], rng: np.random.Generator,
          texture: float = 8.0) -> None:
    """Paint ``mask`` with a noisy colour (and its class into ``label``)."""
    n = int(mask.sum())
    if n == 0:
        return
    img[mask] = np.clip(color[None] + noise(rng, (n, 1), texture) +
                        noise(rng, (n, 3), texture / 2), 0, 255)
    if cls is not None:
        label[mask] = cls


def render_scene(rng: np.random.Generator,
                 size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one street scene.

    Args:
        rng: Random generator (the only source of randomness).
        size: (height, width).

    Returns:
        tuple: RGB image (H, W, 3) uint8 and label map (H, W) uint8 with
        values in ``range(len(CLASSES))``.
    """
    h, w = size
    img = np.zeros((h, w, 3), np.float32)
    label = np.zeros((h, w), np.uint8)
    ys, xs = np.mgrid[0:h, 0:w]
    horizon = int(h * rng.uniform(0.35, 0.5))
    vx = w * rng.uniform(0.35, 0.65)  # vanishing point

    sky = ys < horizon
    sky_top = np.array([rng.uniform(60, 110), rng.uniform(120, 160), 220.0])
    img[sky] = sky_top + (ys[sky, None] / max(horizon, 1)) * 30
    label[sky] = SKY

    # Buildings: blocks with window grids standing on the horizon.
    x = 0
    while x < w:
        bw = int(rng.uniform(0.08, 0.22) * w)
        top = int(horizon - rng.uniform(0.1, 0.4) * h)
        mask = (xs >= x) & (xs < x + bw) & (ys >= top) & (ys < horizon + 2)
        if rng.random() < 0.8:
            tone = rng.uniform(60, 160)
            _fill(img, label, mask,
                  np.array([tone, tone * rng.uniform(0.85, 1.05), tone * 0.9]),
                  BUILDING, rng, 6.0)
            step = int(rng.integers(5, 9))
            win = mask & ((ys - top) % step < step // 2) & (
                (xs - x) % step < step // 2)
            img[win] *= rng.uniform(0.4, 0.7)
        x += bw
    # Vegetation: blobs along the horizon.
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = rng.uniform(0, w), horizon - rng.uniform(0, 0.12) * h
        ax, ay = rng.uniform(0.04, 0.12) * w, rng.uniform(0.05, 0.15) * h
        mask = ((xs - cx) / ax)**2 + ((ys - cy) / ay)**2 < 1
        _fill(img, label, mask,
              np.array([rng.uniform(40, 90), rng.uniform(100, 150), 40.0]),
              VEGETATION, rng, 14.0)

    # Ground: sidewalk everywhere below the horizon, then the road trapezoid.
    ground = ys >= horizon
    _fill(img, label, ground, np.array([175.0, 165, 150]) * rng.uniform(
        0.8, 1.1), SIDEWALK, rng, 7.0)
    tiles = ground & (((xs // 6) + (ys // 6)) % 2 == 0)
    img[tiles] *= 0.93
    depth = np.clip((ys - horizon) / max(h - horizon, 1), 0, 1)
    half = (0.02 + rng.uniform(0.38, 0.5) * depth) * w
    road = ground & (np.abs(xs - vx - (w / 2 - vx) * depth) < half)
    _fill(img, label, road, np.full(3, rng.uniform(70, 110)), ROAD, rng, 5.0)
    centre = vx + (w / 2 - vx) * depth
    lane = road & (np.abs(xs - centre) < 0.01 * w + 2 * depth) & (
        (np.log1p(np.maximum(ys - horizon, 0)) * 6).astype(int) % 2 == 0)
    img[lane] = 220

    def ground_y(rel: float) -> int:
        return int(horizon + rel * (h - horizon))

    # Poles, persons and cars in perspective: size grows with distance down.
    for _ in range(int(rng.integers(1, 4))):
        base = ground_y(rng.uniform(0.05, 0.6))
        s = (base - horizon) / max(h - horizon, 1)
        px = int(rng.choice([rng.uniform(0, 0.2), rng.uniform(0.8, 1.0)]) * w)
        pw, ph = max(1, int(3 * s + 1)), int((0.2 + 0.6 * s) * h)
        mask = (xs >= px) & (xs < px + pw) & (ys < base) & (ys >= base - ph)
        _fill(img, label, mask, np.array([120.0, 120, 125]), POLE, rng, 4.0)
    objects = [(ground_y(rng.uniform(0.05, 0.9)), rng.random() < 0.6)
               for _ in range(int(rng.integers(2, 6)))]
    for base, is_car in sorted(objects):  # far objects first
        s = 0.08 + (base - horizon) / max(h - horizon, 1)
        cx = rng.uniform(0.1, 0.9) * w
        if is_car:
            cw, chh = 0.35 * s * w, 0.22 * s * w
            body = (np.abs(xs - cx) < cw / 2) & (ys < base - chh * 0.2) & (
                ys >= base - chh)
            cabin = (np.abs(xs - cx) < cw / 3) & (ys < base - chh) & (
                ys >= base - chh * 1.45)
            color = np.array(CAR_PAINTS[int(rng.integers(len(CAR_PAINTS)))],
                             np.float32) + rng.uniform(-10, 10, 3)
            _fill(img, label, body | cabin, color, CAR, rng, 6.0)
            img[cabin & ((ys - (base - chh * 1.45)) < chh * 0.35)] *= 0.5
            for side in (-1, 1):
                wheel = ((xs - cx - side * cw / 3)**2 + (ys - base + chh * 0.2)
                         **2) < (chh * 0.22)**2
                _fill(img, label, wheel, np.full(3, 25.0), CAR, rng, 3.0)
        else:
            ph, pw = 0.5 * s * h, 0.08 * s * w
            body = (np.abs(xs - cx) < pw / 2) & (ys < base) & (
                ys >= base - ph * 0.8)
            head = ((xs - cx)**2 + (ys - base + ph * 0.9)**2) < (pw * 0.45)**2
            _fill(img, label, body,
                  np.array(CLOTHES[int(rng.integers(len(CLOTHES)))],
                           np.float32) + rng.uniform(-10, 10, 3), PERSON,
                  rng, 8.0)
            _fill(img, label, head, np.array([200.0, 160, 130]), PERSON, rng,
                  6.0)

    # Global lighting, blur and sensor noise.
    img *= rng.uniform(0.7, 1.2)
    img += noise(rng, img.shape, 6.0)
    img = cv2.GaussianBlur(np.clip(img, 0, 255), (3, 3), 0.6)
    return img.astype(np.uint8), label


def place_object(img: np.ndarray, label: np.ndarray, rgb: np.ndarray,
                 mask: np.ndarray, top: int, left: int,
                 value: int) -> np.ndarray:
    """Paste ``rgb`` through ``mask`` at (top, left), clipping at the border.

    Returns:
        np.ndarray: Bool map (H, W) of the pixels that were written.
    """
    h, w = label.shape
    oh, ow = mask.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + oh, h), min(left + ow, w)
    written = np.zeros((h, w), bool)
    if y1 <= y0 or x1 <= x0:
        return written
    sub = mask[y0 - top:y1 - top, x0 - left:x1 - left]
    img[y0:y1, x0:x1][sub] = rgb[y0 - top:y1 - top, x0 - left:x1 - left][sub]
    label[y0:y1, x0:x1][sub] = value
    written[y0:y1, x0:x1] = sub
    return written


def write_scene_split(root: str, split: str, num: int,
                      size: Tuple[int, int], seed: int) -> None:
    """Write ``num`` scenes as ``img_dir/{split}`` + ``ann_dir/{split}`` PNGs."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
    os.makedirs(osp.join(root, 'ann_dir', split), exist_ok=True)
    for i in range(num):
        img, label = render_scene(rng, size)
        cv2.imwrite(osp.join(root, 'img_dir', split, f'{i:05d}.png'),
                    img[..., ::-1])
        cv2.imwrite(osp.join(root, 'ann_dir', split, f'{i:05d}.png'), label)


def render_anomaly_scene(rng: np.random.Generator, size: Tuple[int, int],
                         max_objects: int = 2
                         ) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """Draw a scene with novel objects standing on the road.

    Objects are sized by perspective, like the lost cargo of Lost&Found:
    (0.25 + 0.3 s) x the image height high, s the depth of their base
    below the horizon (0 at the horizon, 1 at the bottom), and 1.2 to 1.8
    times as wide.

    Returns:
        tuple: RGB image, label map (0 inlier, 1 anomaly, 255 ignore on the
        two bottom rows, standing in for the ego vehicle that Fishyscapes
        leaves unlabelled) and one dict per object with its ``rgb``, ``mask``,
        ``top`` and ``left`` (the placement, possibly clipped at the border).
    """
    img, sem = render_scene(rng, size)
    h, w = size
    out = np.zeros((h, w), np.uint8)
    road_y, road_x = np.nonzero(sem == ROAD)
    horizon = int(np.argmax((sem == ROAD).any(1)))
    placements = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        j = int(rng.integers(len(road_y)))
        y, x = int(road_y[j]), int(road_x[j])
        s = (y - horizon) / max(h - horizon, 1)
        oh = max(8, int((0.25 + 0.3 * s) * h))
        ow = min(int(oh * rng.uniform(1.2, 1.8)), w // 2)
        rgb, mask = render_novel_object(rng, oh, ow, ANOMALY_SHAPES)
        top, left = y - mask.shape[0], x - mask.shape[1] // 2
        place_object(img, out, rgb, mask, top, left, 1)
        placements.append(dict(rgb=rgb, mask=mask, top=top, left=left))
    out[-2:] = IGNORE_INDEX
    return img, out, placements


def write_anomaly_split(root: str, num: int, size: Tuple[int, int],
                        seed: int, max_objects: int = 2) -> None:
    """Write anomaly scenes in the Fishyscapes val layout.

    ``original/{i:04d}.png`` (RGB) and ``labels/{i:04d}.png`` (0 inlier,
    1 anomaly, 255 ignore); see :func:`render_anomaly_scene`.
    """
    rng = np.random.default_rng(seed)
    for sub in ('original', 'labels'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for i in range(num):
        img, label, _ = render_anomaly_scene(rng, size, max_objects)
        cv2.imwrite(osp.join(root, 'original', f'{i:04d}.png'),
                    img[..., ::-1])
        cv2.imwrite(osp.join(root, 'labels', f'{i:04d}.png'), label)


def generate_demo_data(root: str,
                       num_train: int = 200,
                       num_val: int = 20,
                       num_anomaly: int = 30,
                       num_outliers: int = 100,
                       size: Tuple[int, int] = (128, 256),
                       seed: int = 0) -> Dict[str, str]:
    """Generate every dataset of the demo under ``root``.

    Returns:
        dict: Paths of ``scenes`` (img_dir/ann_dir train+val), ``outliers``
        (an outlier bank) and ``anomaly`` (Fishyscapes-style split).
    """
    paths = dict(scenes=osp.join(root, 'scenes'),
                 outliers=osp.join(root, 'outlier_bank'),
                 anomaly=osp.join(root, 'anomaly'))
    seeds = np.random.SeedSequence(seed).generate_state(4)
    write_scene_split(paths['scenes'], 'train', num_train, size, int(seeds[0]))
    write_scene_split(paths['scenes'], 'val', num_val, size, int(seeds[1]))
    write_outlier_bank(paths['outliers'], num_outliers,
                       max_side=int(0.6 * size[0]), seed=int(seeds[2]))
    write_anomaly_split(paths['anomaly'], num_anomaly, size, int(seeds[3]))
    return paths
