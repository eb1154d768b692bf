"""WiderResNet-A2: the WideResNet38 trunk of NVIDIA's Cityscapes DeepLabV3+.

The paper (Choi et al., CVPR 2023), PEBAL (Tian et al., ECCV 2022),
Meta-OoD and their follow-ups all fine-tune NVIDIA's ``DeepWV3Plus``
(semantic-segmentation, sdcnet branch), whose trunk is the "A2" variant of
Mapillary's wider ResNet with pre-activation (identity-mapping) residual
blocks (Rota Bulo et al., In-Place Activated BatchNorm, CVPR 2018;
Wu et al., Wider or Deeper, 2016).

Structure (depth 38 = blocks [3, 3, 6, 3, 1, 1]):

======  =======================  ========  ========  ======
stage   block channels           stride    dilation  out
======  =======================  ========  ========  ======
stem    conv 3x3, 64             1         1         64
mod2    [128, 128] x 3           2 (pool)  1         128
mod3    [256, 256] x 3           4 (pool)  1         256
mod4    [512, 512] x 6           8         1         512
mod5    [512, 1024] x 3          8         2         1024
mod6    [512, 1024, 2048] x 1    8         4         2048
mod7    [1024, 2048, 4096] x 1   8         4         4096
======  =======================  ========  ========  ======

``pool2`` and ``pool3`` are 3x3 max-poolings with stride 2 before mod2 and
mod3; the first block of mod4 has stride 2. Blocks of two channel numbers are
two 3x3 convolutions, of three a 1x1-3x3-1x1 bottleneck. Each block normalises
and activates its input once (``norm1``) and feeds that to both its
convolutions and, where the shape changes, to a 1x1 projection shortcut.
mod6 and mod7 carry channel dropout (``Dropout2d``, p = 0.3 and 0.5) before
their last convolution, active in training mode as in the release.
``DeepWV3Plus`` uses the trunk without its final normalisation (``bn_out``)
and classifier, as this backbone does.
"""
from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

# Blocks per stage (mod2..mod7) of the released depths.
STAGE_BLOCKS = {
    16: (1, 1, 1, 1, 1, 1),
    20: (1, 1, 1, 3, 1, 1),
    38: (3, 3, 6, 3, 1, 1),
}
# Block channels per stage (mod2..mod7).
STAGE_CHANNELS = ((128, 128), (256, 256), (512, 512), (512, 1024),
                  (512, 1024, 2048), (1024, 2048, 4096))
# The dilated ("dilation=True") variant: output stride 8.
DILATED_STRIDES = (1, 1, 2, 1, 1, 1)
DILATED_DILATIONS = (1, 1, 1, 2, 4, 4)
DROPOUT = (0.0, 0.0, 0.0, 0.0, 0.3, 0.5)


class PreActBlock(nn.Module):
    """Identity-mapping residual block: ``x + convs(relu(norm(x)))``.

    Args:
        in_channels: Input channels.
        channels: Output channels of each convolution: two values for two
            3x3 convolutions, three for a 1x1-3x3-1x1 bottleneck.
        stride: Stride of the first convolution (and of the projection).
        dilation: Dilation (and padding) of the 3x3 convolutions.
        dropout: Probability of ``Dropout2d`` before the last convolution
            (0 for none).
        norm_cfg: Normalisation layers' config.
    """

    def __init__(self, in_channels: int, channels: Sequence[int],
                 stride: int = 1, dilation: int = 1, dropout: float = 0.0,
                 norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        if len(channels) not in (2, 3):
            raise ValueError(f'a block has two or three convolutions, got '
                             f'channels={tuple(channels)}')
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        bottleneck = len(channels) == 3
        kernels = (1, 3, 1) if bottleneck else (3, 3)
        widths = (in_channels, ) + tuple(channels)
        self.num_convs = len(channels)
        for i, kernel in enumerate(kernels):
            is_3x3 = kernel == 3
            self.add_module(
                f'norm{i + 1}', build_norm_layer(norm_cfg, widths[i])[1])
            self.add_module(
                f'conv{i + 1}',
                nn.Conv2d(widths[i], widths[i + 1], kernel,
                          stride=stride if i == 0 else 1,
                          padding=dilation if is_3x3 else 0,
                          dilation=dilation if is_3x3 else 1, bias=False))
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else None
        self.relu = nn.ReLU(inplace=False)
        self.proj_conv = None
        if stride != 1 or in_channels != channels[-1]:
            self.proj_conv = nn.Conv2d(in_channels, channels[-1], 1,
                                       stride=stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(x))
        shortcut = x if self.proj_conv is None else self.proj_conv(out)
        for i in range(1, self.num_convs + 1):
            if i > 1:
                out = self.relu(getattr(self, f'norm{i}')(out))
                if i == self.num_convs and self.dropout is not None:
                    out = self.dropout(out)
            out = getattr(self, f'conv{i}')(out)
        return out + shortcut


@MODELS.register_module()
class WiderResNetA2(BaseModule):
    """WiderResNet-A2 backbone (dilated: output stride 8).

    Args:
        depth: 38 (the released trunk), 20 or 16.
        out_indices: Stages whose outputs are returned: 0 the stem, 1..6
            mod2..mod7. ``DeepWV3Plus`` reads mod2 (stride 2, 128 channels)
            and mod7 (stride 8, 4096 channels): ``(1, 6)``.
        dilated: ``True`` for the segmentation variant (mod4 strided, mod5-7
            dilated 2, 4, 4; output stride 8); ``False`` for plain
            downsampling (output stride 32).
        dropout: Whether mod6 and mod7 carry their ``Dropout2d`` layers.
        frozen: ``True`` stops gradients to every parameter
            (``requires_grad=False``), as the released fine-tuning does; the
            batch-norm statistics still update in training mode, as there.
        norm_cfg: Normalisation layers' config.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 depth: int = 38,
                 out_indices: Sequence[int] = (1, 6),
                 dilated: bool = True,
                 dropout: bool = True,
                 frozen: bool = False,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in STAGE_BLOCKS:
            raise ValueError(f'WiderResNetA2 depth must be one of '
                             f'{sorted(STAGE_BLOCKS)}, got {depth}')
        if not out_indices or not all(0 <= i <= 6 for i in out_indices):
            raise ValueError(f'out_indices must be in 0..6 (stem, mod2..'
                             f'mod7), got {tuple(out_indices)}')
        self.out_indices = tuple(out_indices)
        self.frozen = frozen
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        self.stem = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.pool2 = nn.MaxPool2d(3, stride=2, padding=1)
        self.pool3 = nn.MaxPool2d(3, stride=2, padding=1)
        in_channels = 64
        for stage, num_blocks in enumerate(STAGE_BLOCKS[depth]):
            if dilated:
                stride, dilation = (DILATED_STRIDES[stage],
                                    DILATED_DILATIONS[stage])
            else:
                stride, dilation = (2 if 2 <= stage <= 4 else 1), 1
            blocks = []
            for b in range(num_blocks):
                blocks.append(PreActBlock(
                    in_channels, STAGE_CHANNELS[stage],
                    stride=stride if b == 0 else 1, dilation=dilation,
                    dropout=DROPOUT[stage] if dropout else 0.0,
                    norm_cfg=norm_cfg))
                in_channels = STAGE_CHANNELS[stage][-1]
            self.add_module(f'mod{stage + 2}', nn.Sequential(*blocks))
        if frozen:
            for param in self.parameters():
                param.requires_grad = False

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        x = self.stem(x)
        for stage in range(7):
            if stage > 0:
                pool = getattr(self, f'pool{stage + 1}', None)
                if pool is not None:
                    x = pool(x)
                x = getattr(self, f'mod{stage + 1}')(x)
            if stage in self.out_indices:
                outs.append(x)
        return tuple(outs)
