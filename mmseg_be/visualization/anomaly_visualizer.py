"""An MMSeg visualizer that draws anomaly heat maps.

Select it in a config (``tools/test.py --show-dir`` does so for you)::

    visualizer = dict(type='AnomalyVisualizer',
                      vis_backends=[dict(type='LocalVisBackend')])

The score drawn is the config's ``anomaly_score`` (handed over by
:class:`~mmseg_be.engine.AnomalyScoreHook`), the one the metric evaluates.

Each test image becomes one picture, left to right: the input, the heat map
of the anomaly score over it (with the ground-truth anomaly outline when the
labels have one), optionally the predicted in-distribution segmentation, and
a colour bar.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.utils import get_palette
from mmseg.visualization import SegLocalVisualizer

from mmseg_be.export.scores import scores_from_sample
from mmseg_be.scoring import AnomalyScoreUser
from .colormap import (apply_colormap, draw_colorbar, draw_outline, overlay,
                       score_range, stack_panels)


def anomaly_panels(image: np.ndarray,
                   scores: np.ndarray,
                   vmin: float,
                   vmax: float,
                   cmap: str = 'inferno',
                   heat_alpha: float = 0.6,
                   gt_mask: Optional[np.ndarray] = None,
                   seg_color: Optional[np.ndarray] = None,
                   colorbar_width: int = 64,
                   outline_color: Sequence[int] = (0, 255, 0)) -> np.ndarray:
    """Compose the picture of one image (a pure function).

    Args:
        image: ``(H, W, 3)`` uint8 RGB input.
        scores: ``(H, W)`` anomaly scores.
        vmin: Score of the lowest colour.
        vmax: Score of the highest colour.
        cmap: Colormap name.
        heat_alpha: Weight of the heat map over the image.
        gt_mask: Optional ``(H, W)`` boolean ground-truth anomaly mask; its
            outline is drawn over the heat map.
        seg_color: Optional ``(H, W, 3)`` uint8 painted segmentation.
        colorbar_width: Width of the colour bar in pixels (0: none).
        outline_color: RGB colour of the ground-truth outline.

    Returns:
        np.ndarray: ``(H, W_total, 3)`` uint8 RGB picture with
        ``W_total = n * W + colorbar_width + 2 * n`` for ``n`` image panels
        (2-pixel gaps).
    """
    if scores.shape != image.shape[:2]:
        raise ValueError(f'Scores {scores.shape} and image {image.shape[:2]} '
                         f'differ in size.')
    heat = overlay(image, apply_colormap(scores, vmin, vmax, cmap),
                   heat_alpha)
    if gt_mask is not None and gt_mask.any():
        heat = draw_outline(heat, gt_mask, outline_color)
    panels = [image, heat]
    if seg_color is not None:
        panels.append(seg_color)
    if colorbar_width > 0:
        panels.append(
            draw_colorbar(image.shape[0], vmin, vmax, cmap, colorbar_width))
    return stack_panels(panels)


def paint_segmentation(image: np.ndarray, seg: np.ndarray,
                       palette: Sequence[Sequence[int]],
                       alpha: float = 0.6) -> np.ndarray:
    """Blend class colours over an image; ids without a colour stay as is.

    Args:
        image: ``(H, W, 3)`` uint8 RGB image.
        seg: ``(H, W)`` integer class ids.
        palette: RGB colour per class id.
        alpha: Weight of the class colours.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB picture.
    """
    table = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    known = (seg >= 0) & (seg < len(table))
    color = image.copy()
    color[known] = table[seg[known]]
    return overlay(image, color, alpha)


@VISUALIZERS.register_module()
class AnomalyVisualizer(SegLocalVisualizer, AnomalyScoreUser):
    """Draw anomaly heat maps of test outputs (``seg_logits`` required).

    Args:
        name: Instance name (mmengine keeps one visualizer per name).
        anomaly_score: The score setting (see
            :func:`mmseg_be.scoring.anomaly_score_settings`); normally left
            None and taken from the config's ``anomaly_score`` by
            :class:`~mmseg_be.engine.AnomalyScoreHook`.
        score: Legacy: the score name (use ``anomaly_score``).
        score_cfg: Legacy: extra score arguments (use ``anomaly_score``).
        vmin: Score of the lowest colour; with ``vmax`` a fixed range shared
            by all images. If either is None, each image is normalised to
            the ``percentiles`` of its own scores.
        vmax: Score of the highest colour.
        percentiles: Per-image range when no fixed range is given.
        cmap: Colormap (``'inferno'``, ``'viridis'``, ...).
        heat_alpha: Weight of the heat map over the image.
        anomaly_label: Label id outlined as ground-truth anomaly. None looks
            for a class named ``'anomaly'`` in the dataset meta (the OOD
            benchmark datasets) and draws no outline if there is none.
        draw_seg: Add a panel with the predicted in-distribution classes.
        seg_palette: Colours of the predicted classes; None takes the
            dataset's palette, or Cityscapes' on an inlier/anomaly dataset.
        colorbar_width: Width of the colour bar in pixels.
        **kwargs: Arguments of :class:`SegLocalVisualizer`
            (``vis_backends``, ``save_dir``, ``classes``, ``palette``,
            ``alpha``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 anomaly_score: Optional[Dict] = None,
                 score: Optional[str] = None,
                 score_cfg: Optional[Dict] = None,
                 vmin: Optional[float] = None,
                 vmax: Optional[float] = None,
                 percentiles: Tuple[float, float] = (1.0, 99.0),
                 cmap: str = 'inferno',
                 heat_alpha: float = 0.6,
                 anomaly_label: Optional[int] = None,
                 draw_seg: bool = False,
                 seg_palette: Optional[List[List[int]]] = None,
                 colorbar_width: int = 64,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self._init_anomaly_score(anomaly_score, score=score,
                                 **dict(score_cfg or {}))
        self.vmin = vmin
        self.vmax = vmax
        self.percentiles = tuple(percentiles)
        self.cmap = cmap
        self.heat_alpha = heat_alpha
        self.anomaly_label = anomaly_label
        self.draw_seg = draw_seg
        self.seg_palette = seg_palette
        self.colorbar_width = colorbar_width

    def _anomaly_id(self) -> Optional[int]:
        if self.anomaly_label is not None:
            return self.anomaly_label
        classes = list(self.dataset_meta.get('classes') or ())
        return classes.index('anomaly') if 'anomaly' in classes else None

    def _palette(self) -> Sequence[Sequence[int]]:
        if self.seg_palette is not None:
            return self.seg_palette
        classes = list(self.dataset_meta.get('classes') or ())
        if 'anomaly' in classes:
            # The model predicts its training classes, not inlier/anomaly.
            return get_palette('cityscapes')
        return self.dataset_meta.get('palette') or get_palette('cityscapes')

    def draw_anomaly(self, image: np.ndarray, data_sample,
                     draw_gt: bool = True) -> np.ndarray:
        """The picture of one test output (also set as the current image).

        Args:
            image: ``(H, W, 3)`` uint8 RGB input at the original size.
            data_sample: Test output with ``seg_logits`` (and optionally
                ``gt_sem_seg`` and ``pred_sem_seg``).
            draw_gt: Outline the ground-truth anomalies if labelled.

        Returns:
            np.ndarray: The composed RGB picture.
        """
        scores = scores_from_sample(data_sample, self.anomaly_score)
        if scores.shape != image.shape[:2]:
            raise ValueError(
                f'Scores {scores.shape} and image {image.shape[:2]} differ in '
                f'size; the visualizer needs logits at the original size.')
        if self.vmin is not None and self.vmax is not None:
            vmin, vmax = self.vmin, self.vmax
        else:
            vmin, vmax = score_range(scores, self.percentiles)
        gt_mask = None
        anomaly_id = self._anomaly_id()
        if draw_gt and anomaly_id is not None and 'gt_sem_seg' in data_sample:
            gt = data_sample.gt_sem_seg.data.cpu().numpy()[0]
            if gt.shape == scores.shape:
                gt_mask = gt == anomaly_id
        seg_color = None
        if self.draw_seg and 'pred_sem_seg' in data_sample:
            seg = data_sample.pred_sem_seg.data.cpu().numpy()[0]
            seg_color = paint_segmentation(image, seg.astype(np.int64),
                                           self._palette())
        drawn = anomaly_panels(image, scores, vmin, vmax, self.cmap,
                               self.heat_alpha, gt_mask, seg_color,
                               self.colorbar_width)
        self.set_image(drawn)
        return drawn

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw one test output and save it to every backend (or show it).

        Outputs without ``seg_logits`` fall back to MMSeg's drawing.
        """
        if data_sample is None or 'seg_logits' not in data_sample:
            super().add_datasample(name, image, data_sample, draw_gt,
                                   draw_pred, show, wait_time, out_file, step,
                                   with_labels)
            return
        drawn = self.draw_anomaly(image, data_sample, draw_gt)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
