"""Data transforms, registered in MMSeg's TRANSFORMS."""
from .loading import LoadImageStoredOrientation, LoadOODAnnotations
from .paste_outliers import RELEASED_PASTE_PROB, PasteOutliers

__all__ = [
    'LoadImageStoredOrientation', 'LoadOODAnnotations', 'PasteOutliers',
    'RELEASED_PASTE_PROB'
]
