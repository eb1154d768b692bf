"""Curve metrics from the merged tables, with scikit-learn's float operations.

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

The functions below compute the same terms chunk by chunk in the same float
operations and feed them to :class:`StreamingPairwiseSum`, which adds them in
numpy's order; the results are therefore bit-identical.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._pairwise import StreamingPairwiseSum
from ._run_length_tables import (Table, count_union, table_total,
                                 union_chunks_desc)

def empty_result(neg: Optional[Table], pos: Optional[Table],
                 tprs: Sequence[float], pebal_compat: bool) -> Dict[str, Any]:
    """Result for data without one of the classes: metrics are NaN."""
    nan = float('nan')
    result = dict(AUROC=nan, AP=nan, FPR95=nan,
                  fpr_at_tpr={t: nan for t in tprs}, best_f1=nan,
                  best_f1_threshold=nan, roc_curve=None, pr_curve=None,
                  num_pos=table_total(pos) if pos is not None else 0,
                  num_neg=table_total(neg) if neg is not None else 0,
                  num_thresholds=0)
    if pebal_compat:
        result['FPR95_pebal'] = nan
    return result


def compute_from_tables(neg: Table, pos: Table, tprs: Sequence[float],
                        pebal_compat: bool = False, curve_points: int = 1000,
                        chunk_rows: int = 1 << 16) -> Dict[str, Any]:
    """Metrics from the final inlier and anomaly tables (both non-empty).

    One pass over the distinct values, highest first. The AP terms go to a
    streaming numpy-order sum (their count, the number of distinct values,
    is known beforehand); the ROC points that ``drop_intermediate`` keeps are
    turned into trapezoid terms as they come, and the terms are summed at
    the end in numpy's order.

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
    n_pos = table_total(pos)
    n_neg = table_total(neg)
    total_p = np.float64(n_pos)
    total_n = np.float64(n_neg)
    n = count_union(neg, pos)
    ap_sum = StreamingPairwiseSum(n)
    fpr_at = {t: (0.0 if t <= 0 else None) for t in tprs}
    last_tp = last_fp = 0.0
    # the last row of a chunk is decided once the next row is known
    pending: Optional[Tuple[int, float, float, float, float]] = None
    roc = _TrapezoidTerms()
    best_f1, best_thr = -1.0, None
    pebal_best: Optional[Tuple[float, float]] = None
    pebal_open = pebal_compat
    steps = np.arange(1, curve_points // 2 + 1) / (curve_points // 2 or 1)
    fp_steps, tp_steps = steps * total_n, steps * total_p
    curve: List[Tuple[np.ndarray, ...]] = []
    j0 = 0
    for values, tps, fps in union_chunks_desc(neg, pos, chunk_rows):
        k = len(values)
        dp = np.diff(tps, prepend=last_tp)
        dq = np.diff(fps, prepend=last_fp)
        last_tp, last_fp = tps[-1], fps[-1]
        # Only rows holding anomaly pixels move recall: the AP term of any
        # other row is (R - R) * P = +0.0 exactly, the best F1 and the first
        # row reaching a TPR are rows with anomaly pixels too.
        hits = np.flatnonzero(dp)
        tp_h = tps[hits]
        fp_h = fps[hits]
        ps_h = tp_h + fp_h
        recall_h = tp_h / total_p
        # AP terms in scikit-learn's (ascending score) order; tps - dp is
        # exactly the previous row's tps, so the previous recall is the same
        # float scikit-learn computes
        terms = np.zeros(k)
        terms[k - 1 - hits] = ((tp_h - dp[hits]) / total_p - recall_h) * (
            tp_h / ps_h)
        ap_sum.add(n - j0 - k, terms)
        del terms
        # ROC points kept by drop_intermediate (counts differ from the next)
        if pending is not None:
            if n <= 2 or pending[0] == 0 or (pending[1], pending[2]) != (
                    dp[0], dq[0]):
                roc.add(np.array([pending[3]]), np.array([pending[4]]))
        kept = np.flatnonzero((dp[1:] != dp[:-1]) | (dq[1:] != dq[:-1]))
        if n <= 2:
            kept = np.arange(k - 1)
        elif j0 == 0 and k > 1 and (not len(kept) or kept[0] != 0):
            kept = np.concatenate(([0], kept))
        roc.add(fps[kept] / total_n, tps[kept] / total_p)
        pending = (j0 + k - 1, float(dp[-1]), float(dq[-1]),
                   float(fps[-1] / total_n), float(tps[-1] / total_p))
        del dp, dq, kept
        # FPR at the first threshold reaching each TPR
        for t in tprs:
            if fpr_at[t] is None and len(hits) and recall_h[-1] >= t:
                row = hits[int(np.argmax(recall_h >= t))]
                fpr_at[t] = float(fps[row] / total_n)
        if pebal_open:
            pebal_best, pebal_open = _pebal_step(tps / total_p, fps, tps,
                                                 total_p, total_n, pebal_best)
        if len(hits):
            # F1 = 2 tp / (tp + fp + P): maximise tp / (tp + fp + P)
            half_f1 = tp_h / (ps_h + total_p)
            i = int(np.argmax(half_f1))
            if 2.0 * half_f1[i] > best_f1:
                best_f1 = float(2.0 * half_f1[i])
                best_thr = values[hits[i]].item()
        # thinned curves: the first rows reaching each FPR and TPR step
        # (only the steps inside this chunk's range: a step the previous
        # chunk already reached would map to row 0 again)
        parts = []
        for cum, targets in ((fps, fp_steps), (tps, tp_steps)):
            lo, hi = np.searchsorted(targets, (cum[0], cum[-1]), 'right')
            parts.append(np.searchsorted(cum, targets[max(lo - 1, 0):hi]))
        rows = np.concatenate(parts)
        rows = np.unique(rows[rows < k])
        if j0 + k == n and (not len(rows) or rows[-1] != k - 1):
            rows = np.append(rows, k - 1)
        if len(rows):
            curve.append((fps[rows] / total_n, tps[rows] / total_p,
                          tps[rows] / (tps[rows] + fps[rows]),
                          values[rows].astype(np.float64)))
        j0 += k
    # the last row is always kept
    roc.add(np.array([pending[3]]), np.array([pending[4]]))
    auroc = roc.total()
    fpr_c, tpr_c, prec_c, thr_c = (np.concatenate(parts)
                                   for parts in zip(*curve))
    result = dict(
        AUROC=auroc,
        AP=float(max(0.0, -ap_sum.total())),
        FPR95=fpr_at[0.95],
        fpr_at_tpr={t: (float('nan') if v is None else v)
                    for t, v in fpr_at.items()},
        best_f1=best_f1, best_f1_threshold=best_thr,
        roc_curve=dict(fpr=np.concatenate(([0.0], fpr_c)),
                       tpr=np.concatenate(([0.0], tpr_c)),
                       thresholds=np.concatenate(([np.inf], thr_c))),
        pr_curve=dict(recall=np.concatenate((tpr_c[::-1], [0.0])),
                      precision=np.concatenate((prec_c[::-1], [1.0])),
                      thresholds=thr_c[::-1].copy()),
        num_pos=n_pos, num_neg=n_neg, num_thresholds=n)
    if pebal_compat:
        result['FPR95_pebal'] = pebal_best[1]
    return result


class _TrapezoidTerms:
    """scikit-learn's trapezoid AUROC over ROC points fed in curve order.

    The terms ``(x[i+1] - x[i]) * (y[i+1] + y[i]) / 2.0`` are computed as
    the points arrive (elementwise, so the same floats as on the whole
    curve) and kept instead of the points, which halves the memory and
    avoids concatenating the curve; their count is known only at the end,
    so they are summed then in numpy's order.
    """

    def __init__(self) -> None:
        # roc_curve prepends the point (0, 0)
        self._last_x = np.zeros(1)
        self._last_y = np.zeros(1)
        self._terms: List[np.ndarray] = []

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append the next points of the curve."""
        if not len(x):
            return
        fx = np.concatenate((self._last_x, x))
        ty = np.concatenate((self._last_y, y))
        self._terms.append((fx[1:] - fx[:-1]) * (ty[1:] + ty[:-1]) / 2.0)
        self._last_x, self._last_y = x[-1:], y[-1:]

    def total(self) -> float:
        """``np.sum`` of all terms, bit for bit."""
        acc = StreamingPairwiseSum(sum(len(t) for t in self._terms))
        start = 0
        for terms in self._terms:
            acc.add(start, terms)
            start += len(terms)
        return acc.total()


def _pebal_step(recall: np.ndarray, fps: np.ndarray, tps: np.ndarray,
                total_p: np.float64, total_n: np.float64,
                best: Optional[Tuple[float, float]]
                ) -> Tuple[Optional[Tuple[float, float]], bool]:
    """One chunk of Hendrycks' ``fpr_and_fdr_at_recall`` (used by PEBAL).

    It considers the thresholds down to the first one reaching full recall
    and picks the one whose recall is nearest 0.95; on ties the lowest
    threshold wins (its reversed-array ``argmin`` sees that one first).

    Returns:
        ``((distance, fpr) of the best so far, whether to keep scanning)``.
    """
    full = np.flatnonzero(tps == total_p)
    stop = int(full[0]) + 1 if len(full) else len(recall)
    dist = np.abs(recall[:stop] - 0.95)
    low = dist.min()
    i = int(np.flatnonzero(dist == low)[-1])
    if best is None or low <= best[0]:
        best = (float(low), float(fps[i] / total_n))
    return best, not len(full)
