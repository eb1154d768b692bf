"""Exact histogram of 32-bit scores over order-preserving integer keys.

A float32 (or int32/uint32) score maps to a uint32 key that sorts as the
score does (IEEE-754 sign flip; -0.0 and 0.0 share a key). The key's top 20
bits pick a *page* of 4096 consecutive keys. A page that has seen
``dense_min`` pixels gets a byte counter per key; later pixels of an image
are counted with one sort of the image's keys (so the counters are visited
in memory order) and one fancy-indexed increment: no merge of per-image
tables. A counter passing 255 wraps and the wrap is kept aside as a
(key, 256) row (only values repeated hundreds of times: saturated or
quantized scores). Pixels of pages without counters (the sparse tails, the
first pixels of each page) are kept as raw keys and sorted once at the end.
Counts are exact; memory is 1 byte per key of the dense range (171 MB for
186M standard-normal float32 inlier scores) plus 4 bytes per sparse pixel,
and stops growing with the number of images once the dense pages exist. It
answers how many pixels score below / at given values, which is all the
exact metrics need of the inlier class.
"""
from typing import List, Optional, Tuple

import numpy as np

from ._run_length_tables import Table, merge_tables, run_length
from ._score_keys import order_keys, values_of_keys

PAGE_BITS = 12
PAGE = 1 << PAGE_BITS
N_PAGES = 1 << (32 - PAGE_BITS)
KEY_DTYPES = (np.float32, np.int32, np.uint32)


class KeyHistogram:
    """Pixel counts per 32-bit key, dense where the scores are dense.

    Dense counters are bytes (a page is 4 KiB): a counter that passes 255
    wraps and the wraps are kept aside as (key, 256 * wraps) rows, which
    only heavily repeated values (saturated or quantized scores) produce.

    Args:
        dtype: Score dtype (one of :data:`KEY_DTYPES`).
        dense_min: Pixels a page must have seen to get dense counters.
    """

    def __init__(self, dtype: np.dtype, dense_min: int = 64) -> None:
        self.dtype = np.dtype(dtype)
        self.dense_min = dense_min
        self.total = 0
        self._seen = np.zeros(N_PAGES, np.int64)
        self._page_of = np.full(N_PAGES, -1, np.int32)
        self._page_hi = np.zeros(0, np.int64)
        self._pages = np.zeros((0, PAGE), np.uint8)
        self._sparse: List[np.ndarray] = []    # sorted keys, one per pixel
        self._wraps: List[Table] = []           # (keys, 256 * wraps)

    def storage(self) -> dict:
        """How the counted pixels are held: pages with byte counters, keys
        whose counter wrapped past 255 (kept aside as rows) and pixels kept
        as raw keys (pages without counters yet)."""
        return dict(dense_pages=len(self._page_hi),
                    wrap_rows=sum(len(keys) for keys, _ in self._wraps),
                    sparse_pixels=sum(len(keys) for keys in self._sparse))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_pages'] = self._pages[:len(self._page_hi)].copy()
        return state

    def _add_pages(self, his: np.ndarray) -> None:
        n_old = len(self._page_hi)
        n_new = n_old + len(his)
        if n_new > len(self._pages):
            # grow, laying the pages out in key order again: a frame's
            # ascending keys then visit the counters in memory order
            grown = np.zeros((max(n_new, 2 * n_old, 256), PAGE), np.uint8)
            order = np.argsort(self._page_hi)
            grown[:n_old] = self._pages[order]
            self._pages = grown
            self._page_hi = self._page_hi[order]
            self._page_of[self._page_hi] = np.arange(n_old, dtype=np.int32)
        self._page_of[his] = np.arange(n_old, n_new, dtype=np.int32)
        self._page_hi = np.concatenate((self._page_hi, his))

    def _count(self, idx: np.ndarray, keys: np.ndarray,
               counts: Optional[np.ndarray]) -> None:
        """Add ``counts`` (None: 1) at the distinct flat indices ``idx``."""
        flat = self._pages.reshape(-1)
        new = flat[idx].astype(np.int32 if counts is None else np.int64)
        new += 1 if counts is None else counts
        flat[idx] = new                    # mod 256
        wrapped = np.flatnonzero(new >> 8)
        if len(wrapped):
            # (merges hand rows over in page order, not key order)
            wrapped = wrapped[np.argsort(keys[wrapped], kind='stable')]
            self._wraps.append((keys[wrapped], ((new[wrapped] >> 8) << 8
                                                ).astype(np.uint64)))

    def _count_each(self, idx: np.ndarray) -> None:
        """Add 1 per entry of the ascending ``idx`` (repeats allowed): one
        byte-wise pass per multiplicity level, on ever fewer entries (a
        repeated index in one fancy assignment is written once)."""
        flat = self._pages.reshape(-1)
        while len(idx):
            first = np.ones(len(idx), bool)
            np.not_equal(idx[1:], idx[:-1], out=first[1:])
            counter = flat[idx]
            counter += np.uint8(1)
            flat[idx] = counter
            wrapped = np.flatnonzero((counter == 0) & first)
            if len(wrapped):
                at = idx[wrapped]
                keys = (self._page_hi[at >> PAGE_BITS] << PAGE_BITS) | (
                    at & (PAGE - 1))
                self._wraps.append((keys.astype(np.uint32),
                                    np.full(len(at), 256, np.uint64)))
            idx = idx[~first]

    def add(self, values: np.ndarray,
            counts: Optional[np.ndarray] = None) -> None:
        """Count pixels: ``values`` (1-D, the score dtype), each ``counts``
        times (default once; with counts the values must be distinct)."""
        if not len(values):
            return
        keys = order_keys(values)
        if counts is None:
            # ascending keys: the counter updates below then walk each page
            # in order (a random scatter is several times slower)
            keys.sort()
            self.total += len(keys)
        else:
            counts = counts.astype(np.int64)
            self.total += int(counts.sum())
        hi = keys >> np.uint32(PAGE_BITS)
        page = self._page_of[hi]
        dense = page >= 0
        if not dense.all():
            # pixels of pages without counters are kept as keys; a page
            # gets counters (for later pixels) once it has seen dense_min
            sparse = ~dense
            hi_s = hi[sparse].astype(np.intp)
            np.add.at(self._seen, hi_s, 1 if counts is None
                      else counts[sparse])
            self._sparse.append(keys[sparse] if counts is None else
                                np.repeat(keys[sparse], counts[sparse]))
            keys, page = keys[dense], page[dense]
            counts = None if counts is None else counts[dense]
            promote = np.unique(hi_s[self._seen[hi_s] >= self.dense_min])
        else:
            promote = None
        idx = page.astype(np.intp)
        idx <<= PAGE_BITS
        idx |= keys & np.uint32(PAGE - 1)
        if counts is None:
            self._count_each(idx)
        else:
            self._count(idx, keys, counts)
        if promote is not None and len(promote):
            self._add_pages(promote)

    def add_page_counts(self, his: np.ndarray, block: np.ndarray) -> None:
        """Add whole pages of counts: ``block[i, j]`` pixels at key
        ``his[i] << PAGE_BITS | j`` (``his`` distinct; a device histogram
        drains into this one this way)."""
        totals = block.sum(axis=1, dtype=np.int64)
        self.total += int(totals.sum())
        known = self._page_of[his] >= 0
        grow = ~known & (self._seen[his] + totals >= self.dense_min)
        if grow.any():
            self._add_pages(his[grow])
        dense = known | grow
        rows, cols = np.nonzero(block[dense])
        if len(rows):
            hi = his[dense][rows]
            keys = ((hi << PAGE_BITS) | cols).astype(np.uint32)
            idx = (self._page_of[hi].astype(np.intp) << PAGE_BITS) | cols
            self._count(idx, keys, block[dense][rows, cols].astype(np.int64))
        if not dense.all():
            self._seen[his[~dense]] += totals[~dense]
            rows, cols = np.nonzero(block[~dense])
            keys = ((his[~dense][rows] << PAGE_BITS) | cols).astype(
                np.uint32)
            self._sparse.append(np.repeat(keys, block[~dense][rows, cols]))

    def merge(self, other: 'KeyHistogram') -> None:
        """Add another histogram's pixels."""
        self.total += other.total
        self._seen += other._seen
        missing = np.union1d(
            other._page_hi[self._page_of[other._page_hi] < 0],
            np.flatnonzero((self._seen >= self.dense_min)
                           & (self._page_of < 0)))
        if len(missing):
            self._add_pages(missing)
        n_other = len(other._page_hi)
        if n_other:
            rows, cols = np.nonzero(other._pages[:n_other])
            keys = ((other._page_hi[rows] << PAGE_BITS) | cols).astype(
                np.uint32)
            idx = (self._page_of[other._page_hi[rows]].astype(np.int64)
                   << PAGE_BITS) | cols
            self._count(idx, keys, other._pages[rows, cols])
        self._sparse.extend(other._sparse)
        self._wraps.extend(other._wraps)

    def _sorted_sparse(self) -> np.ndarray:
        if len(self._sparse) != 1:
            keys = (np.concatenate(self._sparse) if self._sparse
                    else np.zeros(0, np.uint32))
            keys.sort()
            self._sparse = [keys]
        return self._sparse[0]

    def _wrap_table(self) -> Table:
        if len(self._wraps) != 1:
            parts = list(self._wraps)
            self._wraps = [merge_tables(parts) if parts else
                           (np.zeros(0, np.uint32), np.zeros(0, np.uint64))]
        return self._wraps[0]

    def counts_at(self, values: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray]:
        """Pixels scoring ``< v`` and ``<= v`` for each ascending ``v``."""
        keys = order_keys(np.ascontiguousarray(values, self.dtype))
        sparse = self._sorted_sparse()
        lt = np.searchsorted(sparse, keys, 'left').astype(np.int64)
        le = np.searchsorted(sparse, keys, 'right').astype(np.int64)
        wkeys, wcounts = self._wrap_table()
        if len(wkeys):
            lt += _prefix(wcounts, np.searchsorted(wkeys, keys, 'left'))
            le += _prefix(wcounts, np.searchsorted(wkeys, keys, 'right'))
        n = len(self._page_hi)
        if not n:
            return lt, le
        pages = self._pages[:n]
        # pixels of dense pages wholly below each key's page
        below = np.zeros(N_PAGES + 1, np.int64)
        below[self._page_hi + 1] = pages.sum(axis=1, dtype=np.int64)
        np.cumsum(below, out=below)
        hi = (keys >> np.uint32(PAGE_BITS)).astype(np.int64)
        lo = (keys & np.uint32(PAGE - 1)).astype(np.int64)
        base = below[hi]
        lt += base
        le += base
        # within the key's own page: the keys ascend, so the queries of one
        # page are contiguous; pages are prefix-summed 256 at a time
        page = self._page_of[hi]
        has = np.flatnonzero(page >= 0)
        if not len(has):
            return lt, le
        h = hi[has]
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
        bounds = np.r_[starts, len(has)]
        for g in range(0, len(starts), 256):
            stop = min(g + 256, len(starts))
            q = has[bounds[g]:bounds[stop]]
            local = np.repeat(np.arange(stop - g), np.diff(bounds[g:stop + 1]))
            block = pages[page[has[starts[g:stop]]]]
            at = np.cumsum(block, axis=1, dtype=np.int64)[local, lo[q]]
            lt[q] += at - block[local, lo[q]]
            le[q] += at
        return lt, le

    def min_value(self) -> float:
        """Lowest score counted (NaN when empty)."""
        cands = []
        sparse = self._sorted_sparse()
        if len(sparse):
            cands.append(int(sparse[0]))
        wkeys = self._wrap_table()[0]
        if len(wkeys):
            cands.append(int(wkeys[0]))
        for i in np.argsort(self._page_hi):
            nz = np.flatnonzero(self._pages[i])
            if len(nz):
                cands.append((int(self._page_hi[i]) << PAGE_BITS)
                             | int(nz[0]))
                break
        if not cands:
            return float('nan')
        key = np.array([min(cands)], np.uint32)
        return float(values_of_keys(key, self.dtype)[0])

    def to_table(self) -> Table:
        """The run-length table (values ascending, uint64 counts)."""
        parts = []
        sparse = self._sorted_sparse()
        if len(sparse):
            v, c = run_length(sparse)
            parts.append((v, np.ones(len(v), np.uint64) if c is None
                          else c.astype(np.uint64)))
        n = len(self._page_hi)
        if n:
            # a block of pages at a time: np.nonzero over all pages would
            # hold two int64 indices per counted value
            order = np.argsort(self._page_hi)
            keys, counts = [], []
            for lo in range(0, n, 1024):
                sel = order[lo:lo + 1024]
                block = self._pages[sel]
                rows, cols = np.nonzero(block)
                keys.append(((self._page_hi[sel][rows] << PAGE_BITS)
                             | cols).astype(np.uint32))
                counts.append(block[rows, cols].astype(np.uint32))
            parts.append((np.concatenate(keys), np.concatenate(counts)))
            del keys, counts
        wkeys, wcounts = self._wrap_table()
        if len(wkeys):
            parts.append((wkeys, wcounts))
        keys, counts = merge_tables(parts)
        return values_of_keys(keys, self.dtype), counts


def _prefix(counts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``counts[:i].sum()`` for each ``i`` in ``idx``."""
    cum = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=cum[1:])
    return cum[idx]


class TorchKeyHistogram:
    """Inlier counts kept where the scores live (e.g. on the GPU).

    Same keys and pages as :class:`KeyHistogram`, with int32 counters (16 KiB
    a page) allocated for every page a pixel touches; an image costs a few
    elementwise kernels, a ``unique`` over its page numbers and one
    ``index_add_``. :meth:`drain_into` moves the counts to a host
    :class:`KeyHistogram` (at ``compute()``, merge or pickling).
    """

    def __init__(self, device) -> None:
        import torch
        self.device = device
        self._page_of = torch.full((N_PAGES,), -1, dtype=torch.int64,
                                   device=device)
        self._page_hi = torch.zeros(0, dtype=torch.int64, device=device)
        self._pages = torch.zeros((0, PAGE), dtype=torch.int32,
                                  device=device)
        self._n = 0

    @staticmethod
    def keys(values):
        """:func:`order_keys` in torch (int64 keys in ``[0, 2**32)``)."""
        import torch
        if values.is_floating_point():
            bits = (values + 0.0).view(torch.int32).to(torch.int64)
            bits &= 0xFFFFFFFF
            return torch.where(bits >= 1 << 31, bits ^ 0xFFFFFFFF,
                               bits | (1 << 31))
        if values.dtype == torch.int32:
            return values.to(torch.int64) + (1 << 31)
        return values.to(torch.int64)

    def add(self, values) -> None:
        """Count the pixels of a 1-D float32/int32/uint32 tensor."""
        import torch
        if not values.numel():
            return
        keys = self.keys(values)
        hi = keys >> PAGE_BITS
        used = torch.unique(hi)
        missing = used[self._page_of[used] < 0]
        if missing.numel():
            n_new = self._n + missing.numel()
            if n_new > self._pages.shape[0]:
                grown = torch.zeros((max(n_new, 2 * self._n, 256), PAGE),
                                    dtype=torch.int32, device=self.device)
                grown[:self._n] = self._pages[:self._n]
                self._pages = grown
            self._page_of[missing] = torch.arange(self._n, n_new,
                                                  device=self.device)
            self._page_hi = torch.cat((self._page_hi, missing))
            self._n = n_new
        idx = self._page_of[hi] * PAGE + (keys & (PAGE - 1))
        self._pages.view(-1).index_add_(
            0, idx, torch.ones(idx.numel(), dtype=torch.int32,
                               device=self.device))

    def drain_into(self, host: KeyHistogram, block: int = 4096) -> None:
        """Add every count to ``host`` and free the device memory."""
        for lo in range(0, self._n, block):
            hi = min(self._n, lo + block)
            host.add_page_counts(self._page_hi[lo:hi].cpu().numpy(),
                                 self._pages[lo:hi].cpu().numpy())
        self.__init__(self.device)
