"""Fishyscapes Lost & Found and Static validation sets.

Both are distributed (e.g. with the PEBAL / SynBoost data packages) as
``original/<frame>.png`` images and ``labels/<frame>.png`` label maps that are
already 0 (inlier), 1 (anomaly), 255 (ignore). The SegmentMeIfYouCan kit's
naming, ``<frame>_fishy-labels.png``, is read by setting
``seg_map_suffix='_fishy-labels.png'`` and the two folders in ``data_prefix``.
"""
from typing import Optional, Sequence, Union

from mmseg.registry import DATASETS

from .ood_base import OODBenchmarkDataset


class _FishyscapesDataset(OODBenchmarkDataset):
    """Shared reader of the two Fishyscapes validation sets.

    Args:
        data_prefix: Image and label folders under ``data_root``. Defaults
            to ``original`` and ``labels``.
        img_suffix: Image suffix(es). Defaults to ('.png', '.jpg').
        seg_map_suffix: Label suffix appended to the frame id. Defaults to
            '.png' (same file name as the image); '_fishy-labels.png' for
            the SMIYC kit's naming.
        **kwargs: See :class:`OODBenchmarkDataset`.
    """

    EXPECTED_LAYOUT = (
        '{data_root}/\n'
        '    {img_path}/<frame>{img_suffix}      (RGB, 1024x2048)\n'
        '    {seg_map_path}/<frame>{seg_map_suffix}   '
        '(0 inlier, 1 anomaly, 255 ignore)')

    def __init__(self,
                 data_prefix: Optional[dict] = None,
                 img_suffix: Union[str, Sequence[str]] = ('.png', '.jpg'),
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path='original', seg_map_path='labels'),
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)


@DATASETS.register_module()
class FishyscapesLostAndFoundDataset(_FishyscapesDataset):
    """Fishyscapes Lost & Found validation (100 frames, 1024x2048).

    Real obstacles on the road from LostAndFound, relabelled by Fishyscapes
    with Cityscapes-known objects as inliers. See the base class for
    arguments.
    """


@DATASETS.register_module()
class FishyscapesStaticDataset(_FishyscapesDataset):
    """Fishyscapes Static validation (30 frames, 1024x2048).

    Cityscapes validation images with pasted anomalous objects. See the base
    class for arguments.
    """
