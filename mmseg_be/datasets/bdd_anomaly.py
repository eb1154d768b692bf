"""BDD-Anomaly (the CAOS benchmark; Hendrycks et al., ICML 2022).

Real driving frames of the BDD100K semantic segmentation set, with the
classes train, motorcycle and bicycle held out as anomalies: a frame holding
any of them is a test frame (810 frames, listed in
:mod:`~mmseg_be.datasets.bdd_anomaly_frames`), the rest are the
in-distribution splits. Read in the layout of the BDD100K segmentation
download, which the authors' shared labels follow::

    <data_root>/images/{train,val}/<id>.jpg
    <data_root>/labels/{train,val}/<id>_train_id.png   (trainIds 0..18, 255)
"""
import os.path as osp
from typing import Dict, List, Optional

from mmseg.registry import DATASETS

from .bdd_anomaly_frames import FROM_TRAIN, FROM_VAL
from .ood_base import OODBenchmarkDataset

# BDD100K trainIds held out as anomalies: 16 train, 17 motorcycle,
# 18 bicycle (create_bdd_dataset.py of hendrycks/anomaly-seg).
BDD_ANOMALY_CLASS_IDS = (16, 17, 18)
BDD_ANOMALY_FRAMES = {'train': FROM_TRAIN, 'val': FROM_VAL}


@DATASETS.register_module()
class BDDAnomalyDataset(OODBenchmarkDataset):
    """BDD-Anomaly test frames for the evaluator: 0 inlier, 1 anomaly.

    Frames are taken from both BDD100K splits by the authors' list. Labels:
    trainIds 16, 17, 18 -> 1; every other value, 255 ("other") included,
    -> 0: the authors count every pixel that is not an anomaly class as a
    negative.

    Args:
        frames: ``{'train': ids, 'val': ids}`` to read instead of the
            authors' list (e.g. a miniature test tree; give its
            ``releases`` too).
        **kwargs: See :class:`OODBenchmarkDataset`.
    """

    EXPECTED_LAYOUT = (
        '{data_root}/   (BDD100K segmentation download, 10K images)\n'
        '    images/{{train,val}}/<id>.jpg\n'
        '    labels/{{train,val}}/<id>_train_id.png   (trainIds 0..18, '
        '255)')
    VALUE_MAP = {**{raw: 0 for raw in range(0, 16)},
                 **{raw: 1 for raw in BDD_ANOMALY_CLASS_IDS}, 255: 0}

    def __init__(self, frames: Optional[Dict[str, tuple]] = None,
                 **kwargs) -> None:
        self.frames = {
            split: tuple(ids)
            for split, ids in (frames or BDD_ANOMALY_FRAMES).items()
        }
        kwargs.setdefault('img_suffix', '.jpg')
        kwargs.setdefault('seg_map_suffix', '_train_id.png')
        kwargs.setdefault('data_prefix', dict(img_path='images',
                                              seg_map_path='labels'))
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """The listed frames of both splits, each with its label.

        A listed frame whose image or label is missing is left out (the
        release check names it); a folder with none of them is an error.

        Returns:
            list[dict]: See :meth:`OODBenchmarkDataset.load_data_list`.
        """
        img_root = self.data_prefix.get('img_path', '')
        ann_root = self.data_prefix.get('seg_map_path', '')
        self._require_dir(img_root, 'Image')
        self._require_dir(ann_root, 'Label')
        data_list = []
        for split, ids in self.frames.items():
            for fid in ids:
                img = osp.join(img_root, split, fid + self.img_suffixes[0])
                ann = osp.join(ann_root, split, fid + self.seg_map_suffix)
                if not (osp.isfile(img) and osp.isfile(ann)):
                    continue
                data_list.append(
                    dict(img_path=img, seg_map_path=ann, frame_id=fid,
                         ood_value_map=self.VALUE_MAP,
                         label_map=self.label_map, reduce_zero_label=False,
                         seg_fields=[]))
        if not data_list:
            raise self._layout_error(
                'none of the BDD-Anomaly frames was found.', self.data_root
                or img_root)
        return sorted(data_list, key=lambda info: info['frame_id'])
