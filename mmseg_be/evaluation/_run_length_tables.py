"""Run-length tables of scores: sorted distinct values with their counts.

A table is ``(values, counts)``: either ``values`` strictly increasing in the
score dtype with ``counts`` the number of pixels holding each value, or
``counts=None`` and ``values`` a sorted array that may repeat a value (a sorted
multiset, one entry per pixel). The second form is used while most values are
distinct (continuous scores): it costs 4 bytes per float32 pixel instead of 8
and merges with numpy's vectorised sort; a table turns into the first form
once fewer than half of its entries are distinct, so memory stays within
twice the number of distinct values. One table is kept per class.
Run-length encoding and the walk over the union work in chunks; merging
tables that carry counts packs (value key, count) into one uint64 per row.
"""
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ._score_keys import order_keys, values_of_keys

Table = Tuple[np.ndarray, Optional[np.ndarray]]
CHUNK = 1 << 22
# the per-run passes keep their int64 temporaries small enough for the
# allocator to reuse (fresh pages are slow to touch) and to stay in cache
RUN_CHUNK = 1 << 16


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
    for lo in range(0, n, RUN_CHUNK):
        hi = min(n, lo + RUN_CHUNK)
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


def _n_distinct(sorted_values: np.ndarray) -> int:
    n = len(sorted_values)
    runs = 1 if n else 0
    for lo in range(0, max(n - 1, 0), CHUNK):
        hi = min(n - 1, lo + CHUNK)
        runs += int(np.count_nonzero(
            sorted_values[lo + 1:hi + 1] != sorted_values[lo:hi]))
    return runs


def _compact_form(sorted_values: np.ndarray) -> Table:
    """Multiset form while mostly distinct, run-length form otherwise."""
    if 2 * _n_distinct(sorted_values) >= len(sorted_values):
        return sorted_values, None
    return run_length(sorted_values)


def table_from_scores(scores: np.ndarray) -> Table:
    """Sort one image's scores of one class into a table."""
    return _compact_form(np.sort(scores, kind='quicksort'))


def merge_tables(tables: List[Table]) -> Table:
    """Merge tables of one class into one (counts of equal values add).

    Args:
        tables: The tables; the list is emptied so that, when the caller
            holds no other reference, each input is freed as soon as its
            rows are copied and the result reuses that memory (memory the
            process has not touched before is slow to obtain).

    Returns:
        The merged table.
    """
    given = tables
    tables = [t for t in given if table_len(t)]
    given.clear()
    if not tables:
        raise ValueError('merge_tables needs at least one non-empty table')
    if len(tables) == 1:
        return tables[0]
    dtype = tables[0][0].dtype
    if all(t[1] is None for t in tables):
        values = np.concatenate([t[0] for t in tables])
        tables.clear()
        values.sort(kind='quicksort')
        return _compact_form(values)
    multisets = [t[0] for t in tables if t[1] is None]
    if len(multisets) > 1:
        # pool the one-pixel-per-row tables with numpy's vectorised sort so
        # that every table is one sorted run for the run-merging sort below
        pooled = np.concatenate(multisets)
        pooled.sort(kind='quicksort')
        tables = [t for t in tables if t[1] is not None] + [(pooled, None)]
        del pooled
    del multisets
    total = sum(table_total(t) for t in tables)
    if dtype.itemsize <= 4 and total <= np.iinfo(np.uint32).max:
        # pack (key, count) in one uint64 per row; the rows form one sorted
        # run per table, which the stable sort (timsort) merges in about
        # linear time. Work is chunked so that only the packed rows and the
        # result are allocated at full size (fresh memory is slow to touch).
        packed = np.empty(sum(table_len(t) for t in tables), np.uint64)
        offset = 0
        for values, counts in tables:
            for lo in range(0, len(values), CHUNK):
                hi = min(len(values), lo + CHUNK)
                rows = packed[offset + lo:offset + hi]
                rows[...] = order_keys(values[lo:hi])
                rows <<= np.uint64(32)
                rows |= np.uint64(1) if counts is None else counts[lo:hi]
            offset += len(values)
        tables.clear()
        del values, counts
        packed.sort(kind='stable')
        return _run_length_packed(packed, dtype)
    values = np.concatenate([t[0] for t in tables])
    counts = np.concatenate([
        np.ones(len(v), np.uint64) if c is None else c.astype(np.uint64)
        for v, c in tables])
    tables.clear()
    # concatenated sorted runs: the stable (merge-based) sort is near linear
    order = np.argsort(values, kind='stable')
    values = values[order]
    counts = counts[order]
    del order
    return run_length(values, counts)


def _run_length_packed(packed: np.ndarray, dtype: np.dtype) -> Table:
    """Run-length table of sorted packed (key << 32 | count) rows."""
    n = len(packed)
    n_runs = 1
    for lo in range(0, n - 1, CHUNK):
        hi = min(n - 1, lo + CHUNK)
        n_runs += int(np.count_nonzero(
            (packed[lo + 1:hi + 1] ^ packed[lo:hi]) >> np.uint64(32)))
    out_v = np.empty(n_runs, dtype)
    out_c = np.empty(n_runs, np.uint32)
    filled = 0
    last_key = None
    for lo in range(0, n, RUN_CHUNK):
        block = packed[lo:lo + RUN_CHUNK]
        keys = (block >> np.uint64(32)).astype(np.uint32)
        counts = block & np.uint64(0xFFFFFFFF)
        starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        starts = np.concatenate(([0], starts))
        sums = np.add.reduceat(counts, starts)
        if last_key is not None and keys[0] == last_key:
            # the first run continues the previous chunk's last one
            out_c[filled - 1] += np.uint32(sums[0])
            starts, sums = starts[1:], sums[1:]
        k = len(starts)
        out_v[filled:filled + k] = values_of_keys(keys[starts], dtype)
        out_c[filled:filled + k] = sums
        filled += k
        last_key = keys[-1]
    return out_v, out_c


def union_chunks_desc(neg: Table, pos: Table, chunk: int = 1 << 20
                      ) -> Iterator[Tuple[np.ndarray, np.ndarray,
                                          np.ndarray]]:
    """Walk the distinct values of both tables from the highest down.

    Yields:
        ``(values, tps, fps)`` per chunk in descending value order: ``tps``
        and ``fps`` (float64 holding exact integers, as scikit-learn's) count
        the anomaly and inlier pixels scoring at least each value, over all
        chunks so far. Every distinct value appears exactly once.
    """
    vn, cn = neg
    vp, cp = pos
    i_n, i_p = len(vn), len(vp)
    tp0 = fp0 = 0.0
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
        if cn is None and cp is None:
            values, tps, fps = _union_multisets(vn[j_n:i_n], vp[j_p:i_p])
        else:
            values, tps, fps = _union_tables(
                _unique_slice(vn, cn, j_n, i_n),
                _unique_slice(vp, cp, j_p, i_p))
        tps += tp0
        fps += fp0
        tp0, fp0 = tps[-1], fps[-1]
        yield values, tps, fps
        i_n, i_p = j_n, j_p


def _union_multisets(a: np.ndarray, b: np.ndarray
                     ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Descending distinct values and local cumulative counts of two sorted
    multisets (the common, continuous case), as scikit-learn counts them:
    cumulative positives at the last pixel of each run of equal scores."""
    idx = np.searchsorted(a, b, 'left')
    merged = np.insert(a, idx, b)[::-1]
    is_pos = np.zeros(len(merged), np.uint8)
    is_pos[len(merged) - 1 - (idx + np.arange(len(b)))] = 1
    tps = np.cumsum(is_pos, dtype=np.float64)
    change = merged[1:] != merged[:-1]
    if change.all():
        ends = None
        values = merged
    else:
        ends = np.flatnonzero(np.append(change, True))
        values = merged[ends]
        tps = tps[ends]
    del change
    counts = (np.arange(1, len(merged) + 1, dtype=np.float64) if ends is None
              else ends + 1.0)
    return values, tps, counts - tps


def _union_tables(neg: Tuple[np.ndarray, np.ndarray],
                  pos: Tuple[np.ndarray, np.ndarray]
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`_union_multisets` for distinct values with counts."""
    a, ca = neg
    b, cb = pos
    idx = np.searchsorted(a, b, 'left')
    hit = idx < len(a)
    hit[hit] = a[idx[hit]] == b[hit]
    new = ~hit
    values = np.insert(a, idx[new], b[new])
    neg_counts = np.insert(ca, idx[new], 0)
    pos_counts = np.zeros(len(values), np.uint64)
    pos_counts[idx + np.cumsum(new) - new] = cb
    # integer sums first: float64 cumsums of uint64 counts stay exact only
    # below 2**53, which the integer running total checks implicitly
    return (values[::-1],
            np.cumsum(pos_counts[::-1], dtype=np.uint64).astype(np.float64),
            np.cumsum(neg_counts[::-1], dtype=np.uint64).astype(np.float64))


def count_union(neg: Table, pos: Table) -> int:
    """Number of distinct values over both tables."""
    small, big = sorted((neg, pos), key=table_len)
    b = small[0] if small[1] is not None else run_length(small[0])[0]
    a = big[0]
    n_big = len(a) if big[1] is not None else _n_distinct(a)
    idx = np.searchsorted(a, b, 'left')
    inside = idx < len(a)
    common = int(np.count_nonzero(a[idx[inside]] == b[inside]))
    return n_big + len(b) - common


def tables_from_histogram(hist: np.ndarray, values_of_bins: np.ndarray
                          ) -> Table:
    """Table of the non-empty bins of a histogram (bins may be unsorted)."""
    nz = np.flatnonzero(hist)
    values = values_of_bins[nz]
    order = np.argsort(values, kind='stable')
    return run_length(values[order], hist[nz][order].astype(np.uint64))


def _unique_slice(values: np.ndarray, counts: Optional[np.ndarray],
                  lo: int, hi: int) -> Tuple[np.ndarray, np.ndarray]:
    """Distinct values of a table slice and their counts (uint64)."""
    if counts is not None:
        return values[lo:hi], counts[lo:hi].astype(np.uint64)
    v, c = run_length(values[lo:hi])
    return v, (np.ones(len(v), np.uint64) if c is None
               else c.astype(np.uint64))
