"""Road Anomaly (Lis et al., ICCV 2019): 60 frames, 1280x720."""
from typing import Optional

from mmseg.registry import DATASETS

from .ood_base import OODBenchmarkDataset


@DATASETS.register_module()
class RoadAnomalyDataset(OODBenchmarkDataset):
    """Road Anomaly in its release layout, converted on the fly.

    The release keeps each frame's label editor output in a folder next to
    the image: ``frames/<name>.jpg`` and
    ``frames/<name>.labels/labels_semantic.png``, where the anomaly has the raw
    value 2 and everything else 0. ``VALUE_MAP`` turns 2 into 1; there is no
    ignore region.

    Args:
        data_prefix: Image and label folders under ``data_root`` (both
            ``frames``).
        **kwargs: See :class:`OODBenchmarkDataset`.
    """

    EXPECTED_LAYOUT = (
        '{data_root}/   (RoadAnomaly_jpg of the release)\n'
        '    {img_path}/<name>{img_suffix}\n'
        '    {seg_map_path}/<name>{seg_map_suffix}   (0 inlier, 2 anomaly)')
    VALUE_MAP = {2: 1}

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        kwargs.setdefault('img_suffix', '.jpg')
        kwargs.setdefault('seg_map_suffix', '.labels/labels_semantic.png')
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path='frames', seg_map_path='frames'),
            **kwargs)
