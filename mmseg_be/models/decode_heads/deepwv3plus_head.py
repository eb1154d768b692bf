"""The decoder of NVIDIA's ``DeepWV3Plus`` (the released network) as an MMSeg
decode head.

``DeepWV3Plus`` (NVIDIA semantic-segmentation, sdcnet branch; fine-tuned by
PEBAL and by the balanced energy paper) decodes a WiderResNet-A2 trunk at
output stride 8. It differs from MMSeg's ``DepthwiseSeparableASPPHead`` in
every block after the ASPP:

* ASPP on the stride-8 features (4096 channels): image pooling, a 1x1 branch
  and 3x3 branches dilated 12, 24 and 36, each conv + BN + ReLU, concatenated
  in that order (as MMSeg's ``ASPPHead``);
* ``bottleneck`` (released ``bot_aspp``): a plain 1x1 convolution, no
  normalisation, no activation, 1280 -> 256 channels;
* ``c1_bottleneck`` (released ``bot_fine``): a plain 1x1 convolution of the
  stride-2 features, 128 -> 48;
* the ASPP output is resized bilinearly (``align_corners=True``) to the
  stride-2 features and concatenated *after* them;
* ``final``: two 3x3 conv + BN + ReLU (304 -> 256 -> 256), then ``conv_seg``,
  a 1x1 convolution without bias and without dropout;
* the logits are resized to the input bilinearly with ``align_corners=True``
  (set ``align_corners=True`` in the config, as the model base does).

The released fine-tuning trains only the last block (``final`` and
``conv_seg``): ``frozen=True`` stops gradients everywhere else in the head.
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import ASPPHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ..abstention import AbstentionMixin, check_out_channels


@MODELS.register_module()
class DeepWV3PlusHead(ASPPHead):
    """DeepLabV3+ decoder of the released WideResNet38 network.

    Args:
        c1_in_channels: Channels of the stride-2 features (``inputs[0]``).
        c1_channels: Channels they are reduced to (48).
        dilations: ASPP dilations (1 is the 1x1 branch).
        frozen: ``True`` stops gradients to the ASPP and both 1x1
            reductions, leaving ``final`` and ``conv_seg`` trainable, as the
            released fine-tuning.
        **kwargs: The arguments of MMSeg's ``BaseDecodeHead`` (``in_channels``
            4096 and ``in_index`` of the stride-8 features, ``channels`` 256,
            ``dropout_ratio`` 0, ``align_corners`` True for the release).
    """

    def __init__(self,
                 c1_in_channels: int = 128,
                 c1_channels: int = 48,
                 dilations: Sequence[int] = (1, 12, 24, 36),
                 frozen: bool = False,
                 **kwargs) -> None:
        super().__init__(dilations=tuple(dilations), **kwargs)
        self.bottleneck = nn.Conv2d((len(dilations) + 1) * self.channels,
                                    self.channels, 1, bias=False)
        self.c1_bottleneck = nn.Conv2d(c1_in_channels, c1_channels, 1,
                                       bias=False)
        self.final = nn.Sequential(
            ConvModule(self.channels + c1_channels, self.channels, 3,
                       padding=1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg),
            ConvModule(self.channels, self.channels, 3, padding=1,
                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                       act_cfg=self.act_cfg))
        self.conv_seg = nn.Conv2d(self.channels, self.out_channels, 1,
                                  bias=False)
        self.frozen = frozen
        if frozen:
            for part in (self.image_pool, self.aspp_modules, self.bottleneck,
                         self.c1_bottleneck):
                for param in part.parameters():
                    param.requires_grad = False

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        aspp = self._forward_feature(inputs)
        fine = self.c1_bottleneck(inputs[0])
        aspp = resize(aspp, size=fine.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)
        return self.cls_seg(self.final(torch.cat([fine, aspp], dim=1)))


@MODELS.register_module()
class AbstentionDeepWV3PlusHead(AbstentionMixin, DeepWV3PlusHead):
    """:class:`DeepWV3PlusHead` with PEBAL's abstention channel: C+1 outputs
    for the losses (the released PEBAL and balanced energy checkpoints),
    C for prediction and scores.

    Args:
        num_classes: C, the in-distribution classes.
        **kwargs: The arguments of :class:`DeepWV3PlusHead`.
    """

    def __init__(self, num_classes: int, **kwargs) -> None:
        check_out_channels('AbstentionDeepWV3PlusHead', num_classes, kwargs)
        super().__init__(num_classes=num_classes, **kwargs)
        self.add_abstention_channel()
