"""Anomaly score maps from MMSeg's test outputs (shared by export and vis)."""
import os.path as osp
from typing import Optional

import numpy as np
import torch


def frame_id_of(data_sample) -> str:
    """The frame id of a test output: its image file name without suffix."""
    path = data_sample.metainfo.get('img_path')
    if not path:
        raise ValueError('The data sample has no img_path, so its frame id is '
                         'unknown; load images with LoadImageFromFile.')
    return osp.splitext(osp.basename(path))[0]


def scores_from_logits(logits: torch.Tensor,
                       score: str = 'energy',
                       score_cfg: Optional[dict] = None) -> np.ndarray:
    """Anomaly scores of one image's logits (higher = more anomalous).

    Args:
        logits: ``(C, H, W)`` logits at the image's resolution.
        score: Score name of :mod:`mmseg_be.scoring`.
        score_cfg: Extra keyword arguments of
            :func:`mmseg_be.scoring.compute_anomaly_score` (e.g.
            ``temperature``).

    Returns:
        np.ndarray: ``(H, W)`` float32 scores.
    """
    from mmseg_be.scoring import compute_anomaly_score
    if logits.ndim != 3:
        raise ValueError(f'Expected (C, H, W) logits, got shape '
                         f'{tuple(logits.shape)}.')
    with torch.no_grad():
        out = compute_anomaly_score(
            logits[None].float(), name=score, **(score_cfg or {}))
    return out[0].detach().cpu().numpy().astype(np.float32)


def scores_from_sample(data_sample,
                       score: str = 'energy',
                       score_cfg: Optional[dict] = None) -> np.ndarray:
    """Anomaly scores of a test output (a ``SegDataSample``).

    Uses ``seg_logits``, which MMSeg's segmentors resize to the original image
    size in ``postprocess_result``.
    """
    if 'seg_logits' not in data_sample:
        raise ValueError('The test output has no seg_logits; anomaly scores '
                         'need the logits of an MMSeg segmentor.')
    return scores_from_logits(data_sample.seg_logits.data, score, score_cfg)
