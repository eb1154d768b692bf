"""SegmentMeIfYouCan-style *binned* pixel metrics (leaderboard parity only).

The SMIYC kit (``road_anomaly_benchmark``, metric ``PixBinaryClass``) does
not rank every pixel. Per frame, over the pixels of the region of interest
(label != 255), it takes as thresholds

* ``vmin - eps`` and ``vmax + eps`` of the frame's scores, with
  ``eps = max(0.01 * (vmax - vmin), 0.01)``;
* ``min(384, n_pos)`` evenly spaced quantiles (``np.quantile``, linear
  interpolation) of the anomaly-pixel scores and ``min(384, n_neg)`` of the
  inlier-pixel scores, so a class with fewer than 384 pixels in the frame
  contributes every one of its pixels' scores;

removes repeated values (``np.unique``) and counts each class's pixels per bin
with ``np.histogram`` (bins ``[e_i, e_i+1)``, the last one closed). The
thresholds of all frames are pooled and sorted in descending order
(``np.argsort(...)[::-1]``), TP/FP cumulated, and repeated thresholds
collapsed to their last occurrence (the first row is always kept, as in the
kit). AP is ``sum(diff(recall) * precision[1:])``, AUROC ``trapz(tpr, fpr)``
and FPR95 ``fpr[searchsorted(tpr, 0.95)]`` (1.0 when 95 % TPR is never
reached). Scores are used in their own dtype, as the kit does with the
float16 maps of a submission.

The numbers approximate the exact ones of :class:`PixelOODAccumulator`; use
this class only to compare with the leaderboard. Where the kit's own result
depends on frame order (ties of the highest threshold across frames, broken
by ``argsort``), frames are taken in the order they were added.
"""
import warnings
from typing import Dict, List, Optional

import numpy as np

from ..constants import IGNORE_INDEX
from .valid_pixels import split_valid


class SMIYCBinnedAccumulator:
    """Per-frame quantile-binned pixel curves, pooled over frames.

    Args:
        quantiles_per_class: Most quantiles taken per class and frame (384:
            half of the kit's 768 bins).
    """

    def __init__(self, quantiles_per_class: int = 384) -> None:
        self.quantiles_per_class = quantiles_per_class
        self._thresholds: List[np.ndarray] = []
        self._tp: List[np.ndarray] = []
        self._fp: List[np.ndarray] = []
        self.num_pos = 0
        self.num_neg = 0
        self.num_images = 0

    def update(self, scores: np.ndarray, labels: np.ndarray,
               ignore_index: Optional[int] = IGNORE_INDEX) -> None:
        """Bin one frame (same conventions as PixelOODAccumulator.update)."""
        neg, pos = split_valid(scores, labels, ignore_index)
        self.num_images += 1
        if not neg.size and not pos.size:
            return
        roi = np.concatenate((pos, neg))
        vmin, vmax = np.min(roi), np.max(roi)
        eps = np.maximum((vmax - vmin) * 1e-2, 1e-2)
        edges = [[vmin - eps, vmax + eps]]
        for part in (pos, neg):
            if part.size:
                count = min(self.quantiles_per_class, part.size)
                edges.append(np.quantile(part, np.linspace(0, 1, count)))
        edges = np.unique(np.concatenate(edges))
        # bin i holds the pixels in [edges[i], edges[i+1]): they are
        # predicted anomalous from threshold edges[i] downwards
        tp_bins, _ = np.histogram(pos, bins=edges)
        fp_bins, _ = np.histogram(neg, bins=edges)
        self._thresholds.append(edges[:-1][::-1])
        self._tp.append(tp_bins[::-1])
        self._fp.append(fp_bins[::-1])
        self.num_pos += pos.size
        self.num_neg += neg.size

    def merge(self, other: 'SMIYCBinnedAccumulator'
              ) -> 'SMIYCBinnedAccumulator':
        """Add another accumulator's frames (in place)."""
        self._thresholds += other._thresholds
        self._tp += other._tp
        self._fp += other._fp
        self.num_pos += other.num_pos
        self.num_neg += other.num_neg
        self.num_images += other.num_images
        return self

    def compute(self) -> Dict[str, float]:
        """``AUROC``, ``AP``, ``FPR95`` (fractions) of the pooled bins."""
        nan = float('nan')
        if not self.num_pos or not self.num_neg:
            warnings.warn('binned metrics need anomaly and inlier pixels; '
                          'reporting NaN')
            return dict(AUROC=nan, AP=nan, FPR95=nan, num_pos=self.num_pos,
                        num_neg=self.num_neg, num_images=self.num_images)
        thr = np.concatenate(self._thresholds)
        order = np.argsort(thr)[::-1]
        thr = thr[order]
        tp = np.cumsum(np.concatenate(self._tp)[order].astype(np.float64))
        fp = np.cumsum(np.concatenate(self._fp)[order].astype(np.float64))
        # the last row of each threshold, and (as the kit) always the first
        keep = np.concatenate(([0], np.nonzero(thr[:-1] != thr[1:])[0],
                               [len(thr) - 1]))
        tp, fp = tp[keep], fp[keep]
        if tp[0] != 0 or fp[0] != 0:
            tp = np.concatenate(([0.0], tp))
            fp = np.concatenate(([0.0], fp))
        if tp[-1] != self.num_pos or fp[-1] != self.num_neg:
            tp = np.concatenate((tp, [float(self.num_pos)]))
            fp = np.concatenate((fp, [float(self.num_neg)]))
        tpr = tp / self.num_pos
        fpr = fp / self.num_neg
        predicted = tp + fp
        precision = np.ones_like(tp)
        np.divide(tp, predicted, out=precision, where=predicted > 0)
        ap = float(np.sum(np.diff(tpr) * precision[1:]))
        auroc = float(np.trapezoid(tpr, fpr))
        i = int(np.searchsorted(tpr, 0.95))
        fpr95 = float(fpr[i]) if i < len(fpr) else 1.0
        return dict(AUROC=auroc, AP=ap, FPR95=fpr95, num_pos=self.num_pos,
                    num_neg=self.num_neg, num_images=self.num_images)
