"""Pixel-level OOD evaluation: exact streaming metrics, SMIYC binned and
component metrics, and the MMSeg ``PixelOODMetric``."""
from .binned_accumulator import SMIYCBinnedAccumulator
from .component_accumulator import (ComponentMetricAccumulator, F1_THRESHOLDS,
                               TRACK_SIZES, segment_components)
from .pixel_accumulator import PixelOODAccumulator
from .pixel_ood_metric import PixelOODMetric
from .valid_pixels import split_valid

__all__ = [
    'ComponentMetricAccumulator', 'F1_THRESHOLDS', 'PixelOODAccumulator',
    'PixelOODMetric', 'SMIYCBinnedAccumulator', 'TRACK_SIZES',
    'segment_components', 'split_valid'
]
