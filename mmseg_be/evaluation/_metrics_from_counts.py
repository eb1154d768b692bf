"""AUROC, AP, FPR at TPRs, best F1 (and PEBAL's FPR95, the curves) from
integer pixel counts at the distinct anomaly scores: the default path of
``PixelOODAccumulator.compute``.

Only a threshold equal to some anomaly pixel's score moves the TPR, so AP,
the FPR at a TPR, the best F1 and PEBAL's nearest-recall FPR95 depend, for
every distinct anomaly score ``v``, only on ``n_pos(v)`` and on the inlier
counts ``n_neg(< v)`` and ``n_neg(<= v)``; AUROC is the Mann-Whitney
statistic ``sum_v n_pos(v) * (n_neg(< v) + n_neg(<= v)) / (2 P N)``, which
equals scikit-learn's trapezoid (ties give the same half credit). The inlier
counts are read off the merged inlier table with two binary searches per
distinct anomaly score and one pass of integer sums; nothing walks the
(typically ~30x more) distinct inlier scores. All counts are integers;
each metric is one final division (AP: a sum of one ratio per distinct
anomaly score), so results equal scikit-learn's to ~1e-15 relative, not to
its summation order (see :mod:`._metrics_in_sklearn_order` for that).
"""
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ._key_histogram import KeyHistogram
from ._run_length_tables import CHUNK, Table, run_length, table_total

Inliers = Union[Table, KeyHistogram]


def _prefix_at(counts: Optional[np.ndarray], idx: np.ndarray) -> np.ndarray:
    """``counts[:i].sum()`` for every ``i`` in the ascending ``idx``.

    One pass of ``np.add.reduceat`` over the table instead of a cumulative
    array as long as the table (int64, 8 bytes a row).
    """
    if counts is None:
        return idx.astype(np.int64)
    if not len(idx):
        return np.zeros(0, np.int64)
    first = np.ones(len(idx), bool)
    first[1:] = idx[1:] != idx[:-1]
    u = idx[first]
    n = len(counts)
    head = int(counts[:u[0]].sum(dtype=np.uint64))
    inner = u[u < n]
    if len(inner):
        seg = np.add.reduceat(counts, inner, dtype=np.int64)
    else:
        seg = np.zeros(0, np.int64)
    at_u = np.empty(len(u), np.int64)
    at_u[0] = head
    np.cumsum(seg[:len(u) - 1], out=at_u[1:])
    at_u[1:] += head
    return at_u[np.cumsum(first) - 1]


def counts_at_positive_values(neg: Inliers, pos: Table
                              ) -> Tuple[np.ndarray, ...]:
    """Distinct anomaly scores (ascending) with the integer counts needed.

    Returns:
        ``(values, n_pos, neg_lt, neg_le)``: anomaly pixels at each value and
        inlier pixels strictly below / at most each value (int64).
    """
    vp, cp = pos if pos[1] is not None else run_length(pos[0])
    n_pos = (np.ones(len(vp), np.int64) if cp is None
             else cp.astype(np.int64))
    if isinstance(neg, KeyHistogram):
        return (vp, n_pos) + neg.counts_at(vp)
    vn, cn = neg
    left = np.searchsorted(vn, vp, 'left')
    right = np.searchsorted(vn, vp, 'right')
    neg_lt = _prefix_at(cn, left)
    del left
    neg_le = _prefix_at(cn, right)
    return vp, n_pos, neg_lt, neg_le


def _exact_dot(weights: np.ndarray, values: np.ndarray,
               max_value: int) -> int:
    """``sum(weights * values)`` as a Python int (non-negative int64 inputs,
    ``values <= max_value``): int64 when the sum cannot overflow it,
    Python integers otherwise (billions of pixels)."""
    if int(weights.sum(dtype=np.uint64)) * max_value < (1 << 63):
        return int(np.dot(weights, values))
    return sum(sum(map(int.__mul__, weights[i:i + CHUNK].tolist(),
                       values[i:i + CHUNK].tolist()))
               for i in range(0, len(weights), CHUNK))


def _next_up(values: np.ndarray) -> np.ndarray:
    """Smallest threshold ``t`` with ``score >= t`` iff ``score > value``."""
    if values.dtype.kind == 'f':
        return np.nextafter(values, np.inf).astype(np.float64)
    return values.astype(np.float64) + 1.0


def compute_from_counts(neg: Inliers, pos: Table, tprs: Sequence[float],
                        pebal_compat: bool = False,
                        curve_points: int = 1000) -> Dict[str, Any]:
    """Metrics from the final inlier and anomaly tables (both non-empty).

    Args:
        neg: Inlier table or key histogram.
        pos: Anomaly table.
        tprs: TPRs at which to report the FPR (must include 0.95).
        pebal_compat: Also compute PEBAL's nearest-recall FPR95.
        curve_points: Approximate number of points in the thinned curves.

    Returns:
        See :meth:`PixelOODAccumulator.compute`.
    """
    total_p = table_total(pos)
    total_n = (neg.total if isinstance(neg, KeyHistogram)
               else table_total(neg))
    values, n_pos, neg_lt, neg_le = counts_at_positive_values(neg, pos)
    m = len(values)
    # AUROC: Mann-Whitney U (ties half) as integers, one division
    u2 = _exact_dot(n_pos, neg_lt + neg_le, 2 * total_n)
    auroc = u2 / (2 * total_p * total_n)
    # highest threshold first, as the curves are read
    values, n_pos = values[::-1], n_pos[::-1]
    fp_ge = total_n - neg_lt[::-1]   # inlier pixels scoring >= value
    fp_gt = total_n - neg_le[::-1]   # ... > value
    tp = np.cumsum(n_pos)            # anomaly pixels scoring >= value
    del neg_lt, neg_le
    # AP: sum over anomaly values of (recall step) * precision
    tp_f = tp.astype(np.float64)
    predicted = tp_f + fp_ge
    ap = float(np.sum(n_pos * (tp_f / predicted))) / total_p
    # FPR at the first (highest) threshold reaching each TPR; the TPR is
    # computed as scikit-learn does (tps / tps[-1])
    tpr = tp_f / np.float64(total_p)
    fpr_at = {}
    for t in tprs:
        if t <= 0:
            fpr_at[t] = 0.0
            continue
        i = int(np.searchsorted(tpr, t, 'left'))
        fpr_at[t] = float(fp_ge[i] / np.float64(total_n)) if i < m \
            else float('nan')
    # best F1 = 2 tp / (tp + fp + P); ties: the highest threshold
    f1 = 2.0 * tp_f / (predicted + total_p)
    best = int(np.argmax(f1))
    result = dict(
        AUROC=float(auroc), AP=max(0.0, ap), FPR95=fpr_at[0.95],
        fpr_at_tpr=fpr_at, best_f1=float(f1[best]),
        best_f1_threshold=values[best].item(),
        num_pos=total_p, num_neg=total_n, num_anomaly_thresholds=m)
    del f1, predicted
    if pebal_compat:
        result['FPR95_pebal'] = _pebal_fpr(tpr, fp_ge, fp_gt, total_n)
    result.update(_thinned_curves(values, tp, n_pos, fp_ge, fp_gt, total_p,
                                  total_n, _min_value(neg, pos),
                                  curve_points))
    return result


def _min_value(neg: Inliers, pos: Table) -> float:
    low = (neg.min_value() if isinstance(neg, KeyHistogram)
           else float(neg[0][0]))
    return min(low, float(pos[0][0]))


def _pebal_fpr(recall: np.ndarray, fp_ge: np.ndarray, fp_gt: np.ndarray,
               total_n: int) -> float:
    """Hendrycks' ``fpr_and_fdr_at_recall`` (used by PEBAL).

    It scans every distinct threshold down to the first reaching full recall
    and takes the one whose recall is nearest 0.95, the lowest on ties. The
    lowest threshold with the recall of anomaly value ``v`` lies just above
    the next lower anomaly value ``v'`` (its inliers: those ``> v'``); for
    the lowest anomaly value it is that value itself.
    """
    fp = np.empty(len(recall), np.int64)
    fp[:-1] = fp_gt[1:]
    fp[-1] = fp_ge[-1]
    dist = np.abs(recall - 0.95)
    i = int(np.flatnonzero(dist == dist.min())[-1])
    return float(fp[i] / np.float64(total_n))


def _thinned_curves(values: np.ndarray, tp: np.ndarray, n_pos: np.ndarray,
                    fp_ge: np.ndarray, fp_gt: np.ndarray, total_p: int,
                    total_n: int, lowest: float, curve_points: int
                    ) -> Dict[str, Dict[str, np.ndarray]]:
    """ROC and PR curves thinned to about ``curve_points`` points.

    The exact ROC curve is the polyline through, for each anomaly value from
    the highest, the points ``(fp(> v), tp(> v))`` and ``(fp(>= v),
    tp(>= v))`` (horizontal between them: inlier-only thresholds); the PR
    curve's corners are the second kind. Kept: the first point reaching each
    FPR and TPR step, and the end points.
    """
    m = len(values)
    steps = np.arange(1, curve_points // 2 + 1) / (curve_points // 2 or 1)
    # ROC candidates, never built: row 2j is (fp(> v_j), tp(> v_j)), row
    # 2j+1 is (fp(>= v_j), tp(>= v_j)), row 2m is (N, P) at the lowest score
    tp_gt = tp - n_pos

    def first_reaching(gt: np.ndarray, ge: np.ndarray,
                       targets: np.ndarray) -> np.ndarray:
        return np.minimum(2 * np.searchsorted(gt, targets, 'left'),
                          2 * np.searchsorted(ge, targets, 'left') + 1)

    rows = np.concatenate((first_reaching(fp_gt, fp_ge, steps * total_n),
                           first_reaching(tp_gt, tp, steps * total_p),
                           [2 * m]))
    rows = np.unique(rows[rows <= 2 * m])
    j, upper = rows[rows < 2 * m] // 2, rows[rows < 2 * m] % 2 == 0
    fps = np.where(upper, fp_gt[j], fp_ge[j])
    tps = np.where(upper, tp_gt[j], tp[j])
    thr = np.where(upper, _next_up(values[j]), values[j].astype(np.float64))
    if rows[-1] == 2 * m:
        fps, tps = np.append(fps, total_n), np.append(tps, total_p)
        thr = np.append(thr, lowest)
    roc = dict(fpr=np.concatenate(([0.0], fps / np.float64(total_n))),
               tpr=np.concatenate(([0.0], tps / np.float64(total_p))),
               thresholds=np.concatenate(([np.inf], thr)))
    del fps, tps, thr, tp_gt
    rows = np.concatenate((np.searchsorted(tp, steps * total_p, 'left'),
                           np.searchsorted(fp_ge, steps * total_n, 'left'),
                           [m - 1]))
    rows = np.unique(rows[rows < m])[::-1]
    pr = dict(recall=np.concatenate((tp[rows] / np.float64(total_p), [0.0])),
              precision=np.concatenate(
                  (tp[rows] / (tp[rows] + fp_ge[rows]).astype(np.float64),
                   [1.0])),
              thresholds=values[rows].astype(np.float64))
    return dict(roc_curve=roc, pr_curve=pr)
