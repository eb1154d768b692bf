"""LostAndFound (Pinggera et al., IROS 2016), as the SMIYC kit reads it.

The release follows the Cityscapes layout:
``leftImg8bit/{split}/{seq}/<frame>_leftImg8bit.png`` and
``gtCoarse/{split}/{seq}/<frame>_gtCoarse_labelIds.png``. The label ids are
converted on the fly: 1 (free road) -> 0, 2..200 (obstacles) -> 1,
0 (unlabelled, i.e. off the drivable space) -> 255, as in the
SegmentMeIfYouCan kit, where the road is the region of interest.
"""
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmseg.registry import DATASETS

from mmseg_be.constants import IGNORE_INDEX
from mmseg_be.utils.image_io import read_image

from .ood_base import OODBenchmarkDataset

LAF_FREE_ROAD = 1
LAF_OBSTACLE_IDS = range(2, 201)
LAF_VALUE_MAP = {0: IGNORE_INDEX, LAF_FREE_ROAD: 0,
                 **{i: 1 for i in LAF_OBSTACLE_IDS}}


@DATASETS.register_module()
class LostAndFoundDataset(OODBenchmarkDataset):
    """LostAndFound train or test split, with an optional "no known" filter.

    LostAndFound-NoKnown keeps the frames whose obstacles are only of classes
    that a Cityscapes model never saw (no humans, bicycles, ...). The list of
    LostAndFound label ids counted as "known" is not part of this project's
    specification, so the variant is configured explicitly, in one of two
    ways:

    - ``exclude_label_ids``: raw label ids of the known classes; a frame
      whose label map contains any of them is dropped (every label is read
      once when the dataset is built);
    - ``ann_file``: a published frame list, one frame id per line (e.g.
      ``04_Maurener_Weg_8_000000_000030``).

    Frame ids drop the sequence folder, matching the SMIYC kit. The kit also
    skips the frames whose label map is all 0; they hold no valid pixel and
    do not change pixel metrics, so they are kept here.

    Args:
        split: 'test' or 'train'; sets the default ``data_prefix``.
        exclude_label_ids: Raw label ids whose frames are dropped.
        data_prefix: Image and label folders under ``data_root``; defaults to
            ``leftImg8bit/{split}`` and ``gtCoarse/{split}``.
        **kwargs: See :class:`OODBenchmarkDataset`.
    """

    EXPECTED_LAYOUT = (
        '{data_root}/\n'
        '    {img_path}/<seq>/<frame>{img_suffix}\n'
        '    {seg_map_path}/<seq>/<frame>{seg_map_suffix}   (0 unlabelled, '
        '1 free road, 2..200 obstacles)')
    VALUE_MAP = LAF_VALUE_MAP
    RECURSIVE = True

    def __init__(self,
                 split: str = 'test',
                 exclude_label_ids: Optional[Sequence[int]] = None,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(
                f"LostAndFoundDataset: split must be 'train' or 'test', got "
                f'{split!r}.')
        self.split = split
        self.exclude_label_ids = (
            tuple(int(i) for i in exclude_label_ids)
            if exclude_label_ids is not None else None)
        kwargs.setdefault('img_suffix', '_leftImg8bit.png')
        kwargs.setdefault('seg_map_suffix', '_gtCoarse_labelIds.png')
        super().__init__(
            data_prefix=data_prefix if data_prefix is not None else dict(
                img_path=f'leftImg8bit/{split}',
                seg_map_path=f'gtCoarse/{split}'),
            **kwargs)

    def frame_id(self, rel_stem: str) -> str:
        """The frame id without the sequence folder."""
        return osp.basename(rel_stem)

    def load_data_list(self) -> List[dict]:
        """List the split's frames, dropping those with excluded label ids.

        Returns:
            list[dict]: See :meth:`OODBenchmarkDataset.load_data_list`.
        """
        data_list = super().load_data_list()
        if self.exclude_label_ids is None:
            return data_list
        if not self.with_labels:
            raise ValueError(
                'LostAndFoundDataset: exclude_label_ids filters frames by '
                'their labels and needs with_labels=True.')
        excluded = np.zeros(256, dtype=bool)
        excluded[list(self.exclude_label_ids)] = True
        kept = []
        for info in data_list:
            raw = read_image(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
            present = np.bincount(raw.ravel(), minlength=256) > 0
            if not (present & excluded).any():
                kept.append(info)
        return kept
