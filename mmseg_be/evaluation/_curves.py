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
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._pairwise import StreamingPairwiseSum
from ._tables import Table, table_len, table_total, union_chunks_desc

_Rows = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _rows_with_change(neg: Table, pos: Table, chunk: int) -> Iterator[_Rows]:
    """Union rows (descending) plus whether each row's counts differ from
    the next row's (True for the last row)."""
    prev = None
    for values, p, q in union_chunks_desc(neg, pos, chunk):
        if prev is not None:
            pv, pp, pq = prev
            change = ((pp != np.append(pp[1:], p[0]))
                      | (pq != np.append(pq[1:], q[0])))
            yield pv, pp, pq, change
        prev = (values, p, q)
    pv, pp, pq = prev
    change = np.append((pp[1:] != pp[:-1]) | (pq[1:] != pq[:-1]), True)
    yield pv, pp, pq, change


def _kept(change: np.ndarray, j0: int, n: int) -> np.ndarray:
    if n <= 2:
        return np.ones(len(change), bool)
    kept = change.copy()
    if j0 == 0:
        kept[0] = True
    return kept


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
                        chunk_rows: int = 1 << 18) -> Dict[str, Any]:
    """Metrics from the final inlier and anomaly tables (both non-empty).

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
    # pass 1: the number of distinct thresholds and of ROC points kept by
    # drop_intermediate fix the shape of both summation trees
    n = 0
    n_kept = 0
    for _, _, _, change in _rows_with_change(neg, pos, chunk_rows):
        n_kept += int(np.count_nonzero(change)) + (n == 0 and not change[0])
        n += len(change)
    if n <= 2:
        n_kept = n
    ap_sum = StreamingPairwiseSum(n)
    auc_sum = StreamingPairwiseSum(n_kept)

    fpr_at = {t: (0.0 if t <= 0 else None) for t in tprs}
    tp_carry = fp_carry = 0
    recall_carry = 0.0
    roc_prev = (0.0, 0.0)
    kept_done = 0
    best_f1, best_thr = -1.0, None
    pebal_best: Optional[Tuple[float, float]] = None
    pebal_open = pebal_compat
    bucket_prev = -1
    scale = curve_points / 2.0
    curve: List[Tuple[np.ndarray, ...]] = []
    j0 = 0
    for values, p, q, change in _rows_with_change(neg, pos, chunk_rows):
        k = len(values)
        tps_i = np.cumsum(p, dtype=np.uint64) + np.uint64(tp_carry)
        fps_i = np.cumsum(q, dtype=np.uint64) + np.uint64(fp_carry)
        tp_carry, fp_carry = int(tps_i[-1]), int(fps_i[-1])
        tps = tps_i.astype(np.float64)
        fps = fps_i.astype(np.float64)
        del tps_i, fps_i
        recall = tps / total_p
        precision = tps / (tps + fps)
        # AP terms, indexed in scikit-learn's (ascending score) order
        prev_recall = np.concatenate(([recall_carry], recall[:-1]))
        terms = (prev_recall - recall) * precision
        ap_sum.add(n - j0 - k, terms[::-1].copy())
        recall_carry = float(recall[-1])
        del prev_recall, terms
        # ROC trapezoid over the points drop_intermediate keeps
        kept = _kept(change, j0, n)
        fpr_k = fps[kept] / total_n
        tpr_k = tps[kept] / total_p
        if len(fpr_k):
            fx = np.concatenate(([roc_prev[0]], fpr_k))
            ty = np.concatenate(([roc_prev[1]], tpr_k))
            auc_sum.add(kept_done, (fx[1:] - fx[:-1]) * (ty[1:] + ty[:-1])
                        / 2.0)
            kept_done += len(fpr_k)
            roc_prev = (float(fx[-1]), float(ty[-1]))
        # FPR at the first threshold reaching each TPR
        for t in tprs:
            if fpr_at[t] is None:
                hit = recall >= t
                if hit.any():
                    fpr_at[t] = float(fps[int(np.argmax(hit))] / total_n)
        if pebal_open:
            pebal_best, pebal_open = _pebal_step(recall, fps, tps, total_p,
                                                 total_n, pebal_best)
        f1 = 2.0 * tps / (total_p + tps + fps)
        i = int(np.argmax(f1))
        if f1[i] > best_f1:
            best_f1, best_thr = float(f1[i]), values[i].item()
        fpr = fps / total_n
        bucket = np.floor((fpr + recall) * scale).astype(np.int64)
        keep = bucket != np.concatenate(([bucket_prev], bucket[:-1]))
        bucket_prev = int(bucket[-1])
        if j0 + k == n:
            keep[-1] = True
        curve.append((fpr[keep], recall[keep], precision[keep],
                      values[keep].astype(np.float64)))
        j0 += k

    fpr_c, tpr_c, prec_c, thr_c = (np.concatenate(parts)
                                   for parts in zip(*curve))
    result = dict(
        AUROC=float(1 * auc_sum.total()),
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
