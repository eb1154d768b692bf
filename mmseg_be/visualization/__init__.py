"""Anomaly heat maps, ROC/PR figures and metrics summaries.

Importing this package registers :class:`AnomalyVisualizer` in MMSeg's
VISUALIZERS registry.
"""
from .anomaly_visualizer import (AnomalyVisualizer, anomaly_panels,
                                 paint_final_prediction, paint_segmentation)
from .colormap import (COLORMAPS, apply_colormap, colormap_lut, draw_colorbar,
                       draw_outline, nice_ticks, normalize_scores, overlay,
                       render_text, score_range, stack_panels)
from .prediction import (final_prediction, resolve_threshold,
                         threshold_from_curves)
from .figures import curve_from_result, plot_roc_pr, write_figures
from .summary import to_markdown, write_summary

__all__ = [
    'AnomalyVisualizer', 'anomaly_panels', 'paint_final_prediction',
    'paint_segmentation', 'COLORMAPS', 'apply_colormap', 'colormap_lut',
    'draw_colorbar', 'draw_outline', 'nice_ticks', 'normalize_scores',
    'overlay', 'render_text', 'score_range', 'stack_panels',
    'final_prediction', 'resolve_threshold', 'threshold_from_curves',
    'curve_from_result', 'plot_roc_pr', 'write_figures', 'to_markdown',
    'write_summary'
]
