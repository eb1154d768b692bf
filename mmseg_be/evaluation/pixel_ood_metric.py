"""``PixelOODMetric``: exact pixel-level OOD metrics inside MMSeg's evaluator.

``process()`` turns each sample's ``seg_logits`` into an anomaly score map
(:func:`mmseg_be.scoring.compute_anomaly_score`) and folds it at once into a
per-rank state (run-length tables, optional SMIYC bins and components); no
full-resolution map is kept. ``self.results`` holds that single state object,
so mmengine's ``collect_results`` gathers one compact state per rank and
``compute_metrics`` merges them. Example config::

    val_evaluator = dict(type='PixelOODMetric', score='energy',
                         smooth_kernel=7, smooth_sigma=1, num_classes=19)

Distributed evaluation: use a sampler with ``round_up=False`` (mmengine's
``DefaultSampler`` pads the last batch by repeating images, which would be
counted twice); duplicates are detected by ``img_path`` and reported.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import warnings
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from ..scoring import compute_anomaly_score
from .binned import SMIYCBinnedAccumulator
from .component_metric import ComponentMetricAccumulator
from .functional import PixelOODAccumulator


class _RankState:
    """Everything one rank accumulates (pickled by collect_results)."""

    def __init__(self, binned: bool) -> None:
        self.pixels = PixelOODAccumulator()
        self.binned = SMIYCBinnedAccumulator() if binned else None
        self.components: Optional[ComponentMetricAccumulator] = None
        self.cached_maps: List[str] = []
        self.img_paths: List[str] = []


@METRICS.register_module()
class PixelOODMetric(BaseMetric):
    """AUROC, AP and FPR95 (percent) of an anomaly score over all pixels.

    Args:
        score: Name in :data:`mmseg_be.scoring.SCORE_FUNCTIONS`.
        temperature: Score temperature.
        smooth_kernel: Gaussian smoothing kernel size (None: no smoothing).
        smooth_sigma: Gaussian sigma.
        num_classes: Use the first C logit channels only (PAL heads).
        ignore_index: Void label; labels must be 0, 1 or this value.
        tprs: Extra TPRs at which to report ``FPR@<tpr>``.
        pebal_compat: Also report ``FPR95_pebal`` (nearest-recall FPR).
        binned: Also report the SMIYC binned ``SMIYC_AUROC/AP/FPR95``.
        component_metrics: Also report SMIYC ``sIoU``, ``PPV``, ``mean_F1``.
        track: ``'anomaly'`` or ``'obstacle'`` (component size thresholds).
        component_threshold: Fixed score threshold for components (predict
            ``score > threshold``, as SMIYC); None predicts the pixels of the
            best-F1 pixel threshold (``score >= t*``), found after all
            images, which needs
            the score maps again: they are cached as float32 files in
            ``component_cache_dir`` (a temporary directory by default; use a
            directory every rank can read for multi-node runs) and deleted
            after use.
        component_cache_dir: See above.
        output_dir: When set, the thinned ROC/PR curves and the metrics are
            written to ``output_dir/pixel_ood_curves.json``.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix.
    """

    def __init__(self, score: str = 'energy', temperature: float = 1.0,
                 smooth_kernel: Optional[int] = None,
                 smooth_sigma: float = 1.0,
                 num_classes: Optional[int] = None, ignore_index: int = 255,
                 tprs: Sequence[float] = (), pebal_compat: bool = False,
                 binned: bool = False, component_metrics: bool = False,
                 track: str = 'anomaly',
                 component_threshold: Optional[float] = None,
                 component_cache_dir: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         **kwargs)
        self.score_cfg = dict(name=score, temperature=temperature,
                              smooth_kernel=smooth_kernel,
                              smooth_sigma=smooth_sigma,
                              num_classes=num_classes)
        self.ignore_index = ignore_index
        self.tprs = tuple(tprs)
        self.pebal_compat = pebal_compat
        self.binned = binned
        self.component_metrics = component_metrics
        self.track = track
        self.component_threshold = component_threshold
        self.component_cache_dir = component_cache_dir
        self.output_dir = output_dir
        self.last_curves: Optional[Dict[str, Any]] = None
        if component_metrics:
            ComponentMetricAccumulator(track)  # validates the track name

    def _state(self) -> _RankState:
        if not self.results:
            self.results.append(_RankState(self.binned))
        return self.results[0]

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score each sample and fold it into this rank's state."""
        state = self._state()
        for sample in data_samples:
            name = sample.get('img_path', f'image #{len(state.img_paths)}')
            logits = sample['seg_logits']['data']
            label = sample['gt_sem_seg']['data']
            label = label.squeeze(0) if label.dim() == 3 else label
            if tuple(logits.shape[-2:]) != tuple(label.shape):
                raise ValueError(
                    f'{name}: seg_logits are {tuple(logits.shape[-2:])} but '
                    f'gt_sem_seg is {tuple(label.shape)}; the model must '
                    'return logits resized to the label (MMSeg does so in '
                    'postprocess_result when img_shape/ori_shape are set)')
            score = compute_anomaly_score(logits.detach().float(),
                                          **self.score_cfg)
            score = score.cpu().numpy().astype(np.float32, copy=False)
            label = label.cpu().numpy()
            try:
                state.pixels.update(score, label, self.ignore_index)
                if state.binned is not None:
                    state.binned.update(score, label, self.ignore_index)
            except ValueError as err:
                raise ValueError(f'{name}: {err}') from err
            state.img_paths.append(name)
            if self.component_metrics:
                self._process_components(state, score, label)

    def _process_components(self, state: _RankState, score: np.ndarray,
                            label: np.ndarray) -> None:
        if self.component_threshold is not None:
            if state.components is None:
                state.components = ComponentMetricAccumulator(
                    self.track, ignore_index=self.ignore_index)
            state.components.process(score, label, self.component_threshold)
            return
        if self.component_cache_dir is None:
            self.component_cache_dir = tempfile.mkdtemp(prefix='pixel_ood_')
        os.makedirs(self.component_cache_dir, exist_ok=True)
        path = osp.join(self.component_cache_dir,
                        f'{os.getpid()}_{len(state.cached_maps)}.npz')
        np.savez(path, score=score, label=label)
        state.cached_maps.append(path)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Merge the per-rank states and compute the metrics (percent)."""
        if not results:
            warnings.warn('PixelOODMetric saw no images; metrics are NaN')
            results = [_RankState(self.binned)]
        total = results[0]
        for other in results[1:]:
            total.pixels.merge(other.pixels)
            if total.binned is not None:
                total.binned.merge(other.binned)
            if other.components is not None:
                if total.components is None:
                    total.components = other.components
                else:
                    total.components.merge(other.components)
            total.cached_maps += other.cached_maps
            total.img_paths += other.img_paths
        repeated = [p for p, c in Counter(total.img_paths).items() if c > 1]
        if repeated:
            warnings.warn(f'{len(repeated)} images were evaluated more than '
                          f'once (e.g. {repeated[0]}); a distributed sampler '
                          'pads with repeats: set round_up=False for exact '
                          'numbers')
        res = total.pixels.compute(tprs=(0.95,) + self.tprs,
                                   pebal_compat=self.pebal_compat)
        metrics = {'AUROC': 100 * res['AUROC'], 'AP': 100 * res['AP'],
                   'FPR95': 100 * res['FPR95']}
        for t in self.tprs:
            metrics[f'FPR@{t:g}'] = 100 * res['fpr_at_tpr'][float(t)]
        if self.pebal_compat:
            metrics['FPR95_pebal'] = 100 * res['FPR95_pebal']
        metrics['best_F1'] = 100 * res['best_f1']
        if total.binned is not None:
            binned = total.binned.compute()
            for key in ('AUROC', 'AP', 'FPR95'):
                metrics[f'SMIYC_{key}'] = 100 * binned[key]
        if self.component_metrics:
            metrics.update(self._component_results(total, res))
        self.last_curves = dict(roc=res['roc_curve'], pr=res['pr_curve'],
                                best_f1_threshold=res['best_f1_threshold'],
                                num_pos=res['num_pos'],
                                num_neg=res['num_neg'])
        if self.output_dir is not None:
            self._write_curves(metrics)
        return metrics

    def _component_results(self, total: _RankState, res: dict
                           ) -> Dict[str, float]:
        components = total.components
        if self.component_threshold is None:
            threshold = res['best_f1_threshold']
            components = ComponentMetricAccumulator(
                self.track, ignore_index=self.ignore_index)
            try:
                if threshold is not None and np.isfinite(threshold):
                    for path in total.cached_maps:
                        with np.load(path) as cached:
                            # >= : exactly the best-F1 pixel prediction
                            components.process(cached['score'],
                                               cached['label'], threshold,
                                               inclusive=True)
                else:
                    warnings.warn('no best-F1 threshold (no anomaly or '
                                  'inlier pixels): component metrics are NaN')
            finally:
                for path in total.cached_maps:
                    if osp.exists(path):
                        os.remove(path)
                if self.component_cache_dir and osp.isdir(
                        self.component_cache_dir) and not os.listdir(
                            self.component_cache_dir):
                    shutil.rmtree(self.component_cache_dir)
        if components is None:
            components = ComponentMetricAccumulator(self.track)
        comp = components.compute()
        return {'sIoU': 100 * comp['sIoU'], 'PPV': 100 * comp['PPV'],
                'mean_F1': 100 * comp['mean_F1']}

    def _write_curves(self, metrics: Dict[str, float]) -> None:
        os.makedirs(self.output_dir, exist_ok=True)
        curves = self.last_curves

        def as_list(values: np.ndarray) -> list:
            return [None if not np.isfinite(v) else float(v) for v in values]

        payload = dict(
            metrics=metrics, score=self.score_cfg,
            best_f1_threshold=curves['best_f1_threshold'],
            num_pos=curves['num_pos'], num_neg=curves['num_neg'],
            roc=None if curves['roc'] is None else
            {k: as_list(v) for k, v in curves['roc'].items()},
            pr=None if curves['pr'] is None else
            {k: as_list(v) for k, v in curves['pr'].items()})
        with open(osp.join(self.output_dir, 'pixel_ood_curves.json'),
                  'w') as f:
            json.dump(payload, f, indent=1)
