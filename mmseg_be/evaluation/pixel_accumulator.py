"""Exact, streaming pixel-level OOD metrics.

:class:`PixelOODAccumulator` folds one image at a time into per-class pixel
counts per distinct score and computes AUROC, AP, FPR at given TPRs and the
best F1 exactly (integer counts, one final division) equal to scikit-learn's
``roc_auc_score`` / ``average_precision_score`` on the concatenation of all
pixels, whatever the order of updates and merges (``sklearn_float_order``
reproduces scikit-learn's float summation to the last bit). Memory follows
the number of distinct score values, not the number of images:

* 8- and 16-bit scores (``float16``, ``uint8``, ``int16``, ...) are counted
  in a fixed histogram;
* 32-bit scores (``float32``, ``int32``, ``uint32``): the inlier pixels go to
  a paged histogram over order-preserving integer keys
  (:mod:`._key_histogram`: no per-image sort or merge), the few anomaly
  pixels to run-length tables;
* 64-bit scores: run-length tables (:mod:`._run_length_tables`) for both
  classes.

Scores may be numpy arrays or torch tensors on any device: a tensor is
reduced where it lives (masks, checks and ``torch.unique`` on the GPU) and
only the per-class (value, count) tables come to the host. The SMIYC kit's
binned variant lives in :mod:`.binned_accumulator`.
"""
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..constants import IGNORE_INDEX
from ._key_histogram import KEY_DTYPES, KeyHistogram, TorchKeyHistogram
from ._metrics_from_counts import compute_from_counts
from ._metrics_in_sklearn_order import compute_from_tables
from ._run_length_tables import (Table, merge_tables, table_from_scores,
                                 table_len, table_total,
                                 tables_from_histogram)
from .valid_pixels import is_tensor, split_valid, split_valid_tensors

_HISTOGRAM_DTYPES = (np.float16, np.uint8, np.int8, np.uint16, np.int16)
_COMPACT_MIN_ROWS = 1 << 22


def _nan_result(neg: Optional[Table], pos: Optional[Table],
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


def _unique_table(part: Any) -> Table:
    """Run-length table of a 1-D tensor, reduced on its device."""
    import torch
    values, counts = torch.unique(part, sorted=True, return_counts=True)
    return values.cpu().numpy(), counts.cpu().numpy().astype(np.uint64)


def _numpy_dtype(torch_dtype: Any) -> np.dtype:
    import torch
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


class PixelOODAccumulator:
    """Exact pixel-level AUROC / AP / FPR@TPR over a stream of images.

    Example:
        >>> acc = PixelOODAccumulator()
        >>> for score, label in frames:
        ...     acc.update(score, label)          # labels 0, 1 or 255
        >>> acc.compute()['AP']

    Histogram mode is used for 8/16-bit score dtypes (memory constant), a
    paged key histogram for the inliers of 32-bit ones and run-length tables
    otherwise. Scores of a later image must share the dtype of the first or
    be safely castable to it (or vice versa: the state is promoted, as numpy
    would promote the concatenated array).
    """

    def __init__(self) -> None:
        self.dtype: Optional[np.dtype] = None
        self.num_images = 0
        self._hist: Optional[List[np.ndarray]] = None  # [neg, pos]
        self._neg_keys: Optional[KeyHistogram] = None
        self._dev_keys: Optional[TorchKeyHistogram] = None
        self._tables: List[Optional[Table]] = [None, None]
        self._pending: List[List[Table]] = [[], []]

    @property
    def histogram_mode(self) -> bool:
        return self._hist is not None

    def _init_dtype(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype.type in _HISTOGRAM_DTYPES:
            n_bins = 1 << (8 * self.dtype.itemsize)
            self._hist = [np.zeros(n_bins, np.int64) for _ in range(2)]
        elif self.dtype.type in KEY_DTYPES:
            self._neg_keys = KeyHistogram(self.dtype)

    def _bin_values(self) -> np.ndarray:
        """Score value of every histogram bin."""
        n_bins = len(self._hist[0])
        if self.dtype == np.float16:
            return np.arange(n_bins, dtype=np.uint16).view(np.float16)
        low = np.iinfo(self.dtype).min
        return (np.arange(n_bins, dtype=np.int64) + low).astype(self.dtype)

    def _bin_keys(self, values: np.ndarray) -> np.ndarray:
        if self.dtype == np.float16:
            # -0.0 and 0.0 get two bins; the tables merge them (equal values)
            return values.view(np.uint16)
        return values.astype(np.int64) - np.iinfo(self.dtype).min

    def _promote(self, dtype: np.dtype) -> None:
        new = np.dtype(np.result_type(self.dtype, dtype))
        if new == self.dtype:
            return
        if not np.can_cast(self.dtype, new, 'safe'):
            raise ValueError(f'cannot mix score dtypes {self.dtype} and '
                             f'{dtype} exactly; cast all scores to one dtype')
        self._drain()
        if self._hist is not None:
            values = self._bin_values().astype(new)
            for c in range(2):
                if self._hist[c].any():
                    self._pending[c].append(
                        tables_from_histogram(self._hist[c], values))
            self._hist = None
        if self._neg_keys is not None and self._neg_keys.total:
            self._pending[0].append(self._neg_keys.to_table())
        self._neg_keys = None
        for c in range(2):
            if self._tables[c] is not None:
                self._tables[c] = (self._tables[c][0].astype(new),
                                   self._tables[c][1])
            self._pending[c] = [(v.astype(new), n)
                                for v, n in self._pending[c]]
        self.dtype = new
        if new.type in KEY_DTYPES:
            # leave the tables of the inliers for the key histogram
            self._neg_keys = KeyHistogram(new)
            parts = ([self._tables[0]] if self._tables[0] else []) \
                + self._pending[0]
            self._tables[0], self._pending[0] = None, []
            for values, counts in parts:
                self._neg_keys.add(values, counts)

    def update(self, scores: Any, labels: Any,
               ignore_index: Optional[int] = IGNORE_INDEX) -> None:
        """Fold one image in.

        Args:
            scores: Anomaly scores, any shape, higher = more anomalous: a
                numpy array or a torch tensor on any device (reduced there;
                meant for CUDA tensors: on the CPU numpy arrays take the
                faster, smaller byte-counter path).
            labels: Same shape (array or tensor): 0 inlier, 1 anomaly,
                ``ignore_index`` left out.
            ignore_index: Label of pixels to leave out; any other label
                raises a ValueError naming the values found. None leaves
                out every label other than 0 and 1 (explicit opt-in).
        """
        tensors = None
        if is_tensor(scores):
            tensors = split_valid_tensors(scores, labels, ignore_index)
            if not any(t.numel() for t in tensors):
                self.num_images += 1
                return
            dtype = _numpy_dtype(tensors[0].dtype)
            neg = pos = None
        else:
            if is_tensor(labels):
                labels = labels.cpu().numpy()
            neg, pos = split_valid(scores, labels, ignore_index)
            dtype = neg.dtype
            neg = (neg, None) if neg.size else None
            pos = (pos, None) if pos.size else None
        if self.dtype is None:
            self._init_dtype(dtype)
        elif dtype != self.dtype and not np.can_cast(dtype, self.dtype,
                                                       'safe'):
            self._promote(dtype)
        self.num_images += 1
        if tensors is not None:
            neg_t, pos_t = tensors
            if neg_t.numel() and self._neg_keys is not None \
                    and dtype == self.dtype:
                # inliers counted where they are; only anomaly tables move
                self._device_keys(neg_t.device).add(neg_t)
            elif neg_t.numel():
                neg = _unique_table(neg_t)
            if pos_t.numel():
                pos = _unique_table(pos_t)
        for c, table in enumerate((neg, pos)):
            if table is not None:
                self._add(c, (table[0].astype(self.dtype, copy=False),
                              table[1]))

    def _device_keys(self, device: Any) -> TorchKeyHistogram:
        if self._dev_keys is not None and self._dev_keys.device != device:
            self._drain()
        if self._dev_keys is None:
            self._dev_keys = TorchKeyHistogram(device)
        return self._dev_keys

    def _drain(self) -> None:
        """Move the inlier counts held on a torch device to the host."""
        if self._dev_keys is not None:
            self._dev_keys.drain_into(self._neg_keys)
            self._dev_keys = None

    def __getstate__(self) -> dict:
        self._drain()
        return self.__dict__.copy()

    def _add(self, c: int, table: Table) -> None:
        """Count one table of class ``c`` (counts None: one per entry)."""
        values, counts = table
        if self._hist is not None:
            keys = self._bin_keys(values)
            if counts is None:
                self._hist[c] += np.bincount(keys,
                                             minlength=len(self._hist[c]))
            else:
                np.add.at(self._hist[c], keys, counts.astype(np.int64))
        elif c == 0 and self._neg_keys is not None:
            self._neg_keys.add(values, counts)
        else:
            self._pending[c].append(table_from_scores(values)
                                    if counts is None else table)
            self._maybe_compact(c)

    def _maybe_compact(self, c: int, force: bool = False) -> None:
        # Merge the pending tables once they outgrow the merged table: each
        # pixel is re-merged O(1) times on average and memory stays within a
        # small factor of the number of distinct values.
        pending = self._pending[c]
        if not pending:
            return
        size = table_len(self._tables[c]) if self._tables[c] else 0
        rows = sum(table_len(t) for t in pending)
        if force or rows > max(size, _COMPACT_MIN_ROWS):
            parts = ([self._tables[c]] if self._tables[c] else []) + pending
            # hand the only references over: merge_tables frees the inputs
            # once copied, so the result reuses their memory
            self._tables[c], self._pending[c] = None, []
            del pending
            self._tables[c] = merge_tables(parts)

    def merge(self, other: 'PixelOODAccumulator') -> 'PixelOODAccumulator':
        """Add another accumulator's pixels to this one (in place)."""
        if not isinstance(other, PixelOODAccumulator):
            raise TypeError(f'cannot merge {type(other).__name__}')
        if other.dtype is None:
            return self
        self._drain()
        other._drain()
        if self.dtype is None:
            self._init_dtype(other.dtype)
        self._promote(other.dtype)
        self.num_images += other.num_images
        if other._hist is not None and self._hist is not None:
            for c in range(2):
                self._hist[c] += other._hist[c]
            return self
        parts: List[List[Table]] = [[], []]
        if other._hist is not None:
            values = other._bin_values()
            for c in range(2):
                nz = np.flatnonzero(other._hist[c])
                if len(nz):
                    parts[c].append((values[nz],
                                     other._hist[c][nz].astype(np.uint64)))
        if other._neg_keys is not None and self._neg_keys is not None:
            self._neg_keys.merge(other._neg_keys)
        elif other._neg_keys is not None and other._neg_keys.total:
            parts[0].append(other._neg_keys.to_table())
        for c in range(2):
            parts[c] += [t for t in [other._tables[c]] + other._pending[c]
                         if t is not None and table_len(t)]
            for values, counts in parts[c]:
                self._add(c, (values.astype(self.dtype, copy=False), counts))
        return self

    def inlier_storage(self) -> Dict[str, int]:
        """How the inlier counts of 32-bit scores are held (a diagnostic):
        ``dense_pages`` (4 KiB of byte counters each), ``wrap_rows`` (keys
        counted past 255) and ``sparse_pixels`` (raw keys); all zero for
        other dtypes, which keep (value, count) tables."""
        self._drain()
        if self._neg_keys is None:
            return dict(dense_pages=0, wrap_rows=0, sparse_pixels=0)
        return self._neg_keys.storage()

    def final_tables(self) -> List[Optional[Table]]:
        """The merged ``[inlier, anomaly]`` tables (None for no pixels)."""
        self._drain()
        if self._hist is not None:
            values = self._bin_values()
            return [tables_from_histogram(h, values) if h.any() else None
                    for h in self._hist]
        for c in range(2):
            self._maybe_compact(c, force=True)
        tables = list(self._tables)
        if self._neg_keys is not None and self._neg_keys.total:
            tables[0] = self._neg_keys.to_table()
        return tables

    def compute(self, tprs: Sequence[float] = (0.95,),
                pebal_compat: bool = False, curve_points: int = 1000,
                chunk_rows: int = 1 << 16,
                sklearn_float_order: bool = False) -> Dict[str, Any]:
        """All metrics as fractions.

        Args:
            tprs: TPRs at which to report the FPR (``FPR95`` is always there).
            pebal_compat: Also report ``FPR95_pebal``, PEBAL's (Hendrycks')
                FPR at the threshold whose recall is *nearest* 0.95.
            curve_points: Approximate number of points of the thinned curves.
            chunk_rows: Rows of the merged table handled at once (only with
                ``sklearn_float_order``).
            sklearn_float_order: Walk every distinct threshold and add the
                AUROC / AP terms in scikit-learn's floating-point order, so
                the results are bit-identical to it (slower: the walk covers
                the inlier thresholds too). By default the metrics come from
                integer counts at the distinct anomaly scores (equal to
                scikit-learn's to ~1e-15 relative).

        Returns:
            Dict with ``AUROC``, ``AP``, ``FPR95``, ``fpr_at_tpr``
            ({tpr: fpr}), ``best_f1``, ``best_f1_threshold`` (predict anomaly
            where ``score >= threshold``), ``roc_curve`` / ``pr_curve``
            (thinned, for plots), ``num_pos``, ``num_neg``, ``num_images``
            and ``num_anomaly_thresholds`` (distinct anomaly scores; with
            ``sklearn_float_order``: ``num_thresholds``, all distinct
            scores). Metrics are NaN, with a warning, when there are no
            anomaly or no inlier pixels.
        """
        tprs = sorted(set(float(t) for t in tprs) | {0.95})
        self._drain()
        if sklearn_float_order or self._neg_keys is None:
            neg, pos = self.final_tables()
        else:
            self._maybe_compact(1, force=True)
            neg = self._neg_keys if self._neg_keys.total else None
            pos = self._tables[1]
        if neg is None or pos is None:
            missing = 'anomaly' if pos is None else 'inlier'
            warnings.warn(f'no {missing} pixels were seen: AUROC, AP and '
                          'FPR are undefined and reported as NaN')
            if isinstance(neg, KeyHistogram):
                neg = neg.to_table()
            result = _nan_result(neg, pos, tprs, pebal_compat)
        elif sklearn_float_order:
            result = compute_from_tables(neg, pos, tprs, pebal_compat,
                                         curve_points, chunk_rows)
        else:
            result = compute_from_counts(neg, pos, tprs, pebal_compat,
                                         curve_points)
        result['num_images'] = self.num_images
        return result
