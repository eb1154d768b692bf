"""Pixel-level OOD evaluation: exact streaming metrics, SMIYC binned and
component metrics, and the MMSeg ``PixelOODMetric``."""
from .binned import SMIYCBinnedAccumulator
from .component_metric import (ComponentMetricAccumulator, F1_THRESHOLDS,
                               TRACK_SIZES, segment_components)
from .functional import PixelOODAccumulator, split_valid
from .pixel_ood_metric import PixelOODMetric

__all__ = [
    'ComponentMetricAccumulator', 'F1_THRESHOLDS', 'PixelOODAccumulator',
    'PixelOODMetric', 'SMIYCBinnedAccumulator', 'TRACK_SIZES',
    'segment_components', 'split_valid'
]
