"""Run-length tables of scores: sorted distinct values with their counts.

A table is ``(values, counts)``: ``values`` strictly increasing in the score
dtype, ``counts`` the number of pixels holding each value, or ``None`` when
every count is 1 (continuous scores: the table then costs only the values).
One table is kept per class (inlier, anomaly). All functions work in chunks so
that no index array as long as the table is ever allocated.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

Table = Tuple[np.ndarray, Optional[np.ndarray]]
CHUNK = 1 << 22


def _count_dtype(max_count: int) -> type:
    return np.uint32 if max_count <= np.iinfo(np.uint32).max else np.uint64


def table_len(table: Table) -> int:
    return len(table[0])


def table_total(table: Table) -> int:
    values, counts = table
    return len(values) if counts is None else int(counts.sum(dtype=np.uint64))


def run_length(sorted_values: np.ndarray,
               counts: Optional[np.ndarray] = None) -> Table:
    """Collapse equal neighbours of a sorted array, summing their counts.

    Args:
        sorted_values: 1-D ascending array (equal values adjacent).
        counts: Count of each entry, or None for all ones.

    Returns:
        The run-length table.
    """
    n = len(sorted_values)
    if n < 2:
        return sorted_values, counts
    # first pass: how many runs, so the outputs are allocated once
    n_runs = 1
    for lo in range(0, n - 1, CHUNK):
        hi = min(n - 1, lo + CHUNK)
        n_runs += int(np.count_nonzero(
            sorted_values[lo + 1:hi + 1] != sorted_values[lo:hi]))
    if n_runs == n:
        return sorted_values, counts
    total = n if counts is None else int(counts.sum(dtype=np.uint64))
    out_v = np.empty(n_runs, sorted_values.dtype)
    out_c = np.empty(n_runs, _count_dtype(total))
    filled = 0
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        block = sorted_values[lo:hi]
        starts = np.flatnonzero(block[1:] != block[:-1]) + 1
        starts = np.concatenate(([0], starts))
        if lo > 0 and block[0] == sorted_values[lo - 1]:
            first_len = starts[1] if len(starts) > 1 else hi - lo
            if counts is None:
                extra = first_len
            else:
                extra = counts[lo:lo + first_len].sum(dtype=np.uint64)
            out_c[filled - 1] += out_c.dtype.type(extra)
            starts = starts[1:]
        if not len(starts):
            continue
        k = len(starts)
        out_v[filled:filled + k] = block[starts]
        if counts is None:
            out_c[filled:filled + k] = np.diff(np.append(starts, hi - lo))
        else:
            out_c[filled:filled + k] = np.add.reduceat(
                counts[lo:hi].astype(np.uint64), starts)
        filled += k
    return out_v, out_c


def table_from_scores(scores: np.ndarray) -> Table:
    """Sort one image's scores of one class and run-length encode them."""
    values = np.sort(scores, kind='quicksort')
    return run_length(values)


def merge_tables(tables: Sequence[Table]) -> Table:
    """Merge tables of one class into one table (counts of equal values add)."""
    tables = [t for t in tables if table_len(t)]
    if not tables:
        raise ValueError('merge_tables needs at least one non-empty table')
    if len(tables) == 1:
        return tables[0]
    values = np.concatenate([t[0] for t in tables])
    if all(t[1] is None for t in tables):
        values.sort(kind='quicksort')
        return run_length(values)
    total = sum(table_total(t) for t in tables)
    cdtype = _count_dtype(total)
    counts = np.concatenate([
        np.ones(len(v), cdtype) if c is None else c.astype(cdtype, copy=False)
        for v, c in tables])
    # concatenated sorted runs: the stable (merge-based) sort is near linear
    order = np.argsort(values, kind='stable')
    values = values[order]
    counts = counts[order]
    del order
    return run_length(values, counts)


def union_chunks_desc(neg: Table, pos: Table, chunk: int = 1 << 20
                      ) -> Iterator[Tuple[np.ndarray, np.ndarray,
                                          np.ndarray]]:
    """Walk the union of two tables from the highest value down.

    Yields:
        ``(values, pos_counts, neg_counts)`` per chunk, each in descending
        value order; consecutive chunks continue the same descending sequence
        and every distinct value appears exactly once.
    """
    vn, cn = neg
    vp, cp = pos
    i_n, i_p = len(vn), len(vp)
    while i_n or i_p:
        bounds = []
        if i_n > chunk:
            bounds.append(vn[i_n - chunk])
        if i_p > chunk:
            bounds.append(vp[i_p - chunk])
        if bounds:
            bound = max(bounds)
            j_n = int(np.searchsorted(vn[:i_n], bound, 'left'))
            j_p = int(np.searchsorted(vp[:i_p], bound, 'left'))
        else:
            j_n = j_p = 0
        a = vn[j_n:i_n]
        b = vp[j_p:i_p]
        ca = (np.ones(len(a), np.uint64) if cn is None
              else cn[j_n:i_n].astype(np.uint64))
        cb = (np.ones(len(b), np.uint64) if cp is None
              else cp[j_p:i_p].astype(np.uint64))
        # insert the anomaly values into the inlier values (both unique)
        idx = np.searchsorted(a, b, 'left')
        hit = idx < len(a)
        hit[hit] = a[idx[hit]] == b[hit]
        new = ~hit
        values = np.insert(a, idx[new], b[new])
        neg_counts = np.insert(ca, idx[new], 0)
        pos_counts = np.zeros(len(values), np.uint64)
        shift = np.cumsum(new) - new
        pos_counts[idx + shift] = cb
        yield values[::-1], pos_counts[::-1], neg_counts[::-1]
        i_n, i_p = j_n, j_p


def tables_from_histogram(hist: np.ndarray, values_of_bins: np.ndarray
                          ) -> Table:
    """Table of the non-empty bins of a histogram (bins may be unsorted)."""
    nz = np.flatnonzero(hist)
    values = values_of_bins[nz]
    order = np.argsort(values, kind='stable')
    return run_length(values[order], hist[nz][order].astype(np.uint64))


def cast_table(table: Table, dtype: np.dtype) -> Table:
    return table[0].astype(dtype), table[1]


def nonempty(tables: List[Table]) -> List[Table]:
    return [t for t in tables if table_len(t)]
