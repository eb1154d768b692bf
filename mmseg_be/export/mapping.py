"""Monotone maps from raw anomaly scores into [0, 1] for submissions.

SegmentMeIfYouCan expects probability-like float16 values in [0, 1]. Raw
scores (negative energy, max-logit, ...) are unbounded, so they are mapped by
a non-decreasing function whose parameters are written next to the files:

- ``minmax``: ``clip((s - low) / (high - low), 0, 1)``. ``low``/``high`` are
  given, or measured on calibration scores (percentiles, default min and
  max). Linear, so float16 keeps an even resolution over the range; scores
  outside the range are clipped (ties at 0 or 1).
- ``sigmoid``: ``1 / (1 + exp(-(s - center) / scale))``. Strictly increasing,
  but float16 rounds values far from ``center`` to 0 or 1, so pick
  ``center``/``scale`` from the scores' range.
- ``identity``: the scores already lie in [0, 1] (e.g. ``1 - max softmax``);
  values outside raise an error rather than being clipped silently.
"""
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

MAPPINGS = ('minmax', 'sigmoid', 'identity')


@dataclass(frozen=True)
class ScoreMapping:
    """A recorded, monotone map from raw scores into [0, 1].

    Args:
        kind: One of :data:`MAPPINGS`.
        low: ``minmax`` only: score mapped to 0.
        high: ``minmax`` only: score mapped to 1.
        center: ``sigmoid`` only: score mapped to 0.5.
        scale: ``sigmoid`` only: score change for a factor e in the odds.
    """
    kind: str = 'minmax'
    low: Optional[float] = None
    high: Optional[float] = None
    center: Optional[float] = None
    scale: Optional[float] = None

    def __post_init__(self) -> None:
        if self.kind not in MAPPINGS:
            raise ValueError(f'Unknown score mapping {self.kind!r}; use one '
                             f'of {MAPPINGS}.')
        if self.kind == 'minmax' and (self.low is None or self.high is None
                                      or not self.high > self.low):
            raise ValueError(
                f'The minmax mapping needs low < high, got low={self.low}, '
                f'high={self.high}; pass both or calibrate on scores with '
                f'ScoreMapping.calibrate(...).')
        if self.kind == 'sigmoid' and (self.center is None
                                       or self.scale is None
                                       or not self.scale > 0):
            raise ValueError(
                f'The sigmoid mapping needs a center and a scale > 0, got '
                f'center={self.center}, scale={self.scale}.')

    @classmethod
    def calibrate(cls,
                  scores: Sequence[np.ndarray],
                  percentiles: Tuple[float, float] = (0.0, 100.0)
                  ) -> 'ScoreMapping':
        """A ``minmax`` mapping spanning calibration scores.

        Args:
            scores: Score maps (e.g. of the first frames, or a held-out set).
            percentiles: The percentiles taken as ``low`` and ``high``.

        Returns:
            ScoreMapping: A minmax mapping; a constant calibration set gets a
            unit-wide range around its value.
        """
        values = np.concatenate(
            [np.asarray(s, dtype=np.float64).ravel() for s in scores])
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError('Cannot calibrate a score mapping on no finite '
                             'scores.')
        low, high = (float(v) for v in np.percentile(values, percentiles))
        if not high > low:
            low, high = low - 0.5, low + 0.5
        return cls(kind='minmax', low=low, high=high)

    def __call__(self, scores: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Map scores into [0, 1].

        Args:
            scores: Raw score map.
            dtype: Output dtype; computed in float64 and rounded once into it
                (float32 then float16 would round twice).

        Returns:
            np.ndarray: values in [0, 1] (NaN -> 0).
        """
        s = np.asarray(scores, dtype=np.float64)
        if self.kind == 'minmax':
            out = (s - self.low) / (self.high - self.low)
        elif self.kind == 'sigmoid':
            # exp of a large positive argument overflows to inf -> 0, which is
            # the correct limit; silence only that warning.
            with np.errstate(over='ignore'):
                out = 1.0 / (1.0 + np.exp(-(s - self.center) / self.scale))
        else:
            finite = s[np.isfinite(s)]
            if finite.size and (finite.min() < 0 or finite.max() > 1):
                raise ValueError(
                    f'The identity mapping needs scores in [0, 1], got '
                    f'[{finite.min():.4g}, {finite.max():.4g}]; use the '
                    f'minmax or sigmoid mapping instead.')
            out = s
        out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0)
        return np.clip(out, 0.0, 1.0).astype(dtype)

    def to_dict(self) -> dict:
        """Parameters for the JSON record (unused fields dropped)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> 'ScoreMapping':
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in ('kind', 'low', 'high', 'center',
                                           'scale') if k in data})
