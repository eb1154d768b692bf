"""Loading of images in stored orientation, and of anomaly labels with a
raw-value conversion and a value check."""
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from mmseg_be.constants import IGNORE_INDEX
from mmseg_be.utils.image_io import (UnreadableImageError, decode_image,
                                     read_image)

#: ``color_type`` of mmcv's ``LoadImageFromFile`` -> OpenCV flag (EXIF
#: orientation is ignored whichever is chosen).
COLOR_TYPES = {
    'color': cv2.IMREAD_COLOR,
    'color_ignore_orientation': cv2.IMREAD_COLOR,
    'grayscale': cv2.IMREAD_GRAYSCALE,
    'grayscale_ignore_orientation': cv2.IMREAD_GRAYSCALE,
    'unchanged': cv2.IMREAD_UNCHANGED,
}


@TRANSFORMS.register_module()
class LoadImageStoredOrientation(LoadImageFromFile):
    """Load an image as stored, EXIF orientation ignored, refusing a
    truncated or corrupt file with an error that names it.

    mmcv's ``LoadImageFromFile`` with its default ``color_type='color'``
    turns a photo by its EXIF orientation tag while label PNGs stay as
    stored, so the scores of such a photo would be rotated against its label
    (a shape error for a non-square image, silently wrong for a square one).
    This loader decodes through :func:`mmseg_be.utils.image_io.decode_image`,
    the project's one image reader (see its orientation rule). Otherwise it
    is ``LoadImageFromFile``: same arguments, same keys, BGR uint8 (float32
    with ``to_float32``); for an image without an orientation tag the pixels
    are those of ``LoadImageFromFile``.

    Required Keys:

    - img_path

    Modified Keys:

    - img
    - img_shape
    - ori_shape

    Args:
        to_float32: Return a float32 image. Defaults to False.
        color_type: ``'color'``, ``'grayscale'`` or ``'unchanged'`` (the
            ``*_ignore_orientation`` spellings are accepted and mean the
            same). Defaults to ``'color'``.
        imdecode_backend: Only ``'cv2'``, the one decoder of the project.
        ignore_empty: Return None for an unreadable file instead of raising.
        backend_args: File backend arguments (mmengine.fileio).

    Raises:
        UnreadableImageError: (in ``transform``) The file is missing, a
            broken link, empty, truncated or not an image; the message names
            the file.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 ignore_empty: bool = False,
                 *,
                 backend_args: Optional[dict] = None) -> None:
        if color_type not in COLOR_TYPES:
            raise ValueError(f'color_type {color_type!r} is not one of '
                             f'{sorted(COLOR_TYPES)}.')
        if imdecode_backend != 'cv2':
            raise ValueError(
                f'{type(self).__name__} decodes with OpenCV only (the '
                f'project\'s one image reader), not {imdecode_backend!r}.')
        super().__init__(to_float32, color_type, imdecode_backend,
                         ignore_empty=ignore_empty, backend_args=backend_args)

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` into ``results['img']``.

        Args:
            results: The sample dict from the dataset.

        Returns:
            dict: ``results`` with the image and its shape; None for an
            unreadable file with ``ignore_empty``.
        """
        path = results['img_path']
        flag = COLOR_TYPES[self.color_type]
        try:
            if self.backend_args is None and '://' not in str(path):
                img = read_image(path, flag)
            else:
                img = decode_image(
                    fileio.get(path, backend_args=self.backend_args), path,
                    flag)
        except (UnreadableImageError, FileNotFoundError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


def value_lut(value_map: Dict[int, int]) -> np.ndarray:
    """A 256-entry lookup table applying ``value_map`` to uint8 labels.

    Args:
        value_map: Raw value -> new value, both in [0, 255]; values that are
            not keys are kept.

    Returns:
        np.ndarray: uint8 table ``lut`` with ``lut[raw] = new``.
    """
    lut = np.arange(256, dtype=np.uint8)
    for raw, new in value_map.items():
        if not (0 <= int(raw) <= 255 and 0 <= int(new) <= 255):
            raise ValueError(
                f'value_map entry {raw} -> {new} is outside the uint8 range '
                '[0, 255] of label images.')
        lut[int(raw)] = int(new)
    return lut


def describe_value_map(value_map: Dict[int, int]) -> str:
    """A value map as short text, runs of raw values grouped: ``2..200->1``.

    Args:
        value_map: Raw value -> new value.

    Returns:
        str: e.g. ``'0->255, 1->0, 2..200->1'``.
    """
    parts = []
    items = sorted((int(k), int(v)) for k, v in value_map.items())
    start = 0
    for i in range(1, len(items) + 1):
        if (i < len(items) and items[i][0] == items[i - 1][0] + 1
                and items[i][1] == items[start][1]):
            continue
        first, last, new = items[start][0], items[i - 1][0], items[start][1]
        parts.append(f'{first}->{new}' if first == last else
                     f'{first}..{last}->{new}')
        start = i
    return ', '.join(parts)


@TRANSFORMS.register_module()
class LoadOODAnnotations(BaseTransform):
    """Load a benchmark label map, convert raw values and check them.

    The value map comes from the dataset (each benchmark dataset of
    :mod:`mmseg_be.datasets` puts its raw-value conversion into the sample as
    ``ood_value_map``) or from the ``value_map`` argument, for a dataset of
    another package; giving both is an error, so the conversion is defined in
    one place. After the conversion every value must be in ``allowed_values``;
    anything else fails with the offending values, their pixel counts and
    the file, instead of silently turning into positives or negatives.

    Required Keys:

    - seg_map_path
    - ood_value_map (optional)

    Added Keys:

    - gt_seg_map (np.uint8)
    - seg_fields

    Args:
        value_map: Raw value -> label value, for datasets that do not provide
            ``ood_value_map``. Defaults to None.
        allowed_values: Values allowed after the conversion. Defaults to
            (0, 1, 255): inlier, anomaly, ignore.
        imdecode_backend: mmcv image decoding backend. Defaults to 'pillow'
            (which, like MMSeg's LoadAnnotations, returns palette indices for
            palette PNGs).
        backend_args: File backend arguments (mmengine.fileio).
    """

    def __init__(self,
                 value_map: Optional[Dict[int, int]] = None,
                 allowed_values: Sequence[int] = (0, 1, IGNORE_INDEX),
                 imdecode_backend: str = 'pillow',
                 backend_args: Optional[dict] = None) -> None:
        self.value_map = dict(value_map) if value_map is not None else None
        self.allowed_values = tuple(int(v) for v in allowed_values)
        self._allowed = np.zeros(256, dtype=bool)
        self._allowed[list(self.allowed_values)] = True
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def _read(self, path: str) -> np.ndarray:
        content = fileio.get(path, backend_args=self.backend_args)
        try:
            label = mmcv.imfrombytes(content, flag='unchanged',
                                     backend=self.imdecode_backend)
        except Exception as error:  # PIL: "image file is truncated", no path
            raise UnreadableImageError(
                path, f'cannot be decoded as a label image ({error}); '
                'the file is truncated or corrupt: restore it from the '
                'dataset archive') from error
        if label is None:
            raise UnreadableImageError(
                path, 'cannot be decoded as a label image (truncated or '
                'corrupt): restore it from the dataset archive')
        if label.ndim == 3 and label.shape[2] == 1:
            # Only a channel axis is dropped (np.squeeze would also collapse
            # a one-row image).
            label = label[..., 0]
        if label.ndim != 2:
            raise ValueError(
                f'{path}: a label must be a single-channel image, got shape '
                f'{label.shape} (a colour visualisation such as '
                'labels_semantic_color.png instead of the label ids?).')
        if label.dtype != np.uint8:
            if label.min() < 0 or label.max() > 255:
                raise ValueError(
                    f'{path}: label values span [{label.min()}, '
                    f'{label.max()}] ({label.dtype}), beyond uint8.')
            label = label.astype(np.uint8)
        return label

    def transform(self, results: dict) -> dict:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``.

        Args:
            results: The sample dict from the dataset.

        Returns:
            dict: ``results`` with ``gt_seg_map`` added.
        """
        path = results.get('seg_map_path')
        if path is None:
            raise ValueError(
                f'{results.get("img_path")}: the sample has no label '
                '(dataset built with with_labels=False?); remove '
                'LoadOODAnnotations from the pipeline to run on images only.')
        dataset_map = results.get('ood_value_map')
        if dataset_map is not None and self.value_map is not None:
            raise ValueError(
                f'LoadOODAnnotations got value_map={self.value_map} while the '
                f'dataset already converts with {dataset_map}; define the '
                'conversion in one place (drop value_map from the pipeline).')
        value_map = self.value_map if dataset_map is None else dataset_map
        label = self._read(path)
        lut = value_lut(value_map) if value_map else None
        # Counting raw values (one bincount, cheap on uint8) lets the error
        # name the raw values at fault, not only what they became.
        counts = np.bincount(label.ravel(), minlength=256)
        mapped = lut if lut is not None else np.arange(256)
        bad = np.flatnonzero((counts > 0) & ~self._allowed[mapped])
        if bad.size:
            found = ', '.join(
                f'{v}: {counts[v]} px' if lut is None else
                f'raw {v} -> {lut[v]}: {counts[v]} px' for v in bad[:10])
            conversion = (describe_value_map(value_map)
                          if value_map else '(none)')
            raise ValueError(
                f'{path}: label values outside {self.allowed_values} after '
                f'the conversion {conversion}: {found}. Check the dataset '
                'type (raw release vs converted labels) and its value map.')
        if lut is not None:
            label = lut[label]
        results['gt_seg_map'] = label
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(value_map={self.value_map}, '
                f'allowed_values={self.allowed_values}, '
                f"imdecode_backend='{self.imdecode_backend}')")
