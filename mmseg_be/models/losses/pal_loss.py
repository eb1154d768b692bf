"""PEBAL's pixel-wise abstention learning (PAL), released behaviour, as an
MMSeg loss module.

Reference: Tian, Liu, Pang, Chen, Wang, Belagiannis, Reid, Carneiro.
"Pixel-wise Energy-biased Abstention Learning for Anomaly Segmentation on
Complex Urban Driving Scenes", ECCV 2022; used beside the balanced energy loss
in the recipe of Choi et al., CVPR 2023. Formulas: docs/method.md and
:func:`~._functional.abstention_loss`.
"""
import math
from typing import Optional

from mmseg.registry import MODELS
from torch import Tensor

from ...constants import IGNORE_INDEX, OUTLIER_LABEL
from ...scoring import check_smoothing
from ._functional import abstention_loss
from .base import BaseOODLoss


@MODELS.register_module()
class PALLoss(BaseOODLoss):
    """PEBAL's pixel-wise abstention loss as released (see
    :func:`~._functional.abstention_loss`). The decode head must output C+1
    channels, the last one the abstention channel (e.g.
    ``AbstentionASPPHead``); energies and the reward use the first C.

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
                 ood_index: int = OUTLIER_LABEL,
                 ignore_index: int = IGNORE_INDEX,
                 blur_kernel_size: int = 7,
                 blur_sigma: float = 1.0,
                 ood_weight: float = 0.1,
                 clamp_min: float = 1e-7,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_pal') -> None:
        super().__init__(ood_index, ignore_index, loss_weight, loss_name)
        check_smoothing(blur_kernel_size, blur_sigma)
        if not (clamp_min > 0 and math.isfinite(clamp_min)):
            raise ValueError(f'clamp_min must be > 0, got {clamp_min}.')
        self.num_classes = num_classes
        self.blur_kernel_size = blur_kernel_size
        self.blur_sigma = blur_sigma
        self.ood_weight = ood_weight
        self.clamp_min = clamp_min

    def loss_term(self, cls_score: Tensor, label: Tensor, ignore_index: int,
                  weight: Optional[Tensor] = None) -> Tensor:
        """The PAL loss (:func:`~._functional.abstention_loss`)."""
        return abstention_loss(
            cls_score, label, num_classes=self.num_classes,
            ood_index=self.ood_index, ignore_index=ignore_index,
            blur_kernel_size=self.blur_kernel_size,
            blur_sigma=self.blur_sigma, ood_weight=self.ood_weight,
            clamp_min=self.clamp_min)
