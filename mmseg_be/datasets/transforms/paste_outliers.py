"""Paste outlier objects from an outlier bank onto training scenes."""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmseg_be.constants import OUTLIER_LABEL
from mmseg_be.outliers.bank import OutlierBank

#: Released recipe: each epoch draws 10% as many outlier samples as there are
#: Cityscapes images and appends them to the clean ones, so 0.1 / 1.1 = 1/11
#: of the samples seen by the loss carry an outlier. A per-sample probability
#: over the Cityscapes images reproduces that fraction with p = 1/11.
RELEASED_PASTE_PROB = 1 / 11


@TRANSFORMS.register_module()
class PasteOutliers(BaseTransform):
    """Paste objects from an outlier bank and label their pixels ``ood_index``.

    Released behaviour (PEBAL / balanced energy): with probability ~1/11 per
    sample, one COCO object (the union of the instance masks of one COCO
    image) is pasted at native resolution at a uniformly random position;
    only the pixels under its mask change, in the image and in the label.

    Works before or after geometric transforms (it only needs ``img`` and the
    segmentation maps at the same size). Randomness is drawn from numpy's
    global RNG like mmcv's RandomFlip/RandomCrop, so mmengine's seeding
    (``randomness.seed`` and its per-worker ``worker_init_fn``) makes it
    reproducible with any number of dataloader workers. The bank is opened
    lazily in the process that first uses it and only its index is kept.

    Required Keys:

    - img (np.ndarray, HxWx3, BGR unless ``channel_order='rgb'``)
    - gt_seg_map (np.ndarray, HxW), or any map listed in ``seg_fields``

    Modified Keys:

    - img (pasted pixels; dtype kept, uint8 or float)
    - gt_seg_map and every entry of ``seg_fields``: ``ood_index`` written
      exactly where an object's mask landed. Every seg field gets the same
      value because in MMSeg all of them are label maps resized with nearest
      interpolation; a field needing another value should not be listed in
      ``seg_fields`` at paste time.

    Added Keys:

    - outlier_indices (list[int]): bank entries pasted (empty if none)

    Args:
        bank_root (str): Directory of the outlier bank (``index.jsonl``).
        prob (float): Probability that a sample receives outliers.
            Default: 1/11 (released recipe, see ``RELEASED_PASTE_PROB``).
        num_objects (int | tuple[int, int]): Objects per pasted sample, or an
            inclusive ``(min, max)`` range drawn uniformly. Default: 1.
        scale_range (tuple[float, float]): Range of the scale factor applied
            to the object's native size; ``(1.0, 1.0)`` = released. An object
            that would not fit into the image is shrunk (aspect kept) to fit.
        placement (str): ``'uniform'`` (released: top-left corner uniform over
            all positions where the object fits) or ``'labels'``: the
            bottom-centre of the object is put on a random pixel whose label
            is in ``placement_labels`` (e.g. road), clamped so the object
            stays inside the image; falls back to uniform when the map has no
            such pixel.
        placement_labels (Sequence[int], optional): Label ids for
            ``placement='labels'``, read from ``gt_seg_map``.
        blend (bool): Soft-edge blending of the IMAGE: the object's alpha is
            its mask blurred with a Gaussian, restricted to the mask, so the
            object fades into the scene near its border while the label stays
            exact. Default: False (released: hard paste).
        blend_sigma (float): Gaussian sigma of the blending in pixels.
        ood_index (int): Label of pasted pixels. Default:
            :data:`~mmseg_be.constants.OUTLIER_LABEL` (254).
        channel_order (str): Channel order of ``results['img']``: 'bgr'
            (mmcv's ``LoadImageFromFile`` default) or 'rgb'.
    """

    def __init__(self,
                 bank_root: str,
                 prob: float = RELEASED_PASTE_PROB,
                 num_objects: Union[int, Tuple[int, int]] = 1,
                 scale_range: Tuple[float, float] = (1.0, 1.0),
                 placement: str = 'uniform',
                 placement_labels: Optional[Sequence[int]] = None,
                 blend: bool = False,
                 blend_sigma: float = 2.0,
                 ood_index: int = OUTLIER_LABEL,
                 channel_order: str = 'bgr') -> None:
        super().__init__()
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if isinstance(num_objects, int):
            num_objects = (num_objects, num_objects)
        num_objects = tuple(int(n) for n in num_objects)
        if len(num_objects) != 2 or not 1 <= num_objects[0] <= num_objects[1]:
            raise ValueError('num_objects must be an int >= 1 or a range '
                             f'(min, max) with 1 <= min <= max, got '
                             f'{num_objects}')
        scale_range = tuple(float(s) for s in scale_range)
        if len(scale_range) != 2 or not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError('scale_range must be (min, max) with 0 < min <= '
                             f'max, got {scale_range}')
        if placement not in ('uniform', 'labels'):
            raise ValueError("placement must be 'uniform' or 'labels', got "
                             f'{placement!r}')
        if placement == 'labels' and not placement_labels:
            raise ValueError("placement='labels' needs placement_labels, "
                             'e.g. [0] for the Cityscapes road')
        if blend and blend_sigma <= 0:
            raise ValueError(f'blend_sigma must be > 0, got {blend_sigma}')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError("channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        self.bank_root = bank_root
        self.prob = prob
        self.num_objects = num_objects
        self.scale_range = scale_range
        self.placement = placement
        self.placement_labels = (None if placement_labels is None else
                                 np.asarray(list(placement_labels)))
        self.blend = blend
        self.blend_sigma = blend_sigma
        self.ood_index = ood_index
        self.channel_order = channel_order
        self._bank: Optional[OutlierBank] = None

    @property
    def bank(self) -> OutlierBank:
        """The outlier bank, opened on first use (in each worker)."""
        if self._bank is None:
            self._bank = OutlierBank(self.bank_root)
        return self._bank

    def __getstate__(self) -> dict:
        # Workers re-open the bank themselves rather than receive a copy.
        state = self.__dict__.copy()
        state['_bank'] = None
        return state

    def _seg_keys(self, results: dict) -> List[str]:
        keys = list(results.get('seg_fields', []))
        if 'gt_seg_map' in results and 'gt_seg_map' not in keys:
            keys.insert(0, 'gt_seg_map')
        if not keys:
            raise KeyError('PasteOutliers needs a segmentation map '
                           "('gt_seg_map' or an entry of 'seg_fields'): put "
                           'it after LoadAnnotations')
        return keys

    def _fit(self, obj: np.ndarray, mask: np.ndarray, img_hw: Tuple[int, int]
             ) -> Tuple[np.ndarray, np.ndarray]:
        """Rescale an object by a random factor, shrinking it to fit."""
        lo, hi = self.scale_range
        scale = np.random.uniform(lo, hi) if hi > lo else lo
        h, w = mask.shape
        scale = min(scale, img_hw[0] / h, img_hw[1] / w)
        if scale == 1.0:
            return obj, mask
        size = (max(1, min(img_hw[1], int(round(w * scale)))),
                max(1, min(img_hw[0], int(round(h * scale)))))
        obj = cv2.resize(obj, size, interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask.view(np.uint8), size,
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        return obj, mask

    def _position(self, obj_hw: Tuple[int, int], label: np.ndarray
                  ) -> Tuple[int, int]:
        """Top-left corner (y, x) of the object."""
        h, w = obj_hw
        H, W = label.shape[:2]
        if self.placement == 'labels':
            ys, xs = np.nonzero(np.isin(label, self.placement_labels))
            if ys.size:
                k = np.random.randint(ys.size)
                y = min(max(ys[k] - h + 1, 0), H - h)
                x = min(max(xs[k] - w // 2, 0), W - w)
                return int(y), int(x)
        return np.random.randint(H - h + 1), np.random.randint(W - w + 1)

    def _paste(self, img: np.ndarray, seg_maps: List[np.ndarray],
               obj: np.ndarray, mask: np.ndarray, y: int, x: int) -> None:
        h, w = mask.shape
        region = img[y:y + h, x:x + w]
        if self.blend:
            alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0),
                                     self.blend_sigma,
                                     borderType=cv2.BORDER_CONSTANT)
            alpha = (alpha * mask)[..., None]
            mixed = alpha * obj + (1.0 - alpha) * region
            if np.issubdtype(img.dtype, np.integer):
                mixed = np.clip(np.rint(mixed), 0, np.iinfo(img.dtype).max)
            region[mask] = mixed.astype(img.dtype)[mask]
        else:
            region[mask] = obj[mask]
        for seg in seg_maps:
            seg[y:y + h, x:x + w][mask] = self.ood_index

    def transform(self, results: dict) -> dict:
        """Paste outliers into ``results`` (in place).

        Args:
            results (dict): Result dict from the loading pipeline.

        Returns:
            dict: The same dict with pasted image/labels and
            ``outlier_indices``.
        """
        keys = self._seg_keys(results)
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('PasteOutliers expects an HxWx3 image, got '
                             f'shape {img.shape}')
        seg_maps = [results[k] for k in keys]
        for k, seg in zip(keys, seg_maps):
            if seg.shape[:2] != img.shape[:2]:
                raise ValueError(f"results['{k}'] has shape {seg.shape}, the "
                                 f'image {img.shape[:2]}: paste before or '
                                 'after geometric transforms, not between '
                                 'an image-only and a map-only transform')
        results['outlier_indices'] = []
        if np.random.rand() >= self.prob:
            return results
        lo, hi = self.num_objects
        for _ in range(np.random.randint(lo, hi + 1)):
            idx = int(np.random.randint(len(self.bank)))
            obj, mask, _ = self.bank.load(idx, self.channel_order)
            obj, mask = self._fit(obj, mask, img.shape[:2])
            y, x = self._position(mask.shape, seg_maps[0])
            self._paste(img, seg_maps, obj, mask, y, x)
            results['outlier_indices'].append(idx)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(bank_root={self.bank_root!r}, '
                f'prob={self.prob}, num_objects={self.num_objects}, '
                f'scale_range={self.scale_range}, '
                f'placement={self.placement!r}, blend={self.blend}, '
                f'ood_index={self.ood_index})')
