"""AUROC, AP, FPR at TPRs, best F1 and the curves in scikit-learn's float
order (``PixelOODAccumulator.compute(sklearn_float_order=True)``).

scikit-learn (1.9, ``metrics/_ranking.py``) sorts the scores descending and
takes one curve point per distinct score: ``tps``/``fps`` are cumulative
counts (exact integers in float64). Then

* ``roc_auc_score``: ``roc_curve(drop_intermediate=True)`` keeps the first
  and last points and every point where the second difference of ``fps`` or
  ``tps`` is non-zero (i.e. where this row's counts differ from the next
  row's), prepends (0, 0), ``fpr = fps / fps[-1]``, ``tpr = tps / tps[-1]``,
  and integrates with ``np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1])
  / 2.0)`` (scipy's trapezoid);
* ``average_precision_score``: ``precision = tps / (tps + fps)``,
  ``recall = tps / tps[-1]``, both reversed with 1 and 0 appended, and
  ``max(0, -np.sum(np.diff(recall) * precision[:-1]))``.

The distinct values are read once, highest first, in chunks
(:class:`_Chunk`); one small class per metric takes every chunk
(:class:`_AveragePrecision`, :class:`_ROCArea`, :class:`_FPRAtTPRs`,
:class:`_PebalFPR95`, :class:`_BestF1`, :class:`_ThinnedCurves`). AP and
AUROC compute scikit-learn's terms in the same float operations and feed
them to :class:`StreamingPairwiseSum`, which adds them in numpy's order; the
results are therefore bit-identical. (The default path,
:mod:`._metrics_from_counts`, computes the same metrics from integer counts,
equal to ~1e-15 relative.)
"""
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ._numpy_order_sum import StreamingPairwiseSum
from ._run_length_tables import (Table, count_union, table_total,
                                 union_chunks_desc)


class _Chunk(NamedTuple):
    """Consecutive distinct values (highest first) with their cumulative
    counts, and what every metric needs of them."""
    start: int           # index of the first row among all n rows
    values: np.ndarray
    tps: np.ndarray      # anomaly pixels scoring >= value (float64)
    fps: np.ndarray      # inlier pixels scoring >= value (float64)
    dp: np.ndarray       # anomaly pixels at value
    dq: np.ndarray       # inlier pixels at value
    hits: np.ndarray     # rows holding anomaly pixels
    recall_h: np.ndarray  # their recall (tps / P)


class _AveragePrecision:
    """``max(0, -sum(diff(recall) * precision))`` summed in scikit-learn's
    (ascending score) order. Only rows with anomaly pixels move recall: the
    term of any other row is (R - R) * P = +0.0 exactly."""

    def __init__(self, n: int, total_p: np.float64) -> None:
        self.n, self.total_p = n, total_p
        self.sum = StreamingPairwiseSum(n)

    def update(self, c: _Chunk) -> None:
        k = len(c.values)
        tp_h = c.tps[c.hits]
        # tps - dp is exactly the previous row's tps, so the previous recall
        # is the same float scikit-learn computes
        terms = np.zeros(k)
        terms[k - 1 - c.hits] = ((tp_h - c.dp[c.hits]) / self.total_p
                                 - c.recall_h) * (tp_h /
                                                  (tp_h + c.fps[c.hits]))
        self.sum.add(self.n - c.start - k, terms)

    def result(self) -> float:
        return float(max(0.0, -self.sum.total()))


class _ROCArea:
    """scikit-learn's trapezoid AUROC over the ROC points that
    ``roc_curve(drop_intermediate=True)`` keeps: the first and last points
    and every point whose counts differ from the next point's. The last row
    of a chunk is decided once the next chunk's first row is known.

    The terms ``(x[i+1] - x[i]) * (y[i+1] + y[i]) / 2.0`` are computed as
    the points arrive (elementwise, so the same floats as on the whole
    curve) and kept instead of the points; their count is known only at the
    end, so they are summed then in numpy's order.
    """

    def __init__(self, n: int, total_p: np.float64,
                 total_n: np.float64) -> None:
        self.n, self.total_p, self.total_n = n, total_p, total_n
        self.pending: Optional[Tuple[int, float, float, float, float]] = None
        # roc_curve prepends the point (0, 0)
        self._last_x = np.zeros(1)
        self._last_y = np.zeros(1)
        self._terms: List[np.ndarray] = []

    def _add_points(self, x: np.ndarray, y: np.ndarray) -> None:
        if not len(x):
            return
        fx = np.concatenate((self._last_x, x))
        ty = np.concatenate((self._last_y, y))
        self._terms.append((fx[1:] - fx[:-1]) * (ty[1:] + ty[:-1]) / 2.0)
        self._last_x, self._last_y = x[-1:], y[-1:]

    def update(self, c: _Chunk) -> None:
        k, n, p = len(c.values), self.n, self.pending
        if p is not None and (n <= 2 or p[0] == 0 or (p[1], p[2]) != (
                c.dp[0], c.dq[0])):
            self._add_points(np.array([p[3]]), np.array([p[4]]))
        kept = np.flatnonzero((c.dp[1:] != c.dp[:-1])
                              | (c.dq[1:] != c.dq[:-1]))
        if n <= 2:
            kept = np.arange(k - 1)
        elif c.start == 0 and k > 1 and (not len(kept) or kept[0] != 0):
            kept = np.concatenate(([0], kept))
        self._add_points(c.fps[kept] / self.total_n,
                         c.tps[kept] / self.total_p)
        self.pending = (c.start + k - 1, float(c.dp[-1]), float(c.dq[-1]),
                        float(c.fps[-1] / self.total_n),
                        float(c.tps[-1] / self.total_p))

    def result(self) -> float:
        # the last row is always kept
        self._add_points(np.array([self.pending[3]]),
                         np.array([self.pending[4]]))
        acc = StreamingPairwiseSum(sum(len(t) for t in self._terms))
        start = 0
        for terms in self._terms:
            acc.add(start, terms)
            start += len(terms)
        return acc.total()


class _FPRAtTPRs:
    """The FPR at the first (highest) threshold reaching each TPR."""

    def __init__(self, tprs: Sequence[float], total_n: np.float64) -> None:
        self.total_n = total_n
        self.fpr_at: Dict[float, Optional[float]] = {
            t: (0.0 if t <= 0 else None) for t in tprs}

    def update(self, c: _Chunk) -> None:
        for t, fpr in self.fpr_at.items():
            if fpr is None and len(c.hits) and c.recall_h[-1] >= t:
                row = c.hits[int(np.argmax(c.recall_h >= t))]
                self.fpr_at[t] = float(c.fps[row] / self.total_n)

    def result(self) -> Dict[float, float]:
        return {t: (float('nan') if v is None else v)
                for t, v in self.fpr_at.items()}


class _PebalFPR95:
    """Hendrycks' ``fpr_and_fdr_at_recall`` (used by PEBAL): over the
    thresholds down to the first one reaching full recall, the FPR at the
    one whose recall is nearest 0.95; on ties the lowest threshold wins (its
    reversed-array ``argmin`` sees that one first)."""

    def __init__(self, total_p: np.float64, total_n: np.float64) -> None:
        self.total_p, self.total_n = total_p, total_n
        self.best: Optional[Tuple[float, float]] = None  # (distance, fpr)
        self.open = True

    def update(self, c: _Chunk) -> None:
        if not self.open:
            return
        full = np.flatnonzero(c.tps == self.total_p)
        stop = int(full[0]) + 1 if len(full) else len(c.tps)
        dist = np.abs(c.tps[:stop] / self.total_p - 0.95)
        low = dist.min()
        i = int(np.flatnonzero(dist == low)[-1])
        if self.best is None or low <= self.best[0]:
            self.best = (float(low), float(c.fps[i] / self.total_n))
        self.open = not len(full)

    def result(self) -> float:
        return self.best[1]


class _BestF1:
    """The best F1 = 2 tp / (tp + fp + P) and its threshold (the highest on
    ties)."""

    def __init__(self, total_p: np.float64) -> None:
        self.total_p = total_p
        self.f1, self.threshold = -1.0, None

    def update(self, c: _Chunk) -> None:
        if not len(c.hits):
            return
        tp_h = c.tps[c.hits]
        # maximise tp / (tp + fp + P)
        half_f1 = tp_h / (tp_h + c.fps[c.hits] + self.total_p)
        i = int(np.argmax(half_f1))
        if 2.0 * half_f1[i] > self.f1:
            self.f1 = float(2.0 * half_f1[i])
            self.threshold = c.values[c.hits[i]].item()


class _ThinnedCurves:
    """ROC and PR curves at about ``curve_points`` points: the first rows
    reaching each FPR and each TPR step, and the last row."""

    def __init__(self, n: int, total_p: np.float64, total_n: np.float64,
                 curve_points: int) -> None:
        self.n, self.total_p, self.total_n = n, total_p, total_n
        steps = np.arange(1, curve_points // 2 + 1) / (curve_points // 2
                                                       or 1)
        self.fp_steps, self.tp_steps = steps * total_n, steps * total_p
        self.parts: List[Tuple[np.ndarray, ...]] = []

    def update(self, c: _Chunk) -> None:
        k = len(c.values)
        # only the steps inside this chunk's range: a step the previous
        # chunk already reached would map to row 0 again
        parts = []
        for cum, targets in ((c.fps, self.fp_steps), (c.tps, self.tp_steps)):
            lo, hi = np.searchsorted(targets, (cum[0], cum[-1]), 'right')
            parts.append(np.searchsorted(cum, targets[max(lo - 1, 0):hi]))
        rows = np.concatenate(parts)
        rows = np.unique(rows[rows < k])
        if c.start + k == self.n and (not len(rows) or rows[-1] != k - 1):
            rows = np.append(rows, k - 1)
        if len(rows):
            tps, fps = c.tps[rows], c.fps[rows]
            self.parts.append((fps / self.total_n, tps / self.total_p,
                               tps / (tps + fps),
                               c.values[rows].astype(np.float64)))

    def result(self) -> Dict[str, Dict[str, np.ndarray]]:
        fpr, tpr, precision, thresholds = (np.concatenate(parts)
                                           for parts in zip(*self.parts))
        return dict(
            roc_curve=dict(fpr=np.concatenate(([0.0], fpr)),
                           tpr=np.concatenate(([0.0], tpr)),
                           thresholds=np.concatenate(([np.inf], thresholds))),
            pr_curve=dict(recall=np.concatenate((tpr[::-1], [0.0])),
                          precision=np.concatenate((precision[::-1], [1.0])),
                          thresholds=thresholds[::-1].copy()))


def compute_from_tables(neg: Table, pos: Table, tprs: Sequence[float],
                        pebal_compat: bool = False, curve_points: int = 1000,
                        chunk_rows: int = 1 << 16) -> Dict[str, Any]:
    """Metrics from the final inlier and anomaly tables (both non-empty),
    in scikit-learn's float order.

    Args:
        neg: Inlier table.
        pos: Anomaly table.
        tprs: TPRs at which to report the FPR (must include 0.95).
        pebal_compat: Also compute PEBAL's nearest-recall FPR95.
        curve_points: Approximate number of points in the thinned curves.
        chunk_rows: Rows handled at once.

    Returns:
        See :meth:`PixelOODAccumulator.compute`.
    """
    n_pos, n_neg = table_total(pos), table_total(neg)
    total_p, total_n = np.float64(n_pos), np.float64(n_neg)
    n = count_union(neg, pos)
    ap = _AveragePrecision(n, total_p)
    roc = _ROCArea(n, total_p, total_n)
    fpr = _FPRAtTPRs(tprs, total_n)
    f1 = _BestF1(total_p)
    curves = _ThinnedCurves(n, total_p, total_n, curve_points)
    metrics: List[Any] = [ap, roc, fpr, f1, curves]
    pebal = _PebalFPR95(total_p, total_n) if pebal_compat else None
    if pebal is not None:
        metrics.append(pebal)
    start, last_tp, last_fp = 0, 0.0, 0.0
    for values, tps, fps in union_chunks_desc(neg, pos, chunk_rows):
        dp = np.diff(tps, prepend=last_tp)
        hits = np.flatnonzero(dp)
        chunk = _Chunk(start, values, tps, fps, dp,
                       np.diff(fps, prepend=last_fp), hits,
                       tps[hits] / total_p)
        for metric in metrics:
            metric.update(chunk)
        last_tp, last_fp = tps[-1], fps[-1]
        start += len(values)
    fpr_at = fpr.result()
    result = dict(AUROC=roc.result(), AP=ap.result(), FPR95=fpr_at[0.95],
                  fpr_at_tpr=fpr_at, best_f1=f1.f1,
                  best_f1_threshold=f1.threshold, **curves.result(),
                  num_pos=n_pos, num_neg=n_neg, num_thresholds=n)
    if pebal is not None:
        result['FPR95_pebal'] = pebal.result()
    return result
