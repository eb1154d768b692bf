"""Streaming float64 summation that is bit-identical to ``numpy.sum``.

numpy sums a contiguous float64 vector with pairwise summation: a block of up
to 128 terms is summed with eight interleaved accumulators, a longer block is
split at ``n // 2`` rounded down to a multiple of 8 and the two halves are
summed recursively and added. scikit-learn's AUROC and AP are ``np.sum`` over
one term per distinct threshold, so reproducing them to the last bit without
holding every term in memory means reproducing that tree: the terms are fed in
contiguous pieces, every sub-tree of at most ``leaf`` terms is summed by numpy
itself (a sub-tree of numpy's recursion is summed exactly as numpy would when
it is the whole array), and the sub-tree sums are combined as numpy combines
them.
"""
from typing import Dict, List, Tuple, Union

import numpy as np

_Node = Union[int, Tuple['_Node', '_Node']]


class StreamingPairwiseSum:
    """Sum of ``n`` float64 terms arriving as contiguous pieces in any order.

    Args:
        n: Total number of terms.
        leaf: Largest sub-tree summed in one numpy call (bounds the memory
            held for pieces that do not cover a whole sub-tree).
    """

    def __init__(self, n: int, leaf: int = 1 << 16) -> None:
        self.n = int(n)
        self._starts: List[int] = []
        self._sizes: List[int] = []
        self._tree = self._build(0, self.n, leaf) if self.n else None
        self._starts_arr = np.asarray(self._starts, dtype=np.int64)
        self._sums: Dict[int, float] = {}
        self._buffers: Dict[int, np.ndarray] = {}
        self._filled: Dict[int, int] = {}

    def _build(self, start: int, n: int, leaf: int) -> _Node:
        if n <= leaf:
            self._starts.append(start)
            self._sizes.append(n)
            return len(self._starts) - 1
        half = n // 2
        half -= half % 8
        return (self._build(start, half, leaf),
                self._build(start + half, n - half, leaf))

    def add(self, start: int, terms: np.ndarray) -> None:
        """Feed the terms with indices ``start .. start + len(terms) - 1``."""
        stop = start + len(terms)
        if start < 0 or stop > self.n:
            raise ValueError(f'terms [{start}, {stop}) outside [0, {self.n})')
        leaf = int(np.searchsorted(self._starts_arr, start, 'right')) - 1
        pos = start
        while pos < stop:
            lo = self._starts[leaf]
            hi = lo + self._sizes[leaf]
            end = min(stop, hi)
            piece = terms[pos - start:end - start]
            if pos == lo and end == hi:
                self._sums[leaf] = float(
                    np.add.reduce(np.ascontiguousarray(piece, np.float64)))
            else:
                buf = self._buffers.get(leaf)
                if buf is None:
                    buf = self._buffers[leaf] = np.empty(hi - lo, np.float64)
                    self._filled[leaf] = 0
                buf[pos - lo:end - lo] = piece
                self._filled[leaf] += end - pos
                if self._filled[leaf] == hi - lo:
                    self._sums[leaf] = float(np.add.reduce(buf))
                    del self._buffers[leaf], self._filled[leaf]
            pos = end
            leaf += 1

    def total(self) -> float:
        """The sum, once every term has been fed."""
        if self._tree is None:
            return 0.0
        missing = len(self._starts) - len(self._sums)
        if missing:
            raise RuntimeError(f'{missing} blocks of terms were never fed')
        return 0.0 + self._combine(self._tree)

    def _combine(self, node: _Node) -> float:
        if isinstance(node, int):
            return self._sums[node]
        return self._combine(node[0]) + self._combine(node[1])
