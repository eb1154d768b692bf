"""Balanced energy regularization loss as an MMSeg loss module."""
from typing import Optional, Sequence, Union

import torch
import torch.distributed as dist
from mmseg.registry import MODELS
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ._functional import balanced_energy_loss
from .base import BaseOODLoss
from .prior import (PriorLike, outlier_class_counts,
                    released_margin_shift_fraction, resolve_prior,
                    scaled_alpha)


@MODELS.register_module()
class BalancedEnergyLoss(BaseOODLoss):
    """Balanced energy regularization loss (Choi et al., CVPR 2023).

    Outlier pixels (``ood_index``) are pushed above an energy margin that grows
    with how much the model confuses them with frequent outlier classes of the
    prior, and are weighted by that same confusion; inlier pixels are pushed
    below ``m_in``. Formulas: :func:`~._functional.balanced_energy_loss` and
    docs/method.md. Defaults are the released segmentation values.

    Args:
        prior: Class prior of the auxiliary outliers: a list of C non-negative
            numbers, the name of a shipped prior
            (``'cityscapes-coco-released'``: the released Cityscapes values,
            see :data:`~.prior.NAMED_PRIORS`),
            a path to a prior JSON file (``tools/estimate_prior.py``),
            None for a uniform prior (the loss then reduces to vanilla
            energy regularization with ``m_out`` shifted by ``alpha / C``),
            or ``'online'``: a running estimate from the model's own detached
            argmax predictions on the outlier pixels of each training batch
            (``p <- m * p + (1 - m) * batch histogram``), summed over all
            processes in distributed training, kept in the ``online_prior``
            buffer so checkpoints save it and ``--resume`` restores it.
        online_init: Start of the online estimate: None (uniform; then
            ``num_classes`` is required), a list or a prior JSON file.
        online_momentum: Momentum m of the online estimate. Default: 0.99.
        gamma1: Prior sharpening for the margin shift. Default: 3.
        gamma2: Prior sharpening for the pixel weights. Default: 3.
        alpha: Scale of the margin shift, or ``'scaled'``: this project's
            rule for margins other than the released ones (not the paper's),
            ``alpha = margin_shift_fraction * (m_out - m_in) / max(pi_g1)``
            from the prior in use (recomputed every step for an online
            prior), so the largest shift stays the same fraction of the
            margin gap as in the released setting. See
            :func:`~.prior.scaled_alpha` and docs/method.md. Default: 5.
        margin_shift_fraction: The fraction of ``alpha='scaled'``; None:
            the released setting's (5 x 0.290 / 6 = 0.242,
            :func:`~.prior.released_margin_shift_fraction`). Default: None.
        m_in: Inlier energy margin. Default: -12.
        m_out: Outlier energy margin. Default: -6.
        temperature: Energy temperature. Default: 1.
        ood_index: Label of pasted outlier pixels. Default: 254.
        ignore_index: Label of void pixels; the value MMSeg's decode head
            passes to ``forward`` takes precedence. Default: 255.
        lambda_sparse: Weight of the outlier-energy L2 norm (released
            variant). Default: 5e-4.
        lambda_smooth: Weight of the energy smoothness term (released
            variant). Default: 3e-6.
        variant: ``'released'`` or ``'pure'`` (without the sparsity and
            smoothness terms). Default: ``'released'``.
        num_classes: Number C of in-distribution classes when the head has an
            extra abstention channel (C+1 logits); energies use the first C.
            None: all channels are classes. Default: None.
        class_names: Optional class names checked against the prior file's.
        loss_weight: Multiplier of the loss. Default: 0.1.
        loss_name: Name in the loss dict; must start with ``loss_`` to be
            back-propagated. Default: ``'loss_balanced_energy'``.
    """

    def __init__(self,
                 prior: PriorLike = None,
                 online_init: PriorLike = None,
                 online_momentum: float = 0.99,
                 gamma1: float = 3.0,
                 gamma2: float = 3.0,
                 alpha: Union[float, str] = 5.0,
                 margin_shift_fraction: Optional[float] = None,
                 m_in: float = -12.0,
                 m_out: float = -6.0,
                 temperature: float = 1.0,
                 ood_index: int = OUTLIER_LABEL,
                 ignore_index: int = IGNORE_INDEX,
                 lambda_sparse: float = 5e-4,
                 lambda_smooth: float = 3e-6,
                 variant: str = 'released',
                 num_classes: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_balanced_energy') -> None:
        super().__init__(ood_index, ignore_index, loss_weight, loss_name)
        self.set_energy_arguments(m_in, m_out, temperature, lambda_sparse,
                                  lambda_smooth, variant, num_classes)
        self.online = prior == 'online'
        if self.online:
            if not 0.0 <= online_momentum < 1.0:
                raise ValueError('online_momentum must be in [0, 1), got '
                                 f'{online_momentum}.')
            prior = online_init
            if prior is None:
                if num_classes is None:
                    raise ValueError(
                        "prior='online' starting from a uniform prior needs "
                        'num_classes (the estimate is a checkpointed buffer '
                        'of C entries), or pass online_init.')
                prior = [1.0 / num_classes] * num_classes
        if isinstance(alpha, str) and alpha != 'scaled':
            raise ValueError(
                f"alpha must be a number or 'scaled', got {alpha!r}.")
        if alpha == 'scaled' and m_out <= m_in:
            raise ValueError(f"alpha='scaled' needs m_out ({m_out}) above "
                             f'm_in ({m_in}).')
        if margin_shift_fraction is not None and alpha != 'scaled':
            raise ValueError("margin_shift_fraction is only used with "
                             "alpha='scaled'.")
        if margin_shift_fraction is None:
            margin_shift_fraction = released_margin_shift_fraction()
        self.margin_shift_fraction = margin_shift_fraction
        self.online_momentum = online_momentum
        resolved = resolve_prior(prior, class_names)
        if (resolved is not None and num_classes is not None
                and len(resolved.values) != num_classes):
            raise ValueError(
                f'The prior from {resolved.source} has {len(resolved.values)} '
                f'entries but num_classes={num_classes}.')
        self.prior_source = None if resolved is None else resolved.source
        self.class_names = None if resolved is None else resolved.class_names
        # Not persistent: the prior is configuration, not a learned state, and
        # must not be overwritten by (or required in) checkpoints.
        values = None if resolved is None else torch.tensor(
            resolved.values, dtype=torch.float32)
        if self.online:
            # Persistent: the estimate is state, saved and resumed.
            self.register_buffer('online_prior', values)
            self.prior = None
        else:
            self.register_buffer('prior', values, persistent=False)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.alpha = alpha

    def loss_term(self, cls_score: Tensor, label: Tensor, ignore_index: int,
                  weight: Optional[Tensor] = None) -> Tensor:
        """The balanced energy loss (:func:`~._functional.
        balanced_energy_loss`); in training, the online prior then takes in
        this batch."""
        prior = self.online_prior if self.online else self.prior
        if prior is None:
            channels = self.num_classes or cls_score.shape[1]
            prior = cls_score.new_full((channels, ), 1.0 / channels,
                                       dtype=torch.float32)
        loss = balanced_energy_loss(
            cls_score, label, prior, gamma1=self.gamma1, gamma2=self.gamma2,
            alpha=self.effective_alpha(prior), m_in=self.m_in,
            m_out=self.m_out,
            temperature=self.temperature, ood_index=self.ood_index,
            ignore_index=ignore_index, lambda_sparse=self.lambda_sparse,
            lambda_smooth=self.lambda_smooth, variant=self.variant,
            num_classes=self.num_classes)
        if self.online and self.training:
            self.update_online_prior(cls_score, label)
        return loss

    def effective_alpha(self, prior: Tensor) -> float:
        """alpha as given, or from the ``'scaled'`` rule for ``prior``."""
        if self.alpha != 'scaled':
            return self.alpha
        return scaled_alpha(prior, self.gamma1, self.m_in, self.m_out,
                            self.margin_shift_fraction)

    @torch.no_grad()
    def update_online_prior(self, cls_score: Tensor, label: Tensor) -> None:
        """Fold this batch's outlier-pixel argmax histogram into the estimate.

        The counts are summed over all processes first, so every rank holds
        the same estimate and it equals the estimate of one process seeing
        the whole global batch. Batches without outlier pixels anywhere leave
        it unchanged.
        """
        counts = outlier_class_counts(cls_score, label, self.ood_index,
                                      self.online_prior.numel()).to(
                                          self.online_prior.device)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(counts)
        total = counts.sum()
        if total > 0:
            batch = (counts / total).to(self.online_prior.dtype)
            self.online_prior.mul_(self.online_momentum).add_(
                (1.0 - self.online_momentum) * batch)
