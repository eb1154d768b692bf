"""An MMSeg visualizer that draws anomaly heat maps.

Select it in a config (``tools/test.py --show-dir`` does so for you)::

    visualizer = dict(type='AnomalyVisualizer',
                      vis_backends=[dict(type='LocalVisBackend')])

The score drawn is the config's ``anomaly_score`` (handed over by
:class:`~mmseg_be.engine.AnomalyScoreHook`), the one the metric evaluates.

Each test image becomes one picture of titled panels: the input, the heat
map of the anomaly score over it (with the ground-truth anomaly outline when
the labels have one), optionally the prediction (the in-distribution
segmentation, or the final prediction with the anomaly class where the score
passes ``anomaly_threshold``), the ground truth when labelled, and a colour
bar.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.utils import get_palette
from mmseg.visualization import SegLocalVisualizer

from mmseg_be.constants import IGNORE_INDEX
from mmseg_be.scoring import AnomalyScoreUser, scores_from_sample
from .colormap import (apply_colormap, draw_colorbar, draw_legend,
                       draw_outline, overlay, render_text, score_range,
                       stack_panels)
from .prediction import final_prediction, paint_labels, resolve_threshold


#: Colour of anomalous pixels in the final prediction and ground truth.
ANOMALY_COLOR = (255, 255, 255)
#: Colour of ignored pixels in the ground-truth panel.
IGNORE_COLOR = (90, 90, 90)


def _upscaled(picture: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return picture
    # Nearest neighbour: every score pixel stays a block of one colour.
    return cv2.resize(picture, None, fx=factor, fy=factor,
                      interpolation=cv2.INTER_NEAREST)


def upscale_factor(height: int, min_height: int) -> int:
    """The integer factor that brings ``height`` to at least ``min_height``
    (1 when it is already that tall)."""
    return max(1, -(-int(min_height) // max(1, int(height))))


def anomaly_panels(image: np.ndarray,
                   scores: np.ndarray,
                   vmin: float,
                   vmax: float,
                   cmap: str = 'inferno',
                   heat_alpha: float = 0.6,
                   gt_mask: Optional[np.ndarray] = None,
                   seg_color: Optional[np.ndarray] = None,
                   colorbar_width: int = 64,
                   outline_color: Sequence[int] = (0, 255, 0),
                   *,
                   ignore_mask: Optional[np.ndarray] = None,
                   titles: bool = True,
                   score_title: str = 'anomaly score',
                   seg_title: str = 'prediction',
                   gt_panel: bool = True,
                   upscale: int = 1,
                   columns: int = 0,
                   legend: Optional[Sequence[Tuple[str, Sequence[int]]]] = None
                   ) -> np.ndarray:
    """Compose the picture of one image (a pure function).

    Panels: the input; the anomaly score as a heat map over it (with the
    ground-truth anomaly outlined); the (final) prediction if given; the
    ground truth (anomaly white, ignored pixels grey) if given; and a colour
    bar. Each panel has a title above it when ``titles`` is set.

    Args:
        image: ``(H, W, 3)`` uint8 RGB input.
        scores: ``(H, W)`` anomaly scores.
        vmin: Score of the lowest colour.
        vmax: Score of the highest colour.
        cmap: Colormap name.
        heat_alpha: Weight of the heat map over the image.
        gt_mask: Optional ``(H, W)`` boolean ground-truth anomaly mask; its
            outline is drawn over the heat map.
        seg_color: Optional ``(H, W, 3)`` uint8 painted (final) prediction.
        colorbar_width: Width of the colour bar in pixels (0: none).
        outline_color: RGB colour of the ground-truth outline.
        ignore_mask: Optional ``(H, W)`` boolean mask of unlabelled pixels
            (grey in the ground-truth panel).
        titles: Write a title above each panel.
        score_title: Title of the heat-map panel.
        seg_title: Title of the prediction panel.
        gt_panel: Add the ground-truth panel when ``gt_mask`` is given.
        upscale: Integer factor enlarging every panel (nearest neighbour,
            so each score pixel stays one block of colour).
        columns: Panels per row (0: all in one row); the colour bar stands
            right of the grid.
        legend: Optional (name, RGB colour) per class of the prediction
            panel, drawn as a row of swatches under the picture.

    Returns:
        np.ndarray: uint8 RGB picture. Without titles, in one row:
        ``(k * H, n * k * W + colorbar_width + 2 * n, 3)`` for ``n`` image
        panels and ``k = upscale`` (2-pixel gaps).
    """
    if scores.shape != image.shape[:2]:
        raise ValueError(f'Scores {scores.shape} and image {image.shape[:2]} '
                         f'differ in size.')
    if int(upscale) < 1:
        raise ValueError(f'upscale must be a positive integer, got {upscale}.')
    heat = overlay(image, apply_colormap(scores, vmin, vmax, cmap),
                   heat_alpha)
    if gt_mask is not None and gt_mask.any():
        heat = draw_outline(heat, gt_mask, outline_color)
    panels = [('input', image), (score_title, heat)]
    if seg_color is not None:
        panels.append((seg_title, seg_color))
    if gt_mask is not None and gt_panel:
        marks = [] if ignore_mask is None else [(ignore_mask, IGNORE_COLOR)]
        panels.append(('ground truth (white: anomaly)',
                       paint_labels(image, marks + [(gt_mask, ANOMALY_COLOR)])))
    panels = [(title, _upscaled(p, int(upscale))) for title, p in panels]
    height, width = panels[0][1].shape[:2]
    title_h = int(np.clip(round(0.1 * height), 18, 30)) if titles else 0
    gap = 2
    columns = len(panels) if columns <= 0 else min(columns, len(panels))
    rows = []
    for r in range(0, len(panels), columns):
        cells = []
        for title, panel in panels[r:r + columns]:
            if title_h:
                panel = np.concatenate(
                    [render_text(title, width, title_h), panel], axis=0)
            cells.append(panel)
        while len(cells) < columns:
            cells.append(np.full_like(cells[0], 255))
        rows.append(stack_panels(cells, gap))
    grid = rows[0] if len(rows) == 1 else np.concatenate(
        [np.concatenate([row, np.full((gap, row.shape[1], 3), 255,
                                      np.uint8)]) for row in rows[:-1]] +
        [rows[-1]], axis=0)
    picture = grid
    if colorbar_width > 0:
        bar = draw_colorbar(grid.shape[0] - title_h, vmin, vmax, cmap,
                            colorbar_width)
        if title_h:
            bar = np.concatenate(
                [render_text('score', colorbar_width, title_h), bar], axis=0)
        picture = stack_panels([grid, bar], gap)
    if legend:
        strip = draw_legend(legend, picture.shape[1],
                            max(18, title_h or 20))
        picture = np.concatenate([picture, strip], axis=0)
    return picture


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


def paint_final_prediction(image: np.ndarray, seg: np.ndarray,
                           scores: np.ndarray, threshold: float,
                           palette: Sequence[Sequence[int]],
                           alpha: float = 0.6,
                           anomaly_color: Sequence[int] = ANOMALY_COLOR
                           ) -> np.ndarray:
    """The segmentation with the anomaly class painted opaquely where
    ``scores >= threshold`` (see :func:`final_prediction`).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB picture.
    """
    anomaly_id = len(np.asarray(palette).reshape(-1, 3))
    final = final_prediction(seg, scores, threshold, anomaly_id)
    painted = paint_segmentation(image, final, palette, alpha)
    painted[final == anomaly_id] = np.asarray(anomaly_color, np.uint8)
    return painted


def final_prediction_title(threshold: float) -> str:
    """Title of the final-prediction panel."""
    return f'final prediction (white: score \u2265 {threshold:.4g})'


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
        seg_classes: Names of the predicted classes; given, a legend of
            their colours (and the anomaly's) is drawn under a picture with
            a prediction panel.
        colorbar_width: Width of the colour bar in pixels.
        anomaly_threshold: Draw the final prediction (the segmentation with
            the anomaly class, white, where the score is at least the
            threshold): a number, ``'tpr95:PATH'`` / ``'best_f1:PATH'``
            with PATH an evaluation's ``pixel_ood_curves.json`` (or its
            folder), or ``dict(curves=PATH, rule='tpr95')``. None: no
            anomaly class (the prediction panel follows ``draw_seg``).
        titles: Write a title above each panel.
        gt_panel: Add a ground-truth panel when the labels have anomalies.
        upscale: Integer factor enlarging the panels of small images.
        min_height: Enlarge panels by the smallest integer factor that
            makes them at least this tall (0: only ``upscale``).
        columns: Panels per row (0: one row).
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
                 seg_classes: Optional[Sequence[str]] = None,
                 colorbar_width: int = 64,
                 anomaly_threshold: Any = None,
                 titles: bool = True,
                 gt_panel: bool = True,
                 upscale: int = 1,
                 min_height: int = 0,
                 columns: int = 0,
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
        self.seg_classes = seg_classes
        self.colorbar_width = colorbar_width
        self.anomaly_threshold = anomaly_threshold
        self.titles = titles
        self.gt_panel = gt_panel
        self.upscale = int(upscale)
        self.min_height = int(min_height)
        self.columns = columns
        self._threshold: Optional[float] = None

    def threshold(self) -> Optional[float]:
        """The final-prediction threshold (read once: the score setting is
        only known after the config's hook handed it over)."""
        if self.anomaly_threshold is not None and self._threshold is None:
            self._threshold = resolve_threshold(self.anomaly_threshold,
                                                self.anomaly_score)
        return self._threshold

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
        gt_mask = ignore_mask = None
        anomaly_id = self._anomaly_id()
        if draw_gt and anomaly_id is not None and 'gt_sem_seg' in data_sample:
            gt = data_sample.gt_sem_seg.data.cpu().numpy()[0]
            if gt.shape == scores.shape:
                gt_mask = gt == anomaly_id
                ignore_mask = gt == self.dataset_meta.get('ignore_index',
                                                          IGNORE_INDEX)
        seg_color, seg_title, legend = None, 'prediction', None
        threshold = self.threshold()
        if (self.draw_seg or threshold is not None) and (
                'pred_sem_seg' in data_sample):
            seg = data_sample.pred_sem_seg.data.cpu().numpy()[0].astype(
                np.int64)
            if threshold is None:
                seg_color = paint_segmentation(image, seg, self._palette())
            else:
                seg_color = paint_final_prediction(image, seg, scores,
                                                   threshold, self._palette())
                seg_title = final_prediction_title(threshold)
            if self.seg_classes:
                legend = list(zip(self.seg_classes, self._palette()))
                if threshold is not None:
                    legend.append(('anomaly', ANOMALY_COLOR))
        upscale = max(self.upscale,
                      upscale_factor(image.shape[0], self.min_height))
        drawn = anomaly_panels(
            image, scores, vmin, vmax, self.cmap, self.heat_alpha, gt_mask,
            seg_color, self.colorbar_width, ignore_mask=ignore_mask,
            titles=self.titles,
            score_title=f'anomaly score: {self.anomaly_score["name"]}',
            seg_title=seg_title, gt_panel=self.gt_panel, upscale=upscale,
            columns=self.columns, legend=legend)
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
