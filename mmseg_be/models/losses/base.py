"""The base of the OOD loss modules: the arguments every one of them takes
and the one ``forward`` they share."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ._functional import VARIANTS


class BaseOODLoss(nn.Module):
    """Configuration shared by the OOD losses and their ``forward``:
    subclasses hold the rest of their arguments and implement
    :meth:`loss_term`, which calls one function of :mod:`._functional`
    (segmentation_models_pytorch's layout).

    Args:
        ood_index: Label of pasted outlier pixels. Default: 254
            (:data:`~mmseg_be.constants.OUTLIER_LABEL`).
        ignore_index: Label of void pixels; the value MMSeg's decode head
            passes to ``forward`` takes precedence. Default: 255
            (:data:`~mmseg_be.constants.IGNORE_INDEX`).
        loss_weight: Multiplier of the loss.
        loss_name: Name in MMSeg's loss dict; must start with ``loss_`` to be
            back-propagated.
    """

    #: Whether ``forward`` accepts the per-pixel ``weight`` that MMSeg's
    #: decode head passes when a pixel sampler is set.
    supports_pixel_weight = False

    def __init__(self,
                 ood_index: int = OUTLIER_LABEL,
                 ignore_index: int = IGNORE_INDEX,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ood') -> None:
        super().__init__()
        self.ood_index = ood_index
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def resolve_ignore_index(self, ignore_index: Optional[int],
                             weight: Optional[Tensor] = None) -> int:
        """The void label for one ``forward`` call, after checking ``weight``.

        Args:
            ignore_index: The value ``forward`` got; None uses the
                constructor's.
            weight: The per-pixel weight ``forward`` got.

        Returns:
            int: The void label to use.

        Raises:
            ValueError: If a per-pixel weight is given to a loss without
                per-pixel weighting (rather than ignoring it silently).
        """
        if weight is not None and not self.supports_pixel_weight:
            raise ValueError(
                f'{type(self).__name__} does not support per-pixel weights '
                'from a pixel sampler (decode_head.sampler); remove the '
                'sampler from the config.')
        return self.ignore_index if ignore_index is None else ignore_index

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Compute the weighted loss (MMSeg's decode heads call it so).

        Args:
            cls_score: ``(N, C, H, W)`` logits, or ``(N, C+1, H, W)`` with an
                abstention channel (give the loss ``num_classes=C``).
            label: ``(N, H, W)`` labels.
            weight: Per-pixel weights from a pixel sampler; only losses with
                ``supports_pixel_weight`` accept them.
            ignore_index: Void label; None uses the constructor's.
            **kwargs: Ignored (MMSeg passes extra keywords to some losses).

        Returns:
            Tensor: ``loss_weight`` times :meth:`loss_term`.
        """
        ignore = self.resolve_ignore_index(ignore_index, weight)
        return self.loss_weight * self.loss_term(cls_score, label, ignore,
                                                 weight)

    def loss_term(self, cls_score: Tensor, label: Tensor, ignore_index: int,
                  weight: Optional[Tensor] = None) -> Tensor:
        """The unweighted loss of a batch; each loss implements it.

        Args:
            cls_score: The logits ``forward`` got.
            label: The labels ``forward`` got.
            ignore_index: The void label of this call.
            weight: Per-pixel weights (None unless
                ``supports_pixel_weight``).
        """
        raise NotImplementedError

    @property
    def loss_name(self) -> str:
        """Name of the loss in MMSeg's loss dict."""
        return self._loss_name

    def set_energy_arguments(self, m_in: float, m_out: float,
                             temperature: float, lambda_sparse: float,
                             lambda_smooth: float, variant: str,
                             num_classes: Optional[int]) -> None:
        """Check and keep the arguments the two energy losses share (their
        meaning is in :func:`._functional.energy_loss`).

        Raises:
            ValueError: An unknown ``variant`` or ``temperature <= 0``.
        """
        if variant not in VARIANTS:
            raise ValueError(
                f'variant must be one of {VARIANTS}, got {variant!r}.')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}.')
        self.m_in = m_in
        self.m_out = m_out
        self.temperature = temperature
        self.lambda_sparse = lambda_sparse
        self.lambda_smooth = lambda_smooth
        self.variant = variant
        self.num_classes = num_classes
