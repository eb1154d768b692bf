"""Decode heads the paper's network needs that MMSeg lacks."""
from .deepwv3plus_head import AbstentionDeepWV3PlusHead, DeepWV3PlusHead

__all__ = ['AbstentionDeepWV3PlusHead', 'DeepWV3PlusHead']
