"""The files :class:`~.pixel_ood_metric.PixelOODMetric` writes to its
``output_dir``: per-image results and the curves of an evaluation."""
import json
import os
import os.path as osp
from typing import Any, Dict, Mapping

import numpy as np
from PIL import Image


def write_image_result(output_dir: str, name: str, score: np.ndarray,
                       sample: dict) -> None:
    """Write ``{stem}_anomaly.npy`` (the evaluated scores) and, when the
    sample has a prediction, ``{stem}.png`` (the predicted segmentation).

    Args:
        output_dir: The folder.
        name: The image path; its stem names the files.
        score: ``(H, W)`` float32 anomaly scores.
        sample: The test output (a ``SegDataSample`` as a dict).
    """
    os.makedirs(output_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(name))[0]
    np.save(osp.join(output_dir, f'{stem}_anomaly.npy'), score)
    if 'pred_sem_seg' in sample:
        pred = sample['pred_sem_seg']['data'].squeeze().cpu().numpy()
        Image.fromarray(pred.astype(np.uint8)).save(
            osp.join(output_dir, f'{stem}.png'))


def write_curves_file(output_dir: str, metrics: Dict[str, float],
                      score_cfg: Mapping[str, Any],
                      curves: Mapping[str, Any]) -> None:
    """Write ``pixel_ood_curves.json``: the metrics, the score setting and
    the thinned curves (non-finite values as null).

    Args:
        output_dir: The folder.
        metrics: The reported metrics.
        score_cfg: The anomaly-score setting evaluated.
        curves: :attr:`~.pixel_ood_metric.PixelOODMetric.last_curves`.
    """
    os.makedirs(output_dir, exist_ok=True)

    def as_list(values: np.ndarray) -> list:
        return [None if not np.isfinite(v) else float(v) for v in values]

    payload = dict(
        metrics=metrics, score=score_cfg,
        best_f1_threshold=curves['best_f1_threshold'],
        num_pos=curves['num_pos'], num_neg=curves['num_neg'],
        roc=None if curves['roc'] is None else
        {k: as_list(v) for k, v in curves['roc'].items()},
        pr=None if curves['pr'] is None else
        {k: as_list(v) for k, v in curves['pr'].items()})
    with open(osp.join(output_dir, 'pixel_ood_curves.json'), 'w') as f:
        json.dump(payload, f, indent=1)
