"""SegmentMeIfYouCan AnomalyTrack (RoadAnomaly21) and ObstacleTrack
(RoadObstacle21).

Both releases hold ``images/<frame>.<ext>`` for every frame and
``labels_masks/<frame>_labels_semantic.png`` (0/1/255) for the validation
frames only: the test labels are private. With labels, the frames are
therefore the labelled ones (paired from the label files); with
``with_labels=False`` every image is listed, for exporting submissions.
"""
from typing import Optional

from mmseg.registry import DATASETS

from .ood_base import OODBenchmarkDataset


class _SMIYCDataset(OODBenchmarkDataset):
    """Shared reader of the two SMIYC tracks.

    Args:
        data_prefix: Image and label folders under ``data_root``. Defaults
            to ``images`` and ``labels_masks``.
        **kwargs: See :class:`OODBenchmarkDataset` (``with_labels=False``
            for the test images).
    """

    EXPECTED_LAYOUT = (
        '{data_root}/\n'
        '    {img_path}/<frame>{img_suffix}   (all frames)\n'
        '    {seg_map_path}/<frame>{seg_map_suffix}   (validation frames '
        'only; 0/1/255)')
    PAIR_FROM_LABELS = True

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        kwargs.setdefault('seg_map_suffix', '_labels_semantic.png')
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path='images', seg_map_path='labels_masks'),
            **kwargs)


@DATASETS.register_module()
class SMIYCAnomalyTrackDataset(_SMIYCDataset):
    """SMIYC AnomalyTrack: ``.jpg`` images, 0 inlier / 1 anomaly / 255.

    See the base class for arguments.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('img_suffix', '.jpg')
        super().__init__(**kwargs)


@DATASETS.register_module()
class SMIYCObstacleTrackDataset(_SMIYCDataset):
    """SMIYC ObstacleTrack: ``.webp`` images, 0 road / 1 obstacle / 255.

    The road is the region of interest: everything off the road is 255.
    See the base class for arguments.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('img_suffix', '.webp')
        super().__init__(**kwargs)
