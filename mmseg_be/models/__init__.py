"""Models: OOD losses and the abstention head, registered in MMSeg's MODELS."""
from . import abstention, losses  # noqa: F401
from .abstention import AbstentionASPPHead  # noqa: F401
