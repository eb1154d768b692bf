"""Anomaly scores from segmentation logits (higher = more anomalous).

One registry, :data:`SCORE_FUNCTIONS`, names every score; the evaluator, the
visualizer and the exporters all call :func:`compute_anomaly_score` so a name
in a config means the same map everywhere.

* ``energy``: ``-T * logsumexp(f / T)`` over the classes (Liu et al. 2020);
  the released balanced-energy method uses it smoothed with a 7x7 Gaussian,
  sigma 1.
* ``max_logit``: ``-max_c f_c``.
* ``max_softmax``: ``-max_c softmax(f)_c``.
* ``entropy``: ``-sum_c s_c log s_c`` of the softmax.

Smoothing is a depthwise 2-D convolution with a normalised Gaussian kernel and
*reflect* padding (the border pixel is not repeated, matching
torchvision's ``gaussian_blur``, which the released code calls), so the map
keeps its size and a constant map stays constant.

One setting per config
----------------------
A config names its score once, at the top level::

    anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=7,
                         smooth_sigma=1.0, num_classes=None)

and :class:`~mmseg_be.engine.AnomalyScoreHook` hands that setting to every
component of the run that turns logits into scores (``PixelOODMetric``,
``AnomalyVisualizer``, ``SubmissionExportHook``); ``tools/export.py`` and
``tools/visualize.py`` read it from the config too. Command-line flags
(``--score``, ``--score-options``) override it for all of them at once.
:func:`anomaly_score_settings` turns a partial setting into the full,
checked dict that :func:`compute_anomaly_score` takes as keyword arguments.
"""
from typing import Any, Callable, Dict, Optional

import numpy as np

import torch
import torch.nn.functional as F


def energy_score(logits: torch.Tensor, temperature: float = 1.0
                 ) -> torch.Tensor:
    """``-T * logsumexp(logits / T)`` over dim 1 of (N, C, H, W): the free
    energy, the one formula the scores and the energy losses use.

    At ``T = 1`` the division and the product are skipped (the result is the
    same, bit for bit, in one pass less).
    """
    if temperature == 1.0:
        return -torch.logsumexp(logits, dim=1)
    return -temperature * torch.logsumexp(logits / temperature, dim=1)


def max_logit_score(logits: torch.Tensor, temperature: float = 1.0
                    ) -> torch.Tensor:
    """``-max_c logits_c`` (temperature unused)."""
    return -logits.max(dim=1).values


def max_softmax_score(logits: torch.Tensor, temperature: float = 1.0
                      ) -> torch.Tensor:
    """``-max_c softmax(logits / T)_c``."""
    return -torch.softmax(logits / temperature, dim=1).max(dim=1).values


def entropy_score(logits: torch.Tensor, temperature: float = 1.0
                  ) -> torch.Tensor:
    """Entropy of ``softmax(logits / T)`` (natural log)."""
    log_p = torch.log_softmax(logits / temperature, dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


SCORE_FUNCTIONS: Dict[str, Callable[..., torch.Tensor]] = {
    'energy': energy_score,
    'max_logit': max_logit_score,
    'max_softmax': max_softmax_score,
    'entropy': entropy_score,
}


def check_smoothing(kernel_size: int, sigma: float) -> None:
    """Reject a Gaussian blur :func:`gaussian_smooth` cannot do.

    Raises:
        ValueError: Unless ``kernel_size`` is odd and >= 1 and ``sigma > 0``.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'smoothing kernel size must be odd and positive, '
                         f'got {kernel_size}')
    if sigma <= 0:
        raise ValueError(f'smoothing sigma must be positive, got {sigma}')


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype = torch.float32
                    ) -> torch.Tensor:
    """Normalised (size, size) Gaussian kernel."""
    check_smoothing(size, sigma)
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = g / g.sum()
    return g[:, None] * g[None, :]


def gaussian_smooth(score: torch.Tensor, kernel_size: int, sigma: float
                    ) -> torch.Tensor:
    """Blur (N, H, W) maps with a Gaussian, reflect padding, same size."""
    kernel = gaussian_kernel(kernel_size, sigma, score.dtype).to(score.device)
    pad = kernel_size // 2
    x = score[:, None]
    # reflect padding needs pad < size; tiny maps fall back to replicate
    mode = 'reflect' if min(x.shape[-2:]) > pad else 'replicate'
    x = F.pad(x, (pad, pad, pad, pad), mode=mode)
    return F.conv2d(x, kernel[None, None])[:, 0]


def compute_anomaly_score(logits: torch.Tensor, name: str = 'energy',
                          temperature: float = 1.0,
                          smooth_kernel: Optional[int] = None,
                          smooth_sigma: float = 1.0,
                          num_classes: Optional[int] = None) -> torch.Tensor:
    """Anomaly score map from logits.

    Args:
        logits: (C, H, W) or (N, C, H, W) logits.
        name: One of :data:`SCORE_FUNCTIONS`.
        temperature: Softmax / energy temperature.
        smooth_kernel: Odd Gaussian kernel size, or None for no smoothing
            (the released method: 7).
        smooth_sigma: Gaussian sigma (the released method: 1).
        num_classes: Use only the first C channels (a PAL head appends an
            abstention channel); None uses all.

    Returns:
        (H, W) or (N, H, W) float scores, higher = more anomalous.
    """
    if name not in SCORE_FUNCTIONS:
        raise KeyError(f'unknown anomaly score {name!r}; choose one of '
                       f'{sorted(SCORE_FUNCTIONS)}')
    if logits.dim() not in (3, 4):
        raise ValueError(f'logits must be (C, H, W) or (N, C, H, W), got '
                         f'shape {tuple(logits.shape)}')
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}')
    single = logits.dim() == 3
    if single:
        logits = logits[None]
    if num_classes is not None:
        if not 0 < num_classes <= logits.shape[1]:
            raise ValueError(f'num_classes={num_classes} but the logits have '
                             f'{logits.shape[1]} channels')
        logits = logits[:, :num_classes]
    if not logits.is_floating_point():
        logits = logits.float()
    score = SCORE_FUNCTIONS[name](logits, temperature)
    if smooth_kernel:
        score = gaussian_smooth(score, smooth_kernel, smooth_sigma)
    return score[0] if single else score


DEFAULT_ANOMALY_SCORE: Dict[str, Any] = dict(
    name='energy', temperature=1.0, smooth_kernel=None, smooth_sigma=1.0,
    num_classes=None)


def anomaly_score_settings(settings: Optional[dict] = None,
                           **overrides: Any) -> Dict[str, Any]:
    """The full, checked anomaly-score setting.

    Args:
        settings: A partial setting (e.g. a config's ``anomaly_score``); the
            legacy key ``score`` is read as ``name``. None: the defaults
            (energy, T=1, no smoothing).
        **overrides: Keys replacing those of ``settings`` (None values are
            taken as given: ``smooth_kernel=None`` turns smoothing off).

    Returns:
        dict: Every key of :data:`DEFAULT_ANOMALY_SCORE`.

    Raises:
        KeyError: Unknown key or score name.
        ValueError: Invalid temperature or smoothing.
    """
    merged = dict(DEFAULT_ANOMALY_SCORE)
    for source in (dict(settings or {}), overrides):
        if 'score' in source:
            source = dict(source)
            source['name'] = source.pop('score')
        unknown = set(source) - set(DEFAULT_ANOMALY_SCORE)
        if unknown:
            raise KeyError(
                f'unknown anomaly_score keys {sorted(unknown)}; the setting '
                f'takes {sorted(DEFAULT_ANOMALY_SCORE)}')
        merged.update(source)
    if merged['name'] not in SCORE_FUNCTIONS:
        raise KeyError(f'unknown anomaly score {merged["name"]!r}; choose one '
                       f'of {sorted(SCORE_FUNCTIONS)}')
    merged['temperature'] = float(merged['temperature'])
    merged['smooth_sigma'] = float(merged['smooth_sigma'])
    if merged['temperature'] <= 0:
        raise ValueError(
            f'temperature must be positive, got {merged["temperature"]}')
    kernel = merged['smooth_kernel']
    if kernel in (0, False):
        kernel = None
    if kernel is not None:
        kernel = int(kernel)
        gaussian_kernel(kernel, merged['smooth_sigma'])  # validates
    merged['smooth_kernel'] = kernel
    if merged['num_classes'] is not None:
        merged['num_classes'] = int(merged['num_classes'])
    return merged


def describe_anomaly_score(settings: dict) -> str:
    """A short text of a setting, e.g. ``energy, T=1, gaussian 7x7 s=1``."""
    s = anomaly_score_settings(settings)
    text = f'{s["name"]}, T={s["temperature"]:g}'
    if s['smooth_kernel']:
        text += (f', gaussian {s["smooth_kernel"]}x{s["smooth_kernel"]} '
                 f's={s["smooth_sigma"]:g}')
    if s['num_classes'] is not None:
        text += f', first {s["num_classes"]} channels'
    return text


class NonFiniteScoreError(ValueError):
    """An anomaly-score map holds NaN or infinite values."""


def check_finite_scores(scores: np.ndarray, where: str) -> np.ndarray:
    """Return ``scores`` if every value is finite, else raise.

    Args:
        scores: A score map.
        where: What the map is (a frame id or file), named in the error.

    Raises:
        NonFiniteScoreError: naming ``where`` and the number of bad pixels.
    """
    finite = np.isfinite(scores)
    if not finite.all():
        bad = int(scores.size - np.count_nonzero(finite))
        raise NonFiniteScoreError(
            f'{where}: {bad} of {scores.size} anomaly scores are NaN or '
            'infinite (diverged weights, or a temperature/score that '
            'overflows); check the checkpoint, or use another score')
    return scores


def scores_from_logits(logits: torch.Tensor, settings: Optional[dict] = None,
                       where: str = 'image') -> np.ndarray:
    """The anomaly-score map of one image as a checked float32 array.

    Args:
        logits: ``(C, H, W)`` logits at the image's resolution.
        settings: An anomaly-score setting (see
            :func:`anomaly_score_settings`).
        where: Frame id or file named in errors.

    Returns:
        np.ndarray: ``(H, W)`` float32 scores, all finite.
    """
    if logits.ndim != 3:
        raise ValueError(f'{where}: expected (C, H, W) logits, got shape '
                         f'{tuple(logits.shape)}')
    with torch.no_grad():
        out = compute_anomaly_score(logits[None].float(),
                                    **anomaly_score_settings(settings))
    out = out[0].detach().cpu().numpy().astype(np.float32, copy=False)
    return check_finite_scores(out, where)


def scores_from_sample(data_sample,
                       anomaly_score: Optional[dict] = None) -> np.ndarray:
    """Anomaly scores of a test output (a ``SegDataSample``).

    Uses ``seg_logits``, which MMSeg's segmentors resize to the original image
    size in ``postprocess_result``.

    Args:
        data_sample: The test output.
        anomaly_score: The score setting (see :func:`anomaly_score_settings`).

    Returns:
        np.ndarray: ``(H, W)`` float32 scores, all finite.

    Raises:
        NonFiniteScoreError: NaN/inf scores (naming the image and count).
    """
    if 'seg_logits' not in data_sample:
        raise ValueError('The test output has no seg_logits; anomaly scores '
                         'need the logits of an MMSeg segmentor.')
    where = data_sample.metainfo.get('img_path', 'image')
    return scores_from_logits(data_sample.seg_logits.data, anomaly_score,
                              where)


class AnomalyScoreUser:
    """Mixin of the components that turn logits into anomaly scores.

    They take an optional explicit setting when built and the config's
    setting from :class:`~mmseg_be.engine.AnomalyScoreHook` before the run;
    ``self.anomaly_score`` is always the full setting in use.
    """

    anomaly_score: Dict[str, Any]
    _explicit_score: Optional[Dict[str, Any]]

    def _init_anomaly_score(self, anomaly_score: Optional[dict] = None,
                            **legacy: Any) -> None:
        """Resolve ``anomaly_score`` and the legacy keyword arguments.

        Args:
            anomaly_score: A (partial) setting, or None.
            **legacy: Older per-component arguments (``score``,
                ``temperature``, ``smooth_kernel``, ...); None values are
                not given.
        """
        given = {k: v for k, v in legacy.items() if v is not None}
        if anomaly_score is None and not given:
            self._explicit_score = None
            self.anomaly_score = anomaly_score_settings()
        else:
            self._explicit_score = anomaly_score_settings(anomaly_score,
                                                          **given)
            self.anomaly_score = self._explicit_score

    def set_anomaly_score(self, settings: dict) -> Optional[Dict[str, Any]]:
        """Use ``settings`` from now on.

        Returns:
            The explicit setting the component was built with, if any, so the
            caller can warn when it is overridden.
        """
        previous = self._explicit_score
        self.anomaly_score = anomaly_score_settings(settings)
        self._explicit_score = None
        return previous
