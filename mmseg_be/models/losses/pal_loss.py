"""PEBAL's pixel-wise abstention learning (PAL), released behaviour.

Reference: Tian, Liu, Pang, Chen, Wang, Belagiannis, Reid, Carneiro.
"Pixel-wise Energy-biased Abstention Learning for Anomaly Segmentation on
Complex Urban Driving Scenes", ECCV 2022; used beside the balanced energy loss
in the recipe of Choi et al., CVPR 2023. Formulas: docs/method.md.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .balanced_energy_loss import reject_pixel_weight
from .energy import check_inputs, without_autocast
from .fused_energy import compute_dtype


def gaussian_kernel1d(kernel_size: int, sigma: float,
                      dtype: torch.dtype = torch.float32,
                      device: Optional[torch.device] = None) -> Tensor:
    """Normalised 1-D Gaussian taps centred on the middle tap.

    Args:
        kernel_size: Odd number of taps.
        sigma: Standard deviation in pixels.
        dtype: Output dtype.
        device: Output device.

    Returns:
        Tensor: ``(kernel_size,)`` taps summing to 1.
    """
    if kernel_size < 1 or kernel_size % 2 == 0 or sigma <= 0:
        raise ValueError('The blur needs an odd kernel_size >= 1 and '
                         f'sigma > 0, got {kernel_size} and {sigma}.')
    half = (kernel_size - 1) / 2
    x = torch.linspace(-half, half, kernel_size, dtype=dtype, device=device)
    taps = torch.exp(-0.5 * (x / sigma).square())
    return taps / taps.sum()


def gaussian_blur2d(x: Tensor, kernel_size: int = 7,
                    sigma: float = 1.0) -> Tensor:
    """Blur every channel of ``(N, K, H, W)`` maps with a Gaussian.

    Reflect padding, as torchvision's ``GaussianBlur`` used by the released
    code; maps with a side not larger than ``kernel_size // 2`` (where reflect
    padding is undefined) are padded by replication instead.

    Args:
        x: ``(N, K, H, W)`` maps.
        kernel_size: Odd kernel size. Default: 7.
        sigma: Standard deviation in pixels. Default: 1.

    Returns:
        Tensor: The blurred maps, same shape and dtype.
    """
    taps = gaussian_kernel1d(kernel_size, sigma, x.dtype, x.device)
    pad = kernel_size // 2
    channels = x.shape[1]
    mode = 'reflect' if min(x.shape[-2:]) > pad else 'replicate'
    out = F.pad(x, (pad, pad, pad, pad), mode=mode)
    # Separable: the 2-D Gaussian is the outer product of the 1-D taps.
    out = F.conv2d(out, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1),
                   groups=channels)
    return F.conv2d(out, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1),
                    groups=channels)


@without_autocast
def abstention_loss(logits: Tensor,
                    label: Tensor,
                    num_classes: Optional[int] = None,
                    ood_index: int = 254,
                    ignore_index: int = 255,
                    blur_kernel_size: int = 7,
                    blur_sigma: float = 1.0,
                    ood_weight: float = 0.1,
                    clamp_min: float = 1e-7) -> Tensor:
    """The released PAL loss on a C+1-channel head.

    With ``p = softmax`` over the C+1 channels, ``a = p[C]`` (abstention) and
    the reward ``r = blur((logsumexp_{c<C} f_c)^2)`` per image (not
    detached)::

        images without outlier pixels (group B):
            L_B = -mean_{IN of B} log(p_y + a/r)
        images with outlier pixels (group A):
            L_A = -[mean_{IN of A} log(p_y + a/r)
                    + ood_weight * mean_{OOD of A, c<C} log(max(p_c + a/r,
                                                                clamp_min))]
        L = L_A + L_B   (an empty group, or a mean over no pixel, is 0)

    The two groups' losses are added, as the released training step calls the
    PAL loss once on the images without and once on those with outliers.

    Args:
        logits: ``(N, C+1, H, W)`` logits, abstention channel last.
        label: ``(N, H, W)`` labels.
        num_classes: C; None means ``channels - 1``.
        ood_index: Label of outlier pixels.
        ignore_index: Label of void pixels.
        blur_kernel_size: Size of the Gaussian blur of the reward.
        blur_sigma: Sigma of that blur.
        ood_weight: Weight of the outlier term (0.1 released).
        clamp_min: Floor of ``p_c + a/r`` in the outlier term (1e-7 released).

    Returns:
        Tensor: The scalar loss, float32 (float64 for float64 logits).
    """
    channels = logits.shape[1] if logits.dim() == 4 else 0
    if num_classes is None:
        num_classes = channels - 1
    if channels != num_classes + 1 or num_classes < 1:
        raise ValueError(
            f'PAL needs C+1 logit channels (abstention last); got {channels} '
            f'channels for num_classes={num_classes}. Use a head with one '
            'extra output channel, e.g. AbstentionASPPHead.')
    check_inputs(logits, label, ood_index, ignore_index, num_classes)
    f = logits.to(compute_dtype(logits))
    probs = f.softmax(dim=1)
    abstain = probs[:, num_classes]
    energy_sq = torch.logsumexp(f[:, :num_classes], dim=1).square()
    reward = gaussian_blur2d(energy_sq.unsqueeze(1), blur_kernel_size,
                             blur_sigma).squeeze(1)
    boost = abstain / reward

    outlier = label == ood_index
    inlier = ~outlier & (label != ignore_index)
    target = torch.where(inlier, label, torch.zeros_like(label)).long()
    p_true = probs.gather(1, target.unsqueeze(1)).squeeze(1)
    log_in = torch.log(torch.where(inlier, p_true + boost,
                                   torch.ones_like(boost)))
    image_has_ood = outlier.flatten(1).any(dim=1)

    loss = log_in.new_zeros(())
    for group in (image_has_ood, ~image_has_ood):
        if not bool(group.any()):
            continue
        group_in = inlier[group]
        loss = loss - log_in[group].sum() / group_in.sum().clamp(min=1)
    if bool(outlier.any()):
        # (K, C) class probabilities of the outlier pixels.
        p_out = probs[:, :num_classes].permute(0, 2, 3, 1)[outlier]
        boosted = (p_out + boost[outlier].unsqueeze(1)).clamp(min=clamp_min)
        loss = loss - ood_weight * boosted.log().mean()
    return loss


@MODELS.register_module()
class PALLoss(nn.Module):
    """PEBAL's pixel-wise abstention loss as released (see
    :func:`abstention_loss`). The decode head must output C+1 channels, the
    last one the abstention channel (e.g. ``AbstentionASPPHead``); energies and
    the reward use the first C.

    Args:
        num_classes: C, the in-distribution classes; None means the logits'
            channels minus one. Default: None.
        ood_index: Label of pasted outlier pixels. Default: 254.
        ignore_index: Label of void pixels (``forward``'s value wins).
            Default: 255.
        blur_kernel_size: Gaussian blur size of the reward. Default: 7.
        blur_sigma: Gaussian blur sigma of the reward. Default: 1.
        ood_weight: Weight of the outlier term. Default: 0.1.
        clamp_min: Floor inside the outlier term's log. Default: 1e-7.
        loss_weight: Multiplier of the loss. Default: 1.0.
        loss_name: Name in the loss dict. Default: ``'loss_pal'``.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ood_index: int = 254,
                 ignore_index: int = 255,
                 blur_kernel_size: int = 7,
                 blur_sigma: float = 1.0,
                 ood_weight: float = 0.1,
                 clamp_min: float = 1e-7,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_pal') -> None:
        super().__init__()
        gaussian_kernel1d(blur_kernel_size, blur_sigma)  # validates early
        if not (clamp_min > 0 and math.isfinite(clamp_min)):
            raise ValueError(f'clamp_min must be > 0, got {clamp_min}.')
        self.num_classes = num_classes
        self.ood_index = ood_index
        self.ignore_index = ignore_index
        self.blur_kernel_size = blur_kernel_size
        self.blur_sigma = blur_sigma
        self.ood_weight = ood_weight
        self.clamp_min = clamp_min
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Compute the weighted loss.

        Args:
            cls_score: ``(N, C+1, H, W)`` logits.
            label: ``(N, H, W)`` labels.
            weight: Must be None (no per-pixel weighting).
            ignore_index: Void label; None uses the constructor's.
            **kwargs: Ignored.

        Returns:
            Tensor: ``loss_weight`` times the PAL loss.
        """
        reject_pixel_weight(weight, type(self).__name__)
        ignore = self.ignore_index if ignore_index is None else ignore_index
        loss = abstention_loss(
            cls_score, label, num_classes=self.num_classes,
            ood_index=self.ood_index, ignore_index=ignore,
            blur_kernel_size=self.blur_kernel_size,
            blur_sigma=self.blur_sigma, ood_weight=self.ood_weight,
            clamp_min=self.clamp_min)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss in MMSeg's loss dict."""
        return self._loss_name
