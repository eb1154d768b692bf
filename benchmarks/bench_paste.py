"""Time PasteOutliers against MMSeg's own loading of the same scene.

Baseline: ``LoadImageFromFile`` + ``LoadAnnotations`` of a 1024x2048
Cityscapes-sized PNG pair (written to a temp dir). Candidate: ``PasteOutliers``
(prob 1, one object per call) on that loaded scene, with a bank of objects of
typical COCO union-mask sizes (60..480 px sides). Target: paste <= 0.25x load.

Usage::

    python benchmarks/bench_paste.py [--repeats 30]
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import mmseg_be  # noqa: E402,F401
from mmseg.registry import TRANSFORMS  # noqa: E402
from mmseg_be.outliers import OutlierBankWriter  # noqa: E402


def make_scene(root: str, rng: np.random.Generator) -> dict:
    """Write a 1024x2048 textured image + trainId label PNG pair."""
    yy, xx = np.mgrid[:1024, :2048]
    img = np.stack([(xx // 8) % 256, (yy // 4) % 256,
                    rng.integers(0, 64, (1024, 2048))], -1).astype(np.uint8)
    label = ((yy // 64) + (xx // 128)).astype(np.uint8) % 19
    cv2.imwrite(osp.join(root, 'scene.png'), img)
    cv2.imwrite(osp.join(root, 'scene_label.png'), label)
    return dict(img_path=osp.join(root, 'scene.png'),
                seg_map_path=osp.join(root, 'scene_label.png'),
                reduce_zero_label=False, seg_fields=[])


def make_bank(root: str, rng: np.random.Generator, n: int = 24) -> None:
    """Objects with COCO-like sizes and smooth, irregular masks."""
    writer = OutlierBankWriter(root)
    for i in range(n):
        h, w = (int(s) for s in rng.integers(60, 481, 2))
        yy, xx = np.mgrid[:h, :w]
        rgb = np.stack([xx * 255 // w, yy * 255 // h,
                        rng.integers(0, 256, (h, w))], -1).astype(np.uint8)
        d = ((yy - h / 2) / (h / 2))**2 + ((xx - w / 2) / (w / 2))**2
        mask = d + 0.3 * np.sin(xx / 9.0) * np.cos(yy / 7.0) < 1.0
        writer.add(rgb, mask, {}, key=f'bench_{i:03d}')


def mean_time(fn, repeats: int) -> float:
    fn()  # warm-up (file cache, lazy bank opening)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    """Run both timings and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        info = make_scene(tmp, rng)
        make_bank(osp.join(tmp, 'bank'), rng)
        load_img = TRANSFORMS.build(dict(type='LoadImageFromFile'))
        load_ann = TRANSFORMS.build(dict(type='LoadAnnotations'))
        paste = TRANSFORMS.build(dict(type='PasteOutliers',
                                      bank_root=osp.join(tmp, 'bank'),
                                      prob=1.0))

        def load():
            return load_ann(load_img(dict(info, seg_fields=[])))

        loaded = load()
        img, label = loaded['img'], loaded['gt_seg_map']

        # Paste into fresh copies each time; the copy is timed separately
        # and subtracted, since a pipeline pastes into the loaded arrays.
        def copy():
            return dict(img=img.copy(), gt_seg_map=label.copy(),
                        seg_fields=['gt_seg_map'])

        np.random.seed(0)
        t_load = mean_time(load, args.repeats)
        t_copy = mean_time(copy, args.repeats)
        t_paste = mean_time(lambda: paste(copy()), args.repeats) - t_copy
    print(f'baseline LoadImageFromFile+LoadAnnotations (1024x2048 PNG pair): '
          f'{t_load * 1e3:.2f} ms')
    print(f'PasteOutliers (1 object, sides 60-480 px, copy excluded): '
          f'{t_paste * 1e3:.2f} ms')
    print(f'ratio paste/load: {t_paste / t_load:.3f}')


if __name__ == '__main__':
    main()
