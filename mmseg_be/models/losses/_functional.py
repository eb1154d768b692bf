"""The OOD losses as pure functions: the maths of every loss module here.

Each registered module (:mod:`.balanced_energy_loss`, :mod:`.energy_loss`,
:mod:`.ood_cross_entropy`, :mod:`.pal_loss`) only holds configuration and
calls one function of this module, as segmentation_models_pytorch's losses
do; the tests check these functions directly.

References:
    Choi, Jeong, Choi. "Balanced Energy Regularization Loss for
    Out-of-distribution Detection", CVPR 2023 (the balanced loss).
    Liu, Wang, Owens, Li. "Energy-based Out-of-distribution Detection",
    NeurIPS 2020 (the vanilla energy regularization).
    Tian et al. "Pixel-wise Energy-biased Abstention Learning for Anomaly
    Segmentation on Complex Urban Driving Scenes", ECCV 2022 (PEBAL: the 0.5
    factor, the sparsity and smoothness terms of the segmentation form, and
    the abstention loss).

Every function takes logits ``(N, C, H, W)`` and labels ``(N, H, W)`` with
in-distribution classes ``0..C-1``, ``ood_index`` on outlier pixels and
``ignore_index`` on void pixels. The losses are computed in float32 (float64
for float64 logits) with autocast off, so they are stable under fp16/bf16
autocast. See docs/method.md for the formulas.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ...scoring import check_smoothing, energy_score, gaussian_smooth
from ._fused_energy import energy_and_outlier_probs
from ._inputs import check_inputs, compute_dtype, without_autocast
from .prior import sharpen_prior

__all__ = ['VARIANTS', 'abstention_loss', 'balanced_energy_loss',
           'energy_loss', 'ood_cross_entropy', 'smoothness_term']

VARIANTS = ('released', 'pure')


def smoothness_term(energy: Tensor) -> Tensor:
    """``0.5 * (sum (E[i+1,j]-E[i,j])^2 + sum (E[i,j+1]-E[i,j])^2)``.

    Summed over the whole batch, void pixels included (released behaviour).

    Args:
        energy: ``(N, H, W)`` energies.

    Returns:
        Tensor: A scalar.
    """
    dh = energy[:, 1:, :] - energy[:, :-1, :]
    dw = energy[:, :, 1:] - energy[:, :, :-1]
    return 0.5 * (dh.square().sum() + dw.square().sum())


def _inlier_term(energy: Tensor, inlier: Tensor, m_in: float) -> Tensor:
    """``mean_IN relu(E - m_in)^2``; 0 (still in the graph) without inliers."""
    penalty = torch.where(inlier, F.relu(energy - m_in).square(),
                          energy.new_zeros(()))
    return penalty.sum() / inlier.sum().clamp(min=1)


def _combine(l_in: Tensor, l_out: Optional[Tensor], sparse: Optional[Tensor],
             energy: Tensor, variant: str, lambda_sparse: float,
             lambda_smooth: float) -> Tensor:
    """Assemble the released or pure segmentation form from its terms."""
    if variant not in VARIANTS:
        raise ValueError(
            f'variant must be one of {VARIANTS}, got {variant!r}.')
    if l_out is None:
        # Released behaviour: no 0.5 factor when the batch has no outlier.
        loss = l_in
    else:
        loss = 0.5 * (l_in + l_out)
        if variant == 'released' and lambda_sparse:
            loss = loss + lambda_sparse * torch.linalg.vector_norm(sparse)
    if variant == 'released' and lambda_smooth:
        loss = loss + lambda_smooth * smoothness_term(energy)
    return loss


@without_autocast
def balanced_energy_loss(logits: Tensor,
                         label: Tensor,
                         prior: Tensor,
                         gamma1: float = 3.0,
                         gamma2: float = 3.0,
                         alpha: float = 5.0,
                         m_in: float = -12.0,
                         m_out: float = -6.0,
                         temperature: float = 1.0,
                         ood_index: int = OUTLIER_LABEL,
                         ignore_index: int = IGNORE_INDEX,
                         lambda_sparse: float = 5e-4,
                         lambda_smooth: float = 3e-6,
                         variant: str = 'released',
                         num_classes: Optional[int] = None) -> Tensor:
    """The balanced energy regularization loss (segmentation form).

    With ``Z_g = sum_c softmax(f)_c * pi_g,c`` and ``E~ = E - alpha * Z_g1``::

        L_in  = mean_IN relu(E - m_in)^2
        L_out = sum_OOD Z_g2 * relu(m_out - E~)^2 / sum_OOD Z_g2
        L     = 0.5 * (L_in + L_out)
                + lambda_sparse * ||E~_OOD||_2            (released only)
                + lambda_smooth * smoothness_term(E)      (released only)

    A batch without outlier pixels gives ``L_in`` (+ the smoothness term for
    the released variant), without the 0.5 factor, as released.

    Args:
        logits: ``(N, K, H, W)`` logits, K = C or C+1 (see ``num_classes``).
        label: ``(N, H, W)`` labels.
        prior: ``(C,)`` non-negative class prior of the outliers.
        gamma1: Sharpening of the prior in the margin term.
        gamma2: Sharpening of the prior in the pixel weights.
        alpha: Scale of the prior-dependent margin shift.
        m_in: Inlier energy margin.
        m_out: Outlier energy margin.
        temperature: Energy temperature T.
        ood_index: Label of outlier pixels.
        ignore_index: Label of void pixels.
        lambda_sparse: Weight of the L2 norm of the outlier energies.
        lambda_smooth: Weight of the energy smoothness term.
        variant: ``'released'`` or ``'pure'`` (no sparsity/smoothness terms).
        num_classes: C when the logits carry an extra abstention channel.

    Returns:
        Tensor: The scalar loss, float32 (float64 for float64 logits), not
        multiplied by any loss weight.
    """
    logits, num_classes = check_inputs(logits, label, ood_index, ignore_index,
                                       num_classes)
    if prior.numel() != num_classes:
        raise ValueError(
            f'The class prior has {prior.numel()} entries but the logits have '
            f'{num_classes} classes; give a prior estimated for this model.')
    outlier = label == ood_index
    inlier = (label != ood_index) & (label != ignore_index)
    energy, probs = energy_and_outlier_probs(logits, outlier, temperature)
    l_in = _inlier_term(energy, inlier, m_in)
    if not probs.shape[0]:
        return _combine(l_in, None, None, energy, variant, lambda_sparse,
                        lambda_smooth)
    prior = prior.to(device=logits.device, dtype=probs.dtype)
    z1 = probs @ sharpen_prior(prior, gamma1)
    z2 = probs @ sharpen_prior(prior, gamma2)
    shifted = energy[outlier] - alpha * z1
    tiny = torch.finfo(z2.dtype).tiny
    l_out = (z2 * F.relu(m_out - shifted).square()).sum() / z2.sum().clamp(
        min=tiny)
    return _combine(l_in, l_out, shifted, energy, variant, lambda_sparse,
                    lambda_smooth)


@without_autocast
def energy_loss(logits: Tensor,
                label: Tensor,
                m_in: float = -12.0,
                m_out: float = -6.0,
                temperature: float = 1.0,
                ood_index: int = OUTLIER_LABEL,
                ignore_index: int = IGNORE_INDEX,
                lambda_sparse: float = 5e-4,
                lambda_smooth: float = 3e-6,
                variant: str = 'released',
                num_classes: Optional[int] = None) -> Tensor:
    """Vanilla energy regularization in PEBAL's segmentation form::

        L = 0.5 * (mean_IN relu(E - m_in)^2 + mean_OOD relu(m_out - E)^2)
            + lambda_sparse * ||E_OOD||_2 + lambda_smooth * smoothness_term(E)

    The last two terms only in the released variant; without outlier pixels
    ``L = mean_IN relu(E - m_in)^2`` (+ smoothness), as for the balanced
    loss. Liu et al.'s original loss is twice the pure variant.

    Args:
        logits: ``(N, K, H, W)`` logits, K = C or C+1 (see ``num_classes``).
        label: ``(N, H, W)`` labels.
        m_in: Inlier energy margin.
        m_out: Outlier energy margin.
        temperature: Energy temperature T.
        ood_index: Label of outlier pixels.
        ignore_index: Label of void pixels.
        lambda_sparse: Weight of the L2 norm of the outlier energies.
        lambda_smooth: Weight of the energy smoothness term.
        variant: ``'released'`` or ``'pure'``.
        num_classes: C when the logits carry an extra abstention channel.

    Returns:
        Tensor: The scalar loss, float32 (float64 for float64 logits).
    """
    logits, _ = check_inputs(logits, label, ood_index, ignore_index,
                             num_classes)
    energy = energy_score(logits.to(compute_dtype(logits)), temperature)
    outlier = label == ood_index
    inlier = (label != ood_index) & (label != ignore_index)
    l_in = _inlier_term(energy, inlier, m_in)
    if not bool(outlier.any()):
        return _combine(l_in, None, None, energy, variant, lambda_sparse,
                        lambda_smooth)
    out_energy = energy[outlier]
    l_out = F.relu(m_out - out_energy).square().mean()
    return _combine(l_in, l_out, out_energy, energy, variant, lambda_sparse,
                    lambda_smooth)


@without_autocast
def ood_cross_entropy(logits: Tensor,
                      label: Tensor,
                      ood_index: int = OUTLIER_LABEL,
                      ignore_index: int = IGNORE_INDEX,
                      class_weight: Optional[Tensor] = None,
                      pixel_weight: Optional[Tensor] = None,
                      num_classes: Optional[int] = None) -> Tensor:
    """Cross-entropy over in-distribution pixels only.

    Outlier (``ood_index``) and void pixels are excluded; the loss is the
    (class- and pixel-weighted) mean over the remaining pixels, and 0 (still
    in the graph) when none remain.

    Args:
        logits: ``(N, K, H, W)`` logits, K = C or C+1.
        label: ``(N, H, W)`` labels.
        ood_index: Label of outlier pixels.
        ignore_index: Label of void pixels.
        class_weight: Optional ``(C,)`` class weights; the mean divides by the
            sum of the weights of the counted pixels (as torch does).
        pixel_weight: Optional ``(N, H, W)`` per-pixel weights (from a pixel
            sampler); multiplied in, the mean divides by the pixel count.
        num_classes: C when the logits carry an extra abstention channel.

    Returns:
        Tensor: The scalar loss, float32 (float64 for float64 logits).
    """
    logits, _ = check_inputs(logits, label, ood_index, ignore_index,
                             num_classes)
    inlier = (label != ood_index) & (label != ignore_index)
    target = torch.where(inlier, label, torch.zeros_like(label)).long()
    per_pixel = F.cross_entropy(
        logits.to(compute_dtype(logits)), target, reduction='none')
    if class_weight is not None:
        cw = class_weight.to(device=logits.device, dtype=per_pixel.dtype)
        per_pixel = per_pixel * cw[target]
        denom = torch.where(inlier, cw[target], cw.new_zeros(())).sum()
    else:
        denom = inlier.sum().to(per_pixel.dtype)
    if pixel_weight is not None:
        per_pixel = per_pixel * pixel_weight.to(per_pixel.dtype)
    total = torch.where(inlier, per_pixel, per_pixel.new_zeros(())).sum()
    if not bool(inlier.any()):
        return total
    return total / denom.clamp(min=torch.finfo(torch.float32).tiny)


@without_autocast
def abstention_loss(logits: Tensor,
                    label: Tensor,
                    num_classes: Optional[int] = None,
                    ood_index: int = OUTLIER_LABEL,
                    ignore_index: int = IGNORE_INDEX,
                    blur_kernel_size: int = 7,
                    blur_sigma: float = 1.0,
                    ood_weight: float = 0.1,
                    clamp_min: float = 1e-7) -> Tensor:
    """The released PAL loss on a C+1-channel head.

    With ``p = softmax`` over the C+1 channels, ``a = p[C]`` (abstention) and
    the reward ``r = blur((logsumexp_{c<C} f_c)^2)`` per image (not
    detached; the blur is the anomaly score's,
    :func:`~mmseg_be.scoring.gaussian_smooth`, reflect-padded as
    torchvision's ``GaussianBlur`` in the release)::

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
    check_smoothing(blur_kernel_size, blur_sigma)
    f = logits.to(compute_dtype(logits))
    probs = f.softmax(dim=1)
    abstain = probs[:, num_classes]
    energy_sq = energy_score(f[:, :num_classes]).square()
    reward = gaussian_smooth(energy_sq, blur_kernel_size, blur_sigma)
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
