"""The final prediction: the segmentation with an anomaly class painted
where the anomaly score passes a threshold, and where that threshold comes
from (a value, or an evaluation's saved curves).

``PixelOODMetric`` (``output_dir``, set by ``tools/test.py --out DIR``)
saves ``pixel_ood_curves.json`` with the best-F1 threshold and the thinned
ROC curve with its thresholds; :func:`threshold_from_curves` reads either
rule from it. The curves must come from the same score setting as the one
drawn (checked when the file names it).
"""
import json
import os.path as osp
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

CURVES_FILE = 'pixel_ood_curves.json'
#: Rules of :func:`threshold_from_curves`.
THRESHOLD_RULES = ('tpr95', 'best_f1')

ThresholdSpec = Union[None, float, str, Mapping[str, Any]]


def final_prediction(seg: np.ndarray, scores: np.ndarray, threshold: float,
                     anomaly_id: int) -> np.ndarray:
    """The segmentation with ``anomaly_id`` where ``scores >= threshold``.

    Args:
        seg: ``(H, W)`` integer class ids.
        scores: ``(H, W)`` anomaly scores (higher = more anomalous).
        threshold: Pixels scoring at least this are anomalies (the same
            ``>=`` as the evaluator's best-F1 threshold).
        anomaly_id: Class id given to anomalous pixels, e.g. the number of
            in-distribution classes.

    Returns:
        np.ndarray: ``(H, W)`` int64 class ids.
    """
    if seg.shape != scores.shape:
        raise ValueError(f'segmentation {seg.shape} and scores '
                         f'{scores.shape} differ in size.')
    out = np.asarray(seg, dtype=np.int64).copy()
    out[np.asarray(scores) >= threshold] = anomaly_id
    return out


def threshold_from_curves(curves: Union[str, Mapping[str, Any]],
                          rule: str = 'tpr95',
                          anomaly_score: Optional[Mapping] = None) -> float:
    """The score threshold of a rule, from an evaluation's saved curves.

    Args:
        curves: ``pixel_ood_curves.json`` (a path, the folder holding it, or
            its loaded content).
        rule: ``'tpr95'``: the highest threshold whose true positive rate on
            the saved ROC curve reaches 95% (the saved curve is thinned, so
            the threshold is that of the nearest kept point at or above 95%
            TPR); ``'best_f1'``: the threshold of the best pixel F1.
        anomaly_score: The score setting that will be thresholded; if the
            file names its score, the names must agree.

    Returns:
        float: Predict anomaly where ``score >= threshold``.
    """
    if rule not in THRESHOLD_RULES:
        raise ValueError(f'Unknown threshold rule {rule!r}; use one of '
                         f'{THRESHOLD_RULES}.')
    source = 'the given curves'
    if isinstance(curves, str):
        source = osp.join(curves, CURVES_FILE) if osp.isdir(curves) else curves
        with open(source) as f:
            curves = json.load(f)
    saved_score = curves.get('score') or {}
    if anomaly_score is not None and saved_score.get('name') and (
            saved_score['name'] != anomaly_score.get('name')):
        raise ValueError(
            f'{source} holds curves of the {saved_score["name"]!r} score, '
            f'but the {anomaly_score.get("name")!r} score is drawn; '
            f'thresholds of one score mean nothing for another.')
    if rule == 'best_f1':
        value = curves.get('best_f1_threshold')
    else:
        roc = curves.get('roc') or {}
        tpr = np.asarray([np.nan if v is None else v
                          for v in roc.get('tpr', [])], dtype=np.float64)
        thresholds = np.asarray(
            [np.nan if v is None else v for v in roc.get('thresholds', [])],
            dtype=np.float64)
        reached = np.flatnonzero((tpr >= 0.95) & np.isfinite(thresholds))
        value = None
        if reached.size and len(thresholds) == len(tpr):
            # Thresholds fall along the curve: the first point reaching 95%
            # TPR has the highest such threshold.
            value = thresholds[reached].max()
    if value is None or not np.isfinite(value):
        raise ValueError(f'{source} has no finite {rule} threshold (was the '
                         f'evaluation run on anomaly and inlier pixels?).')
    return float(value)


def resolve_threshold(spec: ThresholdSpec,
                      anomaly_score: Optional[Mapping] = None
                      ) -> Optional[float]:
    """A threshold from a value, ``'RULE:PATH'`` or ``dict(curves, rule)``.

    Args:
        spec: None (no final prediction), a number, a string holding a
            number or ``'tpr95:path/to/pixel_ood_curves.json'`` (or
            ``best_f1:...``; the path may be the folder), or a mapping
            ``dict(curves=PATH, rule='tpr95')``.
        anomaly_score: The score setting drawn (checked against the file).

    Returns:
        float or None: The threshold.
    """
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return threshold_from_curves(spec['curves'],
                                     spec.get('rule', 'tpr95'),
                                     anomaly_score)
    if isinstance(spec, str):
        rule, sep, path = spec.partition(':')
        if sep and rule in THRESHOLD_RULES:
            return threshold_from_curves(path, rule, anomaly_score)
        try:
            return float(spec)
        except ValueError:
            raise ValueError(
                f'Threshold {spec!r} is neither a number nor RULE:PATH with '
                f'RULE in {THRESHOLD_RULES}.') from None
    return float(spec)


def paint_labels(image: np.ndarray, mask_colors: Sequence,
                 dim: float = 0.5) -> np.ndarray:
    """The image darkened by ``dim``, with each ``(mask, rgb)`` painted
    opaquely over it (later pairs on top)."""
    out = np.round(image.astype(np.float32) * (1.0 - dim)).astype(np.uint8)
    for mask, color in mask_colors:
        out[np.asarray(mask, bool)] = np.asarray(color, np.uint8)
    return out
