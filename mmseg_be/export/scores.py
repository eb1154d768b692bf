"""Anomaly score maps from MMSeg's test outputs (shared by export and vis)."""
import os.path as osp
from typing import Optional

import numpy as np

from mmseg_be.scoring import scores_from_logits


def frame_id_of(data_sample) -> str:
    """The frame id of a test output: its image file name without suffix."""
    path = data_sample.metainfo.get('img_path')
    if not path:
        raise ValueError('The data sample has no img_path, so its frame id is '
                         'unknown; load images with LoadImageFromFile.')
    return osp.splitext(osp.basename(path))[0]


def scores_from_sample(data_sample,
                       anomaly_score: Optional[dict] = None) -> np.ndarray:
    """Anomaly scores of a test output (a ``SegDataSample``).

    Uses ``seg_logits``, which MMSeg's segmentors resize to the original image
    size in ``postprocess_result``.

    Args:
        data_sample: The test output.
        anomaly_score: The score setting
            (:func:`mmseg_be.scoring.anomaly_score_settings`).

    Returns:
        np.ndarray: ``(H, W)`` float32 scores, all finite.

    Raises:
        NonFiniteScoreError: NaN/inf scores (naming the image and count).
    """
    if 'seg_logits' not in data_sample:
        raise ValueError('The test output has no seg_logits; anomaly scores '
                         'need the logits of an MMSeg segmentor.')
    where = data_sample.metainfo.get('img_path', 'image')
    return scores_from_logits(data_sample.seg_logits.data, anomaly_score,
                              where)
