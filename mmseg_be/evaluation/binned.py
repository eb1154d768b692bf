"""SegmentMeIfYouCan-style *binned* pixel metrics (leaderboard parity only).

The SMIYC kit does not rank every pixel. Per frame it takes 384 quantiles of
the anomaly-pixel scores and 384 of the inlier-pixel scores, plus the frame's
``min - eps`` and ``max + eps``, as thresholds (768 quantile bins), counts the
pixels of each class per bin, pools the thresholds of all frames, sorts them,
accumulates TP/FP and collapses repeated thresholds. AP is then
``sum(diff(recall) * precision[1:])``, AUROC ``trapz(tpr, fpr)`` and FPR95
``fpr[searchsorted(tpr, 0.95)]`` (1.0 when 95 % TPR is never reached). The
numbers approximate the exact ones of :class:`PixelOODAccumulator`; use this
class only to compare with the leaderboard.
"""
import warnings
from typing import Dict, List, Optional

import numpy as np

from .functional import split_valid


class SMIYCBinnedAccumulator:
    """Per-frame quantile-binned pixel curves, pooled over frames.

    Args:
        quantiles_per_class: Quantiles taken per class and frame (384).
        eps: Margin added below the frame minimum and above its maximum.
    """

    def __init__(self, quantiles_per_class: int = 384,
                 eps: float = 1e-6) -> None:
        self.quantiles_per_class = quantiles_per_class
        self.eps = eps
        self._thresholds: List[np.ndarray] = []
        self._tp: List[np.ndarray] = []
        self._fp: List[np.ndarray] = []
        self.num_pos = 0
        self.num_neg = 0
        self.num_images = 0

    def update(self, scores: np.ndarray, labels: np.ndarray,
               ignore_index: Optional[int] = None) -> None:
        """Bin one frame (same conventions as PixelOODAccumulator.update)."""
        neg, pos = split_valid(scores, labels, ignore_index)
        neg = neg.astype(np.float64)
        pos = pos.astype(np.float64)
        self.num_images += 1
        if not neg.size and not pos.size:
            return
        both = np.concatenate((neg, pos))
        levels = np.linspace(0.0, 1.0, self.quantiles_per_class)
        edges = [both.min(keepdims=True) - self.eps,
                 both.max(keepdims=True) + self.eps]
        edges += [np.quantile(part, levels) for part in (pos, neg)
                  if part.size]
        edges = np.sort(np.concatenate(edges))
        # bin i holds the pixels in [edges[i], edges[i+1]): they are
        # predicted anomalous from threshold edges[i] downwards
        tp_bins, _ = np.histogram(pos, bins=edges)
        fp_bins, _ = np.histogram(neg, bins=edges)
        self._thresholds.append(edges[:-1])
        self._tp.append(tp_bins)
        self._fp.append(fp_bins)
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
        order = np.argsort(-thr, kind='stable')
        thr = thr[order]
        tp = np.cumsum(np.concatenate(self._tp)[order])
        fp = np.cumsum(np.concatenate(self._fp)[order])
        # collapse repeated thresholds: keep the last (largest) cumulation
        last = np.append(thr[1:] != thr[:-1], True)
        tp = np.concatenate(([0], tp[last])).astype(np.float64)
        fp = np.concatenate(([0], fp[last])).astype(np.float64)
        tpr = tp / self.num_pos
        fpr = fp / self.num_neg
        predicted = tp + fp
        precision = np.divide(tp, predicted, out=np.zeros_like(tp),
                              where=predicted > 0)
        ap = float(np.sum(np.diff(tpr) * precision[1:]))
        auroc = float(np.trapezoid(tpr, fpr))
        i = int(np.searchsorted(tpr, 0.95))
        fpr95 = float(fpr[i]) if i < len(fpr) else 1.0
        return dict(AUROC=auroc, AP=ap, FPR95=fpr95, num_pos=self.num_pos,
                    num_neg=self.num_neg, num_images=self.num_images)
