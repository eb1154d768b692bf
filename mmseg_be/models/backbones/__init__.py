"""Backbones the paper's network needs that MMSeg lacks."""
from .wider_resnet import WiderResNetA2

__all__ = ['WiderResNetA2']
