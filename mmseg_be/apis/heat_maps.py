"""Heat maps of many image files in one run (``tools/visualize.py``): a
shared colour range if asked, and images that fail are skipped and listed
rather than ending the run. The files are written by
:meth:`AnomalyInferencer.__call__` (``on_error='skip'``), the API's one write
loop."""
import logging
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from mmseg_be.visualization.colormap import score_range
from .inferencer import AnomalyInferencer

NORMALIZATIONS = ('image', 'dataset', 'fixed')


@dataclass
class VisualizeReport:
    """What a visualization run wrote and what it skipped."""
    written: List[str] = field(default_factory=list)
    score_files: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    value_range: Optional[Tuple[float, float]] = None


def visualize_images(inferencer: AnomalyInferencer,
                     images: Sequence[str],
                     out_dir: str,
                     norm: str = 'image',
                     vmin: Optional[float] = None,
                     vmax: Optional[float] = None,
                     percentiles: Tuple[float, float] = (1.0, 99.0),
                     cmap: str = 'inferno',
                     draw_seg: bool = False,
                     save_scores: bool = False,
                     progress: bool = True,
                     upscale: int = 1,
                     min_height: int = 0,
                     columns: int = 0,
                     titles: bool = True) -> VisualizeReport:
    """Write one heat-map PNG per image file (and the raw scores as .npy):
    ``tools/visualize.py``.

    An image that fails (cannot be read, NaN or infinite scores) is skipped
    and listed, and the colour range can be shared by all images.

    Args:
        inferencer: The model, score setting and threshold.
        images: Image files.
        out_dir: Output folder (``{stem}.png``, ``{stem}.npy``).
        norm: ``'image'`` (each image to its own percentiles), ``'dataset'``
            (one range for all images: the lowest lower and highest upper
            per-image percentile; needs a first pass over all images) or
            ``'fixed'`` (``vmin``/``vmax``).
        vmin: Fixed range start (``norm='fixed'``).
        vmax: Fixed range end (``norm='fixed'``).
        percentiles: Per-image percentiles for ``'image'`` and ``'dataset'``.
        cmap: Colormap name.
        draw_seg: Add the predicted segmentation panel.
        save_scores: Also save the raw float32 score maps.
        progress: Show a tqdm progress bar.
        upscale: Integer factor enlarging the panels.
        min_height: Enlarge small images to at least this panel height.
        columns: Panels per row (0: one row).
        titles: Write panel titles.

    Returns:
        VisualizeReport: Written files and skipped images with the reason.
    """
    if norm not in NORMALIZATIONS:
        raise ValueError(f'Unknown normalization {norm!r}; use one of '
                         f'{NORMALIZATIONS}.')
    if norm == 'fixed' and (vmin is None or vmax is None or vmax <= vmin):
        raise ValueError(f'norm="fixed" needs vmin < vmax, got vmin={vmin}, '
                         f'vmax={vmax}.')
    os.makedirs(out_dir, exist_ok=True)
    report = VisualizeReport()
    if norm == 'dataset':
        # Pass 1 keeps only each image's range; maps are recomputed in pass 2
        # so memory stays at one image. An image failing here fails again
        # in pass 2, which lists it.
        ranges = [score_range(prediction.scores, percentiles)
                  for prediction in inferencer.predict(
                      images, progress=progress, skipped=[])]
        if ranges:
            report.value_range = (min(r[0] for r in ranges),
                                  max(r[1] for r in ranges))
    elif norm == 'fixed':
        report.value_range = (vmin, vmax)
    out = inferencer(
        list(images), out_dir=out_dir, save_scores=save_scores,
        progress=progress, on_error='skip', value_range=report.value_range,
        percentiles=percentiles, cmap=cmap, draw_seg=draw_seg,
        upscale=upscale, min_height=min_height, columns=columns,
        titles=titles)
    report.written = [f for f in out['files'] if f.endswith('.png')]
    report.score_files = [f for f in out['files'] if f.endswith('.npy')]
    report.failed = list(out['skipped'])
    for path, reason in report.failed:
        print_log(f'Skipped {path}: {reason}', logger='current',
                  level=logging.WARNING)
    return report
