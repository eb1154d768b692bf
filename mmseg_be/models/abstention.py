"""Decode heads with PEBAL's extra abstention channel.

Such a head predicts C+1 channels: the C in-distribution classes and, last,
the abstention channel that :class:`~mmseg_be.models.losses.PALLoss` trains.
To the rest of MMSeg it is a C-class head: ``num_classes`` and
``out_channels`` stay C, the losses get all C+1 channels (tell them
``num_classes=C``), and ``predict_by_feat`` drops the abstention channel, so
the segmentor's argmax, ``seg_logits`` and every anomaly score see only the C
class logits (the released inference scores the energy of the first C
logits).

:class:`AbstentionMixin` adds that behaviour to any MMSeg decode head whose
classifier is ``conv_seg``; :class:`AbstentionASPPHead` (MMSeg's DeepLabV3+
head) and :class:`~mmseg_be.models.decode_heads.AbstentionDeepWV3PlusHead`
(the released network's head) use it.
"""
from typing import List

import torch.nn as nn
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead
from mmseg.registry import MODELS
from torch import Tensor


def check_out_channels(head_type: str, num_classes: int, kwargs: dict
                       ) -> None:
    """An abstention head sets its own output channels: refuse another
    ``out_channels``."""
    if kwargs.get('out_channels', num_classes) != num_classes:
        raise ValueError(
            f'{head_type} sets its own output channels (C+1); leave '
            f'out_channels unset, got {kwargs["out_channels"]}.')


class AbstentionMixin:
    """Gives a decode head a C+1-channel classifier and a C-channel
    prediction. Call :meth:`add_abstention_channel` at the end of
    ``__init__`` (before ``init_weights`` runs, so MMSeg's ``conv_seg``
    initialiser, matched by name, applies to the new classifier)."""

    def add_abstention_channel(self) -> None:
        """Replace ``conv_seg`` by the same convolution with one more
        output."""
        old = self.conv_seg
        self.conv_seg = nn.Conv2d(old.in_channels, self.num_classes + 1,
                                  kernel_size=1, bias=old.bias is not None)

    @property
    def abstention_channel(self) -> int:
        """Index of the abstention channel in the raw head output."""
        return self.num_classes

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize the class logits to the input size, without the abstention
        channel.

        Args:
            seg_logits: ``(N, C+1, h, w)`` raw head output.
            batch_img_metas: Meta information of each image.

        Returns:
            Tensor: ``(N, C, H, W)`` class logits.
        """
        return super().predict_by_feat(
            seg_logits[:, :self.abstention_channel], batch_img_metas)


@MODELS.register_module()
class AbstentionASPPHead(AbstentionMixin, DepthwiseSeparableASPPHead):
    """``DepthwiseSeparableASPPHead`` whose classifier has one more output.

    Args:
        num_classes: C, the in-distribution classes; the classifier outputs
            C+1 channels.
        **kwargs: The arguments of ``DepthwiseSeparableASPPHead``.
    """

    def __init__(self, num_classes: int, **kwargs) -> None:
        check_out_channels('AbstentionASPPHead', num_classes, kwargs)
        super().__init__(num_classes=num_classes, **kwargs)
        self.add_abstention_channel()
