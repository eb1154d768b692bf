"""StreetHazards (the CAOS benchmark; Hendrycks et al., ICML 2022).

Synthetic CARLA scenes at 1280x720 with a training set of its own. The two
archives of the release (hendrycks/anomaly-seg README) unpack to::

    train/images/{training,validation}/<town>/<frame>.png
    train/annotations/{training,validation}/<town>/<frame>.png
    test/images/test/<town>/<frame>.png
    test/annotations/test/<town>/<frame>.png

Label files hold the class index plus one: 1 unlabeled, 2 building, ...,
13 traffic sign, 14 anomaly (the authors' ``dataset.py`` subtracts one; its
``eval_ood.py`` counts class 13 after that as the anomaly). The anomaly
class appears in the test towns only. Following the authors (their answer
in anomaly-seg issue #17), a model is trained on the 13 classes 0..12,
"unlabeled" and "other" included.
"""
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .ood_base import OODBenchmarkDataset
from .releases import ReleaseCheckMixin

# Class names and colours of the release (create_dataset.py of
# hendrycks/anomaly-seg, its commented StreetHazards colour table), indices
# after the authors' minus one.
STREET_HAZARDS_CLASSES = ('unlabeled', 'building', 'fence', 'other',
                          'pedestrian', 'pole', 'road line', 'road',
                          'sidewalk', 'vegetation', 'car', 'wall',
                          'traffic sign')
STREET_HAZARDS_PALETTE = [[0, 0, 0], [70, 70, 70], [190, 153, 153],
                          [250, 170, 160], [220, 20, 60], [153, 153, 153],
                          [157, 234, 50], [128, 64, 128], [244, 35, 232],
                          [107, 142, 35], [0, 0, 142], [102, 102, 156],
                          [220, 220, 0]]
# Raw label value of the anomaly class (class 13 + 1).
STREET_HAZARDS_ANOMALY = 14


@DATASETS.register_module()
class StreetHazardsDataset(ReleaseCheckMixin, BaseSegDataset):
    """StreetHazards training or validation split, 13 classes.

    Raw labels 1..13 become classes 0..12 through ``reduce_zero_label``
    (MMSeg's ``LoadAnnotations`` subtracts one; raw 0 does not occur).
    A frame's id is ``<town>/<frame>``.

    Args:
        split: 'training' or 'validation'; sets the default ``data_prefix``.
        data_prefix: Image and label folders under ``data_root``; defaults
            to ``train/images/{split}`` and ``train/annotations/{split}``.
        releases: Candidate releases instead of the project's table.
        release_check: 'frames', 'full' or 'off' (see
            :class:`~mmseg_be.datasets.ood_base.OODBenchmarkDataset`).
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO = dict(classes=STREET_HAZARDS_CLASSES,
                    palette=STREET_HAZARDS_PALETTE)
    SPLITS = ('training', 'validation')
    # Labels are class ids, not 0/1/255: no anomaly share to report.
    OOD_LABELS = False

    def __init__(self,
                 split: str = 'training',
                 data_prefix: Optional[dict] = None,
                 releases: Optional[Sequence] = None,
                 release_check: str = 'frames',
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'StreetHazardsDataset: split must be one of '
                             f'{self.SPLITS}, got {split!r}.')
        self.split = split
        self._init_release_check(releases, release_check)
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        kwargs.setdefault('reduce_zero_label', True)
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path=f'train/images/{split}',
                seg_map_path=f'train/annotations/{split}'),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """MMSeg's listing (recursive over the town folders) plus frame ids.

        Returns:
            list[dict]: MMSeg's data infos with ``frame_id`` added.
        """
        img_dir = self.data_prefix.get('img_path', '')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'StreetHazardsDataset: image folder {img_dir} not found; '
                'expected the streethazards_train.tar layout '
                '(train/images/{training,validation}/<town>/<frame>.png).')
        data_list = super().load_data_list()
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            info['frame_id'] = rel[:-len(self.img_suffix)]
        return data_list


@DATASETS.register_module()
class StreetHazardsAnomalyDataset(OODBenchmarkDataset):
    """StreetHazards test split for the evaluator: 0 inlier, 1 anomaly.

    Raw 14 (the anomaly class) becomes 1 and raw 1..13 become 0; there is
    no ignore region, as in the authors' evaluation, where every pixel that
    is not the anomaly class is a negative. Frame ids are
    ``<town>/<frame>``.

    Args:
        data_prefix: Image and label folders under ``data_root``; defaults
            to ``test/images/test`` and ``test/annotations/test``.
        **kwargs: See :class:`OODBenchmarkDataset`.
    """

    EXPECTED_LAYOUT = (
        '{data_root}/   (streethazards_test.tar unpacked)\n'
        '    {img_path}/<town>/<frame>{img_suffix}\n'
        '    {seg_map_path}/<town>/<frame>{seg_map_suffix}   '
        '(1..13 classes + 1, 14 anomaly)')
    VALUE_MAP = {**{raw: 0 for raw in range(1, STREET_HAZARDS_ANOMALY)},
                 STREET_HAZARDS_ANOMALY: 1}
    RECURSIVE = True

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path='test/images/test',
                seg_map_path='test/annotations/test'),
            **kwargs)
