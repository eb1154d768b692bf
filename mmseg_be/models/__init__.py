from . import abstention, losses  # noqa: F401
from .abstention import AbstentionASPPHead  # noqa: F401
