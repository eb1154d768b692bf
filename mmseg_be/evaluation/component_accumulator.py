"""SegmentMeIfYouCan component-level metrics: sIoU, PPV, mean F1.

Per image: the binary prediction ``score > threshold`` (ignore pixels zeroed;
``score >= threshold`` with ``inclusive=True``)
and the ground-truth anomaly mask are split into 8-connected components.
Predicted components smaller than ``segsize`` pixels are dropped; ground-truth
components smaller than ``instsize`` become ignore. Over the region of
interest (label != ignore after that):

* sIoU(k) of ground-truth component k, with K^ the union of the predicted
  components that touch k and A the pixels of the other ground-truth
  components: ``|k & K^| / (|K^| + |k| - |k & K^| - |K^ & A|)``;
* PPV(j) of predicted component j: ground-truth anomaly pixels in j / |j|;
* F1(tau) = 2 TP / (2 TP + FN + FP) with TP/FN the ground-truth components
  with sIoU >= / < tau and FP the predicted ones with PPV < tau, pooled over
  the dataset; mean F1 averages tau over ``linspace(0.25, 0.75, 11)``.

Dataset sIoU and PPV are means over all components of the dataset.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy import ndimage

from ..constants import IGNORE_INDEX

TRACK_SIZES = {'anomaly': (500, 100), 'obstacle': (50, 10)}
F1_THRESHOLDS = np.linspace(0.25, 0.75, 11)
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def segment_components(score: np.ndarray, label: np.ndarray,
                       threshold: float, segsize: int, instsize: int,
                       ignore_index: int = IGNORE_INDEX,
                       inclusive: bool = False
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """sIoU of every ground-truth and PPV of every predicted component.

    Args:
        score: (H, W) anomaly scores.
        label: (H, W) labels: 0 inlier, 1 anomaly, ``ignore_index`` void.
        threshold: Pixels with ``score > threshold`` are predicted anomalous.
        segsize: Smallest predicted component kept (pixels).
        instsize: Smallest ground-truth component kept (pixels).
        ignore_index: Void label.
        inclusive: Predict ``score >= threshold`` instead, which is the
            pixel set of :class:`PixelOODAccumulator`'s best-F1 threshold.

    Returns:
        ``(siou, ppv)``: one value per ground-truth / predicted component.
    """
    if score.shape != label.shape:
        raise ValueError(f'score shape {score.shape} != label shape '
                         f'{label.shape}')
    void = label == ignore_index
    pred = (score >= threshold if inclusive else score > threshold) & ~void
    gt_ids, n_gt = ndimage.label(label == 1, structure=_EIGHT_CONNECTED)
    pred_ids, n_pred = ndimage.label(pred, structure=_EIGHT_CONNECTED)
    pred_sizes = np.bincount(pred_ids.ravel(), minlength=n_pred + 1)
    small_pred = pred_sizes < segsize
    small_pred[0] = True
    pred_ids[small_pred[pred_ids]] = 0
    gt_sizes = np.bincount(gt_ids.ravel(), minlength=n_gt + 1)
    small_gt = gt_sizes < instsize
    small_gt[0] = False
    roi = ~(void | small_gt[gt_ids])
    gt_ids[~roi] = 0
    g = gt_ids[roi].ravel().astype(np.int64)
    p = pred_ids[roi].ravel().astype(np.int64)
    gt_size = np.bincount(g, minlength=n_gt + 1)
    pred_size = np.bincount(p, minlength=n_pred + 1)
    # contingency of (gt component, predicted component) over the ROI
    pairs, overlap = np.unique(g * (n_pred + 1) + p, return_counts=True)
    pair_gt, pair_pred = pairs // (n_pred + 1), pairs % (n_pred + 1)
    inside = (pair_gt > 0) & (pair_pred > 0)
    pair_gt, pair_pred, overlap = (pair_gt[inside], pair_pred[inside],
                                   overlap[inside])
    # anomaly pixels of each predicted component (all gt components)
    anomaly_in_pred = np.bincount(pair_pred, weights=overlap,
                                  minlength=n_pred + 1)
    siou = []
    for k in np.flatnonzero(gt_size[1:]) + 1:
        mine = pair_gt == k
        touching = pair_pred[mine]
        inter = overlap[mine].sum()
        union_pred = pred_size[touching].sum()
        others = (anomaly_in_pred[touching] - overlap[mine]).sum()
        siou.append(inter / (union_pred + gt_size[k] - inter - others))
    present = np.flatnonzero(pred_size)
    present = present[present > 0]
    ppv = anomaly_in_pred[present] / pred_size[present]
    return np.asarray(siou, dtype=np.float64), ppv.astype(np.float64)


class ComponentMetricAccumulator:
    """Dataset-level component metrics from per-image components.

    Args:
        track: ``'anomaly'`` (segsize 500, instsize 100) or ``'obstacle'``
            (50, 10).
        segsize: Override of the predicted-component size threshold.
        instsize: Override of the ground-truth-component size threshold.
        ignore_index: Void label.
    """

    def __init__(self, track: str = 'anomaly',
                 segsize: Optional[int] = None,
                 instsize: Optional[int] = None,
                 ignore_index: int = IGNORE_INDEX) -> None:
        if track not in TRACK_SIZES:
            raise ValueError(f'track must be one of {sorted(TRACK_SIZES)}, '
                             f'got {track!r}')
        default_seg, default_inst = TRACK_SIZES[track]
        self.segsize = default_seg if segsize is None else segsize
        self.instsize = default_inst if instsize is None else instsize
        self.ignore_index = ignore_index
        self.siou: List[np.ndarray] = []
        self.ppv: List[np.ndarray] = []

    def process(self, score: np.ndarray, label: np.ndarray,
                threshold: float, inclusive: bool = False) -> None:
        """Add one image's components (only small arrays are kept)."""
        siou, ppv = segment_components(score, label, threshold,
                                       self.segsize, self.instsize,
                                       self.ignore_index, inclusive)
        self.siou.append(siou)
        self.ppv.append(ppv)

    def merge(self, other: 'ComponentMetricAccumulator'
              ) -> 'ComponentMetricAccumulator':
        self.siou += other.siou
        self.ppv += other.ppv
        return self

    def compute(self) -> Dict[str, float]:
        """``sIoU``, ``PPV``, ``mean_F1`` and ``F1@tau`` (fractions)."""
        # Sorted before summing: the same numbers whatever the order in which
        # frames arrived or ranks were merged.
        siou = np.sort(np.concatenate(self.siou)) if self.siou else np.zeros(0)
        ppv = np.sort(np.concatenate(self.ppv)) if self.ppv else np.zeros(0)
        result = dict(sIoU=float(siou.mean()) if siou.size else float('nan'),
                      PPV=float(ppv.mean()) if ppv.size else float('nan'),
                      num_gt_components=int(siou.size),
                      num_pred_components=int(ppv.size))
        f1s = []
        for tau in F1_THRESHOLDS:
            tp = np.count_nonzero(siou >= tau)
            fn = siou.size - tp
            fp = np.count_nonzero(ppv < tau)
            denom = 2 * tp + fn + fp
            f1 = 2 * tp / denom if denom else float('nan')
            result[f'F1@{tau:.2f}'] = float(f1)
            f1s.append(f1)
        result['mean_F1'] = float(np.mean(f1s))
        return result
