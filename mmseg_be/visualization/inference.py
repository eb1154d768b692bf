"""Heat maps for image files: the logic behind ``tools/visualize.py``.

A checkpoint and a config give a model (``mmseg.apis.init_model``); every
image is run through ``mmseg.apis.inference_model`` *by file path* (an ndarray
input would rewrite the model's test pipeline for later calls) and drawn with
:func:`anomaly_panels`.
"""
import glob
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from mmseg_be.export.scores import scores_from_sample
from mmseg_be.scoring import anomaly_score_settings
from .anomaly_visualizer import (anomaly_panels, final_prediction_title,
                                 paint_final_prediction, paint_segmentation,
                                 upscale_factor)
from .colormap import score_range
from .prediction import final_prediction, resolve_threshold

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
NORMALIZATIONS = ('image', 'dataset', 'fixed')


def collect_images(spec: str) -> List[str]:
    """Image files named by a file, a folder (recursive) or a glob.

    Args:
        spec: A path to an image, a folder, or a glob pattern.

    Returns:
        list[str]: Sorted file paths.

    Raises:
        FileNotFoundError: Nothing matches.
    """
    if osp.isfile(spec):
        return [spec]
    if osp.isdir(spec):
        paths = [p for p in glob.glob(osp.join(spec, '**', '*'),
                                      recursive=True)
                 if p.lower().endswith(IMAGE_SUFFIXES) and osp.isfile(p)]
    else:
        paths = [p for p in glob.glob(spec, recursive=True) if osp.isfile(p)]
    if not paths:
        raise FileNotFoundError(
            f'No images found for {spec!r}: pass an image file, a folder '
            f'holding {"/".join(IMAGE_SUFFIXES)} files, or a glob such as '
            f'"data/*.png" (quoted).')
    return sorted(paths)


def read_rgb(path: str) -> Optional[np.ndarray]:
    """An image as uint8 RGB, or None if it cannot be decoded."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if img is None else img[..., ::-1].copy()


@dataclass
class AnomalyPrediction:
    """What :func:`infer_anomaly` returns for one image."""
    scores: np.ndarray  #: (H, W) float32 anomaly scores
    seg: np.ndarray  #: (H, W) int64 in-distribution classes
    #: (H, W) int64 classes with ``anomaly_id`` where the score passes the
    #: threshold; None without a threshold.
    final: Optional[np.ndarray]
    anomaly_id: int  #: the anomaly class id: the number of model classes
    threshold: Optional[float]


def infer_anomaly(model,
                  image: str,
                  anomaly_score: Optional[dict] = None,
                  threshold=None) -> AnomalyPrediction:
    """Anomaly scores and the final prediction of one image file.

    Args:
        model: A segmentor from ``mmseg.apis.init_model`` (or
            :func:`mmseg_be.export.inference.load_model`).
        image: Image file (a path, so the model's pipeline is not rewritten).
        anomaly_score: The score setting; None takes the model config's
            ``anomaly_score`` (energy by default).
        threshold: None, a number, ``'tpr95:PATH'`` / ``'best_f1:PATH'``
            (PATH an evaluation's ``pixel_ood_curves.json`` or its folder)
            or ``dict(curves=PATH, rule=...)``; see
            :func:`~mmseg_be.visualization.prediction.resolve_threshold`.

    Returns:
        AnomalyPrediction: Scores, segmentation, final prediction.
    """
    from mmseg.apis import inference_model
    if anomaly_score is None:
        cfg = getattr(model, 'cfg', None)
        anomaly_score = cfg.get('anomaly_score') if cfg is not None else None
    settings = anomaly_score_settings(anomaly_score)
    value = resolve_threshold(threshold, settings)
    result = inference_model(model, image)
    scores = scores_from_sample(result, settings)
    seg = result.pred_sem_seg.data.cpu().numpy()[0].astype(np.int64)
    anomaly_id = int(result.seg_logits.data.shape[0])
    final = None if value is None else final_prediction(
        seg, scores, value, anomaly_id)
    return AnomalyPrediction(scores, seg, final, anomaly_id, value)


@dataclass
class VisualizeReport:
    """What a visualization run wrote and what it skipped."""
    written: List[str] = field(default_factory=list)
    score_files: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    value_range: Optional[Tuple[float, float]] = None


def _out_stem(path: str, inputs: Sequence[str]) -> str:
    # Keep sub-folders when a folder was given so equal names do not clash.
    root = osp.commonpath([osp.abspath(p) for p in inputs]) if len(
        inputs) > 1 else osp.dirname(osp.abspath(path))
    rel = osp.relpath(osp.abspath(path), root)
    return osp.splitext(rel)[0]


def visualize_images(model,
                     images: Sequence[str],
                     out_dir: str,
                     anomaly_score: Optional[dict] = None,
                     norm: str = 'image',
                     vmin: Optional[float] = None,
                     vmax: Optional[float] = None,
                     percentiles: Tuple[float, float] = (1.0, 99.0),
                     cmap: str = 'inferno',
                     draw_seg: bool = False,
                     save_scores: bool = False,
                     progress: bool = True,
                     anomaly_threshold=None,
                     upscale: int = 1,
                     min_height: int = 0,
                     columns: int = 0,
                     titles: bool = True) -> VisualizeReport:
    """Write one heat-map PNG per image (and the raw scores as .npy).

    Args:
        model: A segmentor from ``mmseg.apis.init_model``.
        images: Image files.
        out_dir: Output folder (``{stem}.png``, ``{stem}.npy``).
        anomaly_score: The score setting (the config's ``anomaly_score``,
            see :func:`mmseg_be.scoring.anomaly_score_settings`); images
            whose scores are NaN or infinite are skipped and listed.
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
        anomaly_threshold: Draw the final prediction (anomaly class, white,
            where the score is at least the threshold): a number or
            ``'tpr95:PATH'`` / ``'best_f1:PATH'`` (see
            :func:`~mmseg_be.visualization.prediction.resolve_threshold`).
        upscale: Integer factor enlarging the panels.
        min_height: Enlarge small images to at least this panel height.
        columns: Panels per row (0: one row).
        titles: Write panel titles.

    Returns:
        VisualizeReport: Written files and skipped images with the reason.
    """
    from mmseg.apis import inference_model
    from tqdm import tqdm

    if norm not in NORMALIZATIONS:
        raise ValueError(f'Unknown normalization {norm!r}; use one of '
                         f'{NORMALIZATIONS}.')
    if norm == 'fixed' and (vmin is None or vmax is None or vmax <= vmin):
        raise ValueError(f'norm="fixed" needs vmin < vmax, got vmin={vmin}, '
                         f'vmax={vmax}.')
    threshold = resolve_threshold(anomaly_threshold,
                                  anomaly_score_settings(anomaly_score))
    score_name = anomaly_score_settings(anomaly_score)['name']
    os.makedirs(out_dir, exist_ok=True)
    report = VisualizeReport()
    palette = (getattr(model, 'dataset_meta', None) or {}).get('palette')

    def predict(path: str):
        image = read_rgb(path)
        if image is None:
            raise ValueError('cannot be decoded as an image')
        result = inference_model(model, path)
        return image, result, scores_from_sample(result, anomaly_score)

    ranges = {}
    if norm == 'dataset':
        # Pass 1 keeps only each image's range; maps are recomputed in pass 2
        # so memory stays at one image.
        for path in tqdm(images, desc='score range', disable=not progress):
            try:
                _, _, scores = predict(path)
            except Exception as error:  # reported below, the run goes on
                report.failed.append((path, str(error)))
                continue
            ranges[path] = score_range(scores, percentiles)
        if ranges:
            report.value_range = (min(r[0] for r in ranges.values()),
                                  max(r[1] for r in ranges.values()))
    elif norm == 'fixed':
        report.value_range = (vmin, vmax)

    todo = [p for p in images if norm != 'dataset' or p in ranges]
    for path in tqdm(todo, desc='heat maps', disable=not progress):
        try:
            image, result, scores = predict(path)
        except Exception as error:  # reported below, the run goes on
            report.failed.append((path, str(error)))
            continue
        lo, hi = report.value_range or score_range(scores, percentiles)
        seg_color, seg_title = None, 'prediction'
        if draw_seg or threshold is not None:
            seg = result.pred_sem_seg.data.cpu().numpy()[0].astype(np.int64)
            if threshold is None:
                seg_color = paint_segmentation(image, seg, palette or [])
            else:
                seg_color = paint_final_prediction(image, seg, scores,
                                                   threshold, palette or [])
                seg_title = final_prediction_title(threshold)
        picture = anomaly_panels(
            image, scores, lo, hi, cmap, seg_color=seg_color, titles=titles,
            score_title=f'anomaly score: {score_name}', seg_title=seg_title,
            upscale=max(upscale, upscale_factor(image.shape[0], min_height)),
            columns=columns)
        stem = osp.join(out_dir, _out_stem(path, images))
        os.makedirs(osp.dirname(stem), exist_ok=True)
        if not cv2.imwrite(stem + '.png', picture[..., ::-1]):
            raise OSError(f'Could not write {stem}.png (disk full or no '
                          f'permission?).')
        report.written.append(stem + '.png')
        if save_scores:
            np.save(stem + '.npy', scores)
            report.score_files.append(stem + '.npy')
    for path, reason in report.failed:
        print_log(f'Skipped {path}: {reason}', logger='current',
                  level=logging.WARNING)
    return report
