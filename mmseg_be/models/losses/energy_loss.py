"""Vanilla energy regularization loss as an MMSeg loss module."""
from typing import Optional

from mmseg.registry import MODELS
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ._functional import energy_loss
from .base import BaseOODLoss


@MODELS.register_module()
class EnergyLoss(BaseOODLoss):
    """Energy regularization (Liu et al., NeurIPS 2020), PEBAL's segmentation
    form: ``0.5 * (L_in + L_out)`` plus, in the released variant, the
    sparsity and smoothness terms. Same conventions and defaults as
    :class:`BalancedEnergyLoss`; see :func:`~._functional.energy_loss`.

    Args:
        m_in: Inlier energy margin. Default: -12.
        m_out: Outlier energy margin. Default: -6.
        temperature: Energy temperature. Default: 1.
        ood_index: Label of pasted outlier pixels. Default: 254.
        ignore_index: Label of void pixels (``forward``'s value wins).
            Default: 255.
        lambda_sparse: Weight of the outlier-energy L2 norm. Default: 5e-4.
        lambda_smooth: Weight of the smoothness term. Default: 3e-6.
        variant: ``'released'`` or ``'pure'``. Default: ``'released'``.
        num_classes: C when the head has an extra abstention channel.
        loss_weight: Multiplier of the loss. Default: 0.1.
        loss_name: Name in the loss dict. Default: ``'loss_energy'``.
    """

    def __init__(self,
                 m_in: float = -12.0,
                 m_out: float = -6.0,
                 temperature: float = 1.0,
                 ood_index: int = OUTLIER_LABEL,
                 ignore_index: int = IGNORE_INDEX,
                 lambda_sparse: float = 5e-4,
                 lambda_smooth: float = 3e-6,
                 variant: str = 'released',
                 num_classes: Optional[int] = None,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_energy') -> None:
        super().__init__(ood_index, ignore_index, loss_weight, loss_name)
        self.set_energy_arguments(m_in, m_out, temperature, lambda_sparse,
                                  lambda_smooth, variant, num_classes)

    def loss_term(self, cls_score: Tensor, label: Tensor, ignore_index: int,
                  weight: Optional[Tensor] = None) -> Tensor:
        """The energy loss (:func:`~._functional.energy_loss`)."""
        return energy_loss(
            cls_score, label, m_in=self.m_in, m_out=self.m_out,
            temperature=self.temperature, ood_index=self.ood_index,
            ignore_index=ignore_index, lambda_sparse=self.lambda_sparse,
            lambda_smooth=self.lambda_smooth, variant=self.variant,
            num_classes=self.num_classes)
