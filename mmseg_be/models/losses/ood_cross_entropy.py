"""Cross-entropy that skips pasted outlier pixels, as an MMSeg loss module."""
from typing import Optional, Sequence

import torch
from mmseg.registry import MODELS
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ._functional import ood_cross_entropy
from .base import BaseOODLoss


@MODELS.register_module()
class OODCrossEntropyLoss(BaseOODLoss):
    """Cross-entropy for heads trained on images with pasted outliers.

    MMSeg's ``CrossEntropyLoss`` sees a pixel labelled ``ood_index`` (254) as
    an out-of-range class. This loss treats it as ignored and averages over
    the remaining non-void pixels (MMSeg's ``avg_non_ignore=True``); a batch
    with no such pixel gives 0, not NaN. Use it for the decode head and the
    auxiliary head. Formula: :func:`~._functional.ood_cross_entropy`.

    Args:
        ood_index: Label of pasted outlier pixels. Default: 254.
        ignore_index: Label of void pixels (``forward``'s value wins).
            Default: 255.
        class_weight: Optional C class weights; the mean is then weighted.
        num_classes: C when the head has an extra abstention channel.
        loss_weight: Multiplier of the loss. Default: 1.0.
        loss_name: Name in the loss dict. Default: ``'loss_ce'``.
    """

    supports_pixel_weight = True

    def __init__(self,
                 ood_index: int = OUTLIER_LABEL,
                 ignore_index: int = IGNORE_INDEX,
                 class_weight: Optional[Sequence[float]] = None,
                 num_classes: Optional[int] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__(ood_index, ignore_index, loss_weight, loss_name)
        self.register_buffer(
            'class_weight',
            None if class_weight is None else torch.tensor(
                [float(w) for w in class_weight], dtype=torch.float32),
            persistent=False)
        self.num_classes = num_classes

    def loss_term(self, cls_score: Tensor, label: Tensor, ignore_index: int,
                  weight: Optional[Tensor] = None) -> Tensor:
        """The mean cross-entropy (:func:`~._functional.ood_cross_entropy`),
        weighted by ``weight`` per pixel if a sampler gives it."""
        num_classes = self.num_classes or cls_score.shape[1]
        if (self.class_weight is not None
                and self.class_weight.numel() != num_classes):
            raise ValueError(
                f'class_weight has {self.class_weight.numel()} entries but '
                f'the logits have {num_classes} classes.')
        return ood_cross_entropy(
            cls_score, label, ood_index=self.ood_index,
            ignore_index=ignore_index, class_weight=self.class_weight,
            pixel_weight=weight, num_classes=self.num_classes)
