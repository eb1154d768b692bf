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
"""
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F


def energy_score(logits: torch.Tensor, temperature: float = 1.0
                 ) -> torch.Tensor:
    """``-T * logsumexp(logits / T)`` over dim 1 of (N, C, H, W)."""
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


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype = torch.float32
                    ) -> torch.Tensor:
    """Normalised (size, size) Gaussian kernel."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f'smoothing kernel size must be odd and positive, '
                         f'got {size}')
    if sigma <= 0:
        raise ValueError(f'smoothing sigma must be positive, got {sigma}')
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
