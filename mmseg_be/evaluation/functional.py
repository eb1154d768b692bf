"""Exact, streaming pixel-level OOD metrics (pure numpy).

:class:`PixelOODAccumulator` folds one image at a time into run-length tables
(distinct score value -> pixel count, one table per class) and computes
AUROC, AP and FPR at given TPRs that are bit-identical to scikit-learn's
``roc_auc_score`` / ``average_precision_score`` on the concatenation of all
pixels, whatever the order of updates and merges. Memory follows the number of
distinct score values, not the number of images: 8- and 16-bit scores
(``float16``, ``uint8``, ``int16``, ...) are counted in a fixed histogram.
The SMIYC kit's binned variant lives in :mod:`.binned`.
"""
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ._curves import compute_from_tables, empty_result
from ._tables import (Table, merge_tables, table_from_scores, table_len,
                      tables_from_histogram)

_HISTOGRAM_DTYPES = (np.float16, np.uint8, np.int8, np.uint16, np.int16)
_COMPACT_MIN_ROWS = 1 << 22


def split_valid(scores: np.ndarray, labels: np.ndarray,
                ignore_index: Optional[int] = None):
    """Check one image and return its inlier and anomaly scores (1-D).

    Args:
        scores: Anomaly scores, any shape, higher = more anomalous.
        labels: Same shape; 0 inlier, 1 anomaly. Other values are ignored
            when ``ignore_index`` is None; otherwise only ``ignore_index`` may
            appear besides 0 and 1.
        ignore_index: Label of pixels to leave out, or None.

    Returns:
        ``(neg_scores, pos_scores)``.

    Raises:
        ValueError: Shape mismatch, unexpected label values, non-finite
            scores on evaluated pixels.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.shape != labels.shape:
        raise ValueError(f'scores have shape {scores.shape} but labels have '
                         f'shape {labels.shape}; they must match pixel for '
                         'pixel (resize the scores to the label size)')
    if scores.dtype == bool:
        scores = scores.view(np.uint8)
    if not (np.issubdtype(scores.dtype, np.floating)
            or np.issubdtype(scores.dtype, np.integer)):
        raise ValueError(f'scores must be a real number array, got '
                         f'{scores.dtype}')
    neg_mask = labels == 0
    pos_mask = labels == 1
    if ignore_index is not None:
        bad = ~(neg_mask | pos_mask | (labels == ignore_index))
        if bad.any():
            found = np.unique(labels[bad])
            raise ValueError(
                f'labels contain values {found[:20].tolist()} besides 0 '
                f'(inlier), 1 (anomaly) and ignore_index={ignore_index}; '
                'convert the labels or pass ignore_index=None to drop them')
    neg = scores[neg_mask]
    pos = scores[pos_mask]
    if np.issubdtype(scores.dtype, np.floating):
        for name, part in (('inlier', neg), ('anomaly', pos)):
            if part.size and not np.isfinite(part).all():
                n_bad = int(np.count_nonzero(~np.isfinite(part)))
                raise ValueError(f'{n_bad} {name} pixels have NaN or '
                                 'infinite scores')
    return neg, pos


class PixelOODAccumulator:
    """Exact pixel-level AUROC / AP / FPR@TPR over a stream of images.

    Example:
        >>> acc = PixelOODAccumulator()
        >>> for score, label in frames:
        ...     acc.update(score, label, ignore_index=255)
        >>> acc.compute()['AP']

    Histogram mode is used for 8/16-bit score dtypes (memory constant), run
    length mode for 32/64-bit ones. Scores of a later image must share the
    dtype of the first or be safely castable to it (or vice versa: the state
    is promoted, as numpy would promote the concatenated array).
    """

    def __init__(self) -> None:
        self.dtype: Optional[np.dtype] = None
        self.num_images = 0
        self._hist: Optional[List[np.ndarray]] = None  # [neg, pos]
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

    def _bin_values(self) -> np.ndarray:
        """Score value of every histogram bin."""
        n_bins = len(self._hist[0])
        if self.dtype == np.float16:
            return np.arange(n_bins, dtype=np.uint16).view(np.float16)
        low = np.iinfo(self.dtype).min
        return (np.arange(n_bins, dtype=np.int64) + low).astype(self.dtype)

    def _to_runlength(self, dtype: np.dtype) -> None:
        """Leave histogram mode: turn the histograms into tables."""
        values = self._bin_values().astype(dtype)
        for c in range(2):
            if self._hist[c].any():
                self._pending[c].append(
                    tables_from_histogram(self._hist[c], values))
        self._hist = None

    def _promote(self, dtype: np.dtype) -> None:
        new = np.result_type(self.dtype, dtype)
        if new == self.dtype:
            return
        if not np.can_cast(self.dtype, new, 'safe'):
            raise ValueError(f'cannot mix score dtypes {self.dtype} and '
                             f'{dtype} exactly; cast all scores to one dtype')
        if self._hist is not None:
            self._to_runlength(new)
        else:
            for c in range(2):
                if self._tables[c] is not None:
                    self._tables[c] = (self._tables[c][0].astype(new),
                                       self._tables[c][1])
                self._pending[c] = [(v.astype(new), n)
                                    for v, n in self._pending[c]]
        self.dtype = np.dtype(new)

    def update(self, scores: np.ndarray, labels: np.ndarray,
               ignore_index: Optional[int] = None) -> None:
        """Fold one image in (see :func:`split_valid` for the conventions)."""
        neg, pos = split_valid(scores, labels, ignore_index)
        if self.dtype is None:
            self._init_dtype(neg.dtype)
        elif neg.dtype != self.dtype:
            if not np.can_cast(neg.dtype, self.dtype, 'safe'):
                self._promote(neg.dtype)
            neg = neg.astype(self.dtype)
            pos = pos.astype(self.dtype)
        self.num_images += 1
        if self._hist is not None:
            low = 0 if self.dtype == np.float16 else np.iinfo(self.dtype).min
            for c, part in enumerate((neg, pos)):
                if part.size:
                    keys = (part.view(np.uint16) if self.dtype == np.float16
                            else part.astype(np.int64) - low)
                    self._hist[c] += np.bincount(
                        keys, minlength=len(self._hist[c]))
            return
        for c, part in enumerate((neg, pos)):
            if part.size:
                self._pending[c].append(table_from_scores(part))
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
        if self.dtype is None:
            self._init_dtype(other.dtype)
        self._promote(other.dtype)
        self.num_images += other.num_images
        if other._hist is not None and self._hist is not None:
            for c in range(2):
                self._hist[c] += other._hist[c]
            return self
        if other._hist is not None:
            values = other._bin_values().astype(self.dtype)
            parts = [tables_from_histogram(h, values) if h.any() else None
                     for h in other._hist]
        else:
            parts = [None, None]
        for c in range(2):
            extra = [t for t in [other._tables[c], parts[c]]
                     + other._pending[c] if t is not None and table_len(t)]
            self._pending[c].extend(
                (v.astype(self.dtype, copy=False), n) for v, n in extra)
            self._maybe_compact(c)
        return self

    def final_tables(self) -> List[Optional[Table]]:
        """The merged ``[inlier, anomaly]`` tables (None for no pixels)."""
        if self._hist is not None:
            values = self._bin_values()
            return [tables_from_histogram(h, values) if h.any() else None
                    for h in self._hist]
        for c in range(2):
            self._maybe_compact(c, force=True)
        return list(self._tables)

    def compute(self, tprs: Sequence[float] = (0.95,),
                pebal_compat: bool = False, curve_points: int = 1000,
                chunk_rows: int = 1 << 16) -> Dict[str, Any]:
        """All metrics as fractions.

        Args:
            tprs: TPRs at which to report the FPR (``FPR95`` is always there).
            pebal_compat: Also report ``FPR95_pebal``, PEBAL's (Hendrycks')
                FPR at the threshold whose recall is *nearest* 0.95.
            curve_points: Approximate number of points of the thinned curves.
            chunk_rows: Rows of the merged table handled at once.

        Returns:
            Dict with ``AUROC``, ``AP``, ``FPR95``, ``fpr_at_tpr``
            ({tpr: fpr}), ``best_f1``, ``best_f1_threshold`` (predict anomaly
            where ``score >= threshold``), ``roc_curve`` / ``pr_curve``
            (thinned, for plots), ``num_pos``, ``num_neg``,
            ``num_thresholds``, ``num_images``. Metrics are NaN, with a
            warning, when there are no anomaly or no inlier pixels.
        """
        tprs = sorted(set(float(t) for t in tprs) | {0.95})
        neg, pos = self.final_tables()
        if neg is None or pos is None:
            missing = 'anomaly' if pos is None else 'inlier'
            warnings.warn(f'no {missing} pixels were seen: AUROC, AP and '
                          'FPR are undefined and reported as NaN')
            result = empty_result(neg, pos, tprs, pebal_compat)
        else:
            result = compute_from_tables(neg, pos, tprs, pebal_compat,
                                         curve_points, chunk_rows)
        result['num_images'] = self.num_images
        return result
