"""Models: OOD losses, the abstention heads and the released WideResNet38
DeepLabV3+ (backbone and decode head), registered in MMSeg's MODELS."""
from . import abstention, backbones, decode_heads, losses  # noqa: F401
from .abstention import AbstentionASPPHead  # noqa: F401
from .backbones import WiderResNetA2  # noqa: F401
from .decode_heads import (AbstentionDeepWV3PlusHead,  # noqa: F401
                           DeepWV3PlusHead)
