"""``PixelOODMetric``: exact pixel-level OOD metrics inside MMSeg's evaluator.

``process()`` turns each sample's ``seg_logits`` into an anomaly score map
(:func:`mmseg_be.scoring.compute_anomaly_score`, with the config's one
``anomaly_score`` setting handed over by
:class:`~mmseg_be.engine.AnomalyScoreHook`) and folds it into a per-rank
state (run-length tables, optional SMIYC bins and components). Apart from the
most recent image of each rank (see below), no full-resolution map is kept.
``self.results`` holds that single state object, so mmengine's
``collect_results`` gathers one compact state per rank and
``compute_metrics`` merges them. Example config::

    anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
    custom_hooks = [dict(type='AnomalyScoreHook')]
    test_evaluator = dict(type='PixelOODMetric')

Several processes give exactly the one-process numbers. mmengine's
``DefaultSampler`` (``round_up=True``, MMSeg's default) splits the dataset
interleaved (rank ``r`` gets positions ``r, r + W, r + 2W, ...``) and pads the
end with repeats of the first images, so only the *last* image of a rank can
be a repeat. Each rank therefore folds an image into its tables only when the
next one arrives; at the end, knowing the dataset length, the merge folds a
rank's last image only if its position is inside the dataset.
"""
import os
import os.path as osp
import shutil
import tempfile
import warnings
from collections import Counter
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from ..constants import IGNORE_INDEX
from ..scoring import AnomalyScoreUser, compute_anomaly_score
from ._rank_state import RankState, to_numpy
from ._result_files import write_curves_file, write_image_result
from .component_accumulator import ComponentMetricAccumulator

def fpr_metric_name(tpr: float) -> str:
    """The metric key of the FPR at a TPR: 0.95 -> ``FPR95``, 0.995 ->
    ``FPR99_5`` (no ``@`` or ``.``: usable as a TensorBoard / W&B tag and in
    ``save_best``)."""
    return 'FPR' + f'{100 * float(tpr):.6g}'.replace('.', '_')


@METRICS.register_module()
class PixelOODMetric(BaseMetric, AnomalyScoreUser):
    """AUROC, AP and FPR95 (percent) of an anomaly score over all pixels.

    Args:
        anomaly_score: The score setting (see
            :func:`mmseg_be.scoring.anomaly_score_settings`); normally left
            None and taken from the config's ``anomaly_score`` by
            :class:`~mmseg_be.engine.AnomalyScoreHook`. Default: energy, no
            smoothing.
        score: Legacy, as ``anomaly_score=dict(name=...)``.
        temperature: Legacy, as ``anomaly_score=dict(temperature=...)``.
        smooth_kernel: Legacy, as ``anomaly_score=dict(smooth_kernel=...)``.
        smooth_sigma: Legacy, as ``anomaly_score=dict(smooth_sigma=...)``.
        num_classes: Legacy, as ``anomaly_score=dict(num_classes=...)``.
        ignore_index: Void label; labels must be 0, 1 or this value.
        tprs: Extra TPRs at which to report the FPR (``FPR90`` for 0.9).
        pebal_compat: Also report ``FPR95_pebal`` (nearest-recall FPR).
        binned: Also report the SMIYC binned ``SMIYC_AUROC/AP/FPR95``.
        component_metrics: Also report SMIYC ``sIoU``, ``PPV``, ``mean_F1``.
        track: ``'anomaly'`` or ``'obstacle'`` (component size thresholds).
        component_threshold: Fixed score threshold for components (predict
            ``score > threshold``, as SMIYC); None predicts the pixels of the
            best-F1 pixel threshold (``score >= t*``), found after all
            images, which needs the score maps again: they are cached as
            files in ``component_cache_dir`` (a temporary directory of each
            rank by default, removed after the evaluation; use a directory
            every rank can read for multi-node runs) and deleted after use.
        component_cache_dir: See above.
        output_dir: Where the results go (as in MMSeg's metrics; MMSeg's
            ``tools/test.py --out DIR`` sets it): the metrics and the thinned
            ROC/PR curves in ``pixel_ood_curves.json``, and with
            ``keep_results`` or ``format_only`` per image
            ``{stem}_anomaly.npy`` (the evaluated float32 anomaly scores) and
            ``{stem}.png`` (the predicted segmentation).
        keep_results: Keep the per-image results in ``output_dir``.
        format_only: Only write the per-image results (test images without
            labels); no metrics.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix.
    """

    def __init__(self,
                 anomaly_score: Optional[dict] = None,
                 score: Optional[str] = None,
                 temperature: Optional[float] = None,
                 smooth_kernel: Optional[int] = None,
                 smooth_sigma: Optional[float] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = IGNORE_INDEX,
                 tprs: Sequence[float] = (),
                 pebal_compat: bool = False,
                 binned: bool = False,
                 component_metrics: bool = False,
                 track: str = 'anomaly',
                 component_threshold: Optional[float] = None,
                 component_cache_dir: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 keep_results: bool = False,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         **kwargs)
        self._init_anomaly_score(
            anomaly_score, score=score, temperature=temperature,
            smooth_kernel=smooth_kernel, smooth_sigma=smooth_sigma,
            num_classes=num_classes)
        self.ignore_index = ignore_index
        self.tprs = tuple(tprs)
        self.pebal_compat = pebal_compat
        self.binned = binned
        self.component_metrics = component_metrics
        self.track = track
        self.component_threshold = component_threshold
        self.component_cache_dir = component_cache_dir
        self._own_cache_dir: Optional[str] = None
        self._num_cached = 0
        if (keep_results or format_only) and not output_dir:
            raise ValueError('keep_results / format_only need output_dir '
                             '(where the per-image results go)')
        self.output_dir = output_dir
        self.keep_results = keep_results
        self.format_only = format_only
        self._last_curves: Optional[Dict[str, Any]] = None
        self._dataset_size: Optional[int] = None
        if component_metrics:
            ComponentMetricAccumulator(track)  # validates the track name

    @property
    def last_curves(self) -> Optional[Dict[str, Any]]:
        """The curves of the last evaluation on this process (rank 0 in a
        distributed run: mmengine computes the metrics there).

        Returns:
            dict or None: None before the first evaluation (and with
            ``format_only``); otherwise ``roc`` (``fpr``, ``tpr``,
            ``thresholds`` float64 arrays) and ``pr`` (``recall``,
            ``precision``, ``thresholds``), thinned for plots (a point per
            1/1000 step of each rate), each None when the images had no
            anomaly or no inlier pixel;
            ``best_f1_threshold`` (float or None); ``num_pos`` and
            ``num_neg`` (evaluated anomaly and inlier pixels);
            ``num_images``. The same curves are written to
            ``pixel_ood_curves.json`` when ``output_dir`` is set.
        """
        return self._last_curves

    @property
    def score_cfg(self) -> Dict[str, Any]:
        """The anomaly-score setting in use (alias of ``anomaly_score``)."""
        return self.anomaly_score

    def _state(self) -> RankState:
        if not self.results:
            rank, world_size = get_dist_info()
            self.results.append(RankState(self.binned, rank, world_size))
        return self.results[0]

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score each sample and fold the previous one into the state."""
        for sample in data_samples:
            name = sample.get('img_path') or f'image #{self._seen()}'
            logits = sample['seg_logits']['data']
            label = None
            if 'gt_sem_seg' in sample and not self.format_only:
                label = sample['gt_sem_seg']['data']
                label = label.squeeze(0) if label.dim() == 3 else label
                if tuple(logits.shape[-2:]) != tuple(label.shape):
                    raise ValueError(
                        f'{name}: seg_logits are {tuple(logits.shape[-2:])} '
                        f'but gt_sem_seg is {tuple(label.shape)}; the model '
                        'must return logits resized to the label (MMSeg does '
                        'so in postprocess_result when img_shape/ori_shape '
                        'are set)')
            elif not self.format_only:
                raise ValueError(
                    f'{name}: the test output has no gt_sem_seg; load labels '
                    '(LoadOODAnnotations) or set format_only=True to only '
                    'write the anomaly maps')
            with torch.no_grad():
                score = compute_anomaly_score(logits.detach().float(),
                                              **self.anomaly_score)
            if self.output_dir and (self.keep_results or self.format_only):
                write_image_result(self.output_dir, name, to_numpy(score),
                                   sample)
            if self.format_only:
                continue
            if not (score.is_cuda and not self.binned
                    and not self.component_metrics):
                # On a GPU, the exact tables are reduced on the device.
                score, label = to_numpy(score), to_numpy(label)
            self._check(name, score, label)
            state = self._state()
            if state.pending is not None:
                self._fold(state, *state.pending)
            state.pending = (name, score, label)
            state.num_seen += 1

    def _seen(self) -> int:
        return self.results[0].num_seen if self.results else 0

    def _check(self, name: str, score, label) -> None:
        """Reject bad labels and NaN/inf scores now, naming the image."""
        lib = torch if isinstance(label, torch.Tensor) else np
        known = (label == 0) | (label == 1) | (label == self.ignore_index)
        if not bool(known.all()):
            found = lib.unique(label[~known])[:20].tolist()
            raise ValueError(
                f'{name}: labels contain values {found} besides 0 (inlier), '
                f'1 (anomaly) and ignore_index={self.ignore_index}; convert '
                'the labels (LoadOODAnnotations does for the benchmark '
                'datasets) or set ignore_index')
        if not bool(lib.isfinite(score).all()):
            bad = ~lib.isfinite(score) & (label != self.ignore_index)
            count = int(bad.sum())
            if count:
                raise ValueError(
                    f'{name}: {count} evaluated pixels have NaN or infinite '
                    'anomaly scores')

    def _fold(self, state: RankState, name: str, score, label) -> None:
        """Add one image to the tables (and bins, and components)."""
        try:
            state.pixels.update(score, label, self.ignore_index)
            if state.binned is not None:
                state.binned.update(score, label, self.ignore_index)
        except ValueError as err:
            raise ValueError(f'{name}: {err}') from err
        state.img_paths.append(name)
        if self.component_metrics:
            self._process_components(state, score, label)

    def _process_components(self, state: RankState, score: np.ndarray,
                            label: np.ndarray) -> None:
        if self.component_threshold is not None:
            if state.components is None:
                state.components = ComponentMetricAccumulator(
                    self.track, ignore_index=self.ignore_index)
            state.components.process(score, label, self.component_threshold)
            return
        if self.component_cache_dir is None:
            self.component_cache_dir = tempfile.mkdtemp(prefix='pixel_ood_')
            self._own_cache_dir = self.component_cache_dir
        os.makedirs(self.component_cache_dir, exist_ok=True)
        # Unique per process: the merge also caches other ranks' last maps.
        self._num_cached += 1
        path = osp.join(self.component_cache_dir,
                        f'{os.getpid()}_{self._num_cached}.npz')
        np.savez(path, score=score, label=label)
        state.cached_maps.append(path)

    def evaluate(self, size: int) -> dict:
        """mmengine's evaluate, knowing the dataset length, then clean up.

        ``size`` tells which pending images are padding repeats; every rank
        removes the cache directory it created.
        """
        self._dataset_size = size
        try:
            if self.format_only:
                self.results.clear()
                return {}
            for state in self.results:
                if state.pending is not None:  # leaves this process: host
                    name, score, label = state.pending
                    state.pending = (name, to_numpy(score), to_numpy(label))
            return super().evaluate(size)
        finally:
            self._dataset_size = None
            own, self._own_cache_dir = self._own_cache_dir, None
            if own is not None:
                shutil.rmtree(own, ignore_errors=True)
                if self.component_cache_dir == own:
                    self.component_cache_dir = None

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Merge the per-rank states and compute the metrics (percent)."""
        if self.format_only:
            return {}
        if not results:
            warnings.warn('PixelOODMetric saw no images; metrics are NaN')
            results = [RankState(self.binned)]
        size = self._dataset_size
        for state in results:
            if state.pending is None:
                continue
            # Under DefaultSampler only a rank's last image can be padding.
            if size is None or state.last_position() < size:
                self._fold(state, *state.pending)
            state.pending = None
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
                          f'once (e.g. {repeated[0]}): the dataset lists '
                          'them twice, or a custom sampler repeats them')
        res = total.pixels.compute(tprs=(0.95,) + self.tprs,
                                   pebal_compat=self.pebal_compat)
        metrics = {'AUROC': 100 * res['AUROC'], 'AP': 100 * res['AP'],
                   'FPR95': 100 * res['FPR95']}
        for t in self.tprs:
            metrics[fpr_metric_name(t)] = 100 * res['fpr_at_tpr'][float(t)]
        if self.pebal_compat:
            metrics['FPR95_pebal'] = 100 * res['FPR95_pebal']
        metrics['best_F1'] = 100 * res['best_f1']
        if total.binned is not None:
            binned = total.binned.compute()
            for key in ('AUROC', 'AP', 'FPR95'):
                metrics[f'SMIYC_{key}'] = 100 * binned[key]
        if self.component_metrics:
            metrics.update(self._component_results(total, res))
        self._last_curves = dict(roc=res['roc_curve'], pr=res['pr_curve'],
                                 best_f1_threshold=res['best_f1_threshold'],
                                 num_pos=res['num_pos'],
                                 num_neg=res['num_neg'],
                                 num_images=len(total.img_paths))
        if self.output_dir is not None:
            write_curves_file(self.output_dir, metrics, self.score_cfg,
                              self._last_curves)
        return metrics

    def _component_results(self, total: RankState, res: dict
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
