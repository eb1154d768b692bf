"""A DeepLabV3+ decode head with PEBAL's extra abstention channel.

The head predicts C+1 channels: the C in-distribution classes and, last, the
abstention channel that :class:`~mmseg_be.models.losses.PALLoss` trains. To
the rest of MMSeg it is a C-class head: ``num_classes`` and ``out_channels``
stay C, the losses get all C+1 channels (tell them ``num_classes=C``), and
``predict_by_feat`` drops the abstention channel, so the segmentor's argmax,
``seg_logits`` and every anomaly score see only the C class logits (the
released inference scores the energy of the first C logits).
"""
from typing import List

import torch.nn as nn
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class AbstentionASPPHead(DepthwiseSeparableASPPHead):
    """``DepthwiseSeparableASPPHead`` whose classifier has one more output.

    Args:
        num_classes: C, the in-distribution classes; the classifier outputs
            C+1 channels.
        **kwargs: The arguments of ``DepthwiseSeparableASPPHead``.
    """

    def __init__(self, num_classes: int, **kwargs) -> None:
        if kwargs.get('out_channels', num_classes) != num_classes:
            raise ValueError(
                'AbstentionASPPHead sets its own output channels (C+1); '
                f'leave out_channels unset, got {kwargs["out_channels"]}.')
        super().__init__(num_classes=num_classes, **kwargs)
        # Replaced before init_weights runs, so MMSeg's conv_seg initialiser
        # (matched by name) applies to the C+1-channel classifier.
        self.conv_seg = nn.Conv2d(self.channels, num_classes + 1,
                                  kernel_size=1)

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
