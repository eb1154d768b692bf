"""What the tools call: anomaly inference on images and prior estimation."""
from .heat_maps import VisualizeReport, visualize_images
from .inferencer import AnomalyInferencer, AnomalyPrediction, collect_images
from .prior_estimation import (estimate_prior, forced_paste_pipeline,
                               missing_prior_files,
                               without_missing_prior_files, write_prior_json)

__all__ = ['AnomalyInferencer', 'AnomalyPrediction', 'collect_images',
           'visualize_images', 'VisualizeReport', 'estimate_prior', 'forced_paste_pipeline',
           'missing_prior_files', 'without_missing_prior_files', 'write_prior_json']
