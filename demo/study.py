"""Statistics, table and figure of the demo's seed study
(``tools/demo_study.py``), and the diagnostic of how the in-distribution model
sees the test anomalies.

A study run is one record per (data seed, fine-tuning seed, method) with the
AP curve over fine-tuning and the final AUROC / AP / FPR95; the summary is the
mean +- sample sd over runs per method, and the paired difference of two
methods on the same (data seed, fine-tuning seed) with a Student t interval.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from mmseg_be.utils.table import format_table

from .scenes import CLASSES

METRICS = ('AUROC', 'AP', 'FPR95')


def read_records(path: str) -> List[dict]:
    """Read a study's ``results.jsonl`` (one JSON object per line)."""
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def append_record(path: str, record: Mapping) -> None:
    """Append one record and flush it, so a partial study is usable."""
    with open(path, 'a') as f:
        f.write(json.dumps(record) + '\n')
        f.flush()
        os.fsync(f.fileno())


def mean_sd(values: Sequence[float]) -> Dict[str, float]:
    """Mean and sample standard deviation (ddof 1; nan for one value)."""
    x = np.asarray(values, dtype=float)
    sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
    return dict(mean=float(x.mean()), sd=sd, n=int(x.size))


def paired_difference(a: Sequence[float], b: Sequence[float],
                      confidence: float = 0.95) -> Dict[str, float]:
    """Mean of ``a - b`` over pairs with a Student t confidence interval.

    Args:
        a: Values of one method, one per pair.
        b: Values of the other method on the same pairs.
        confidence: Coverage of the interval.

    Returns:
        dict: ``mean``, ``sd`` (of the differences), ``n``, ``low``, ``high``
        (nan when n < 2), ``wins`` (pairs with a > b).
    """
    from scipy import stats
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(a) != len(b) or d.size == 0:
        raise ValueError('a and b must be non-empty and of the same length')
    out = dict(mean=float(d.mean()), n=int(d.size),
               wins=int((d > 0).sum()))
    if d.size < 2:
        return dict(out, sd=math.nan, low=math.nan, high=math.nan)
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, d.size - 1)) * sd / \
        math.sqrt(d.size)
    return dict(out, sd=sd, low=out['mean'] - half, high=out['mean'] + half)


def pairs(records: Sequence[Mapping], method_a: str, method_b: str,
          metric: str = 'AP', step: Optional[int] = None
          ) -> Dict[str, List[float]]:
    """``metric`` of two methods on the (data, fine-tuning) seeds that both
    have, in a fixed order: the final value, or the value validated at
    fine-tuning iteration ``step`` of each run's curve."""
    by = {}
    for r in records:
        if step is None:
            value = r['final'][metric]
        else:
            value = next((p[metric] for p in r.get('curve', [])
                          if int(p['step']) == step), None)
        if value is not None:
            by[(r['data_seed'], r['ft_seed'], r['method'])] = value
    keys = sorted({(d, s) for d, s, m in by if m == method_a}
                  & {(d, s) for d, s, m in by if m == method_b})
    return dict(a=[by[k + (method_a, )] for k in keys],
                b=[by[k + (method_b, )] for k in keys], keys=keys)


def summarize(records: Sequence[Mapping], methods: Sequence[str],
              baseline: str, contrasts: Sequence[str],
              confidence: float = 0.95) -> Dict:
    """Per-method mean +- sd of every metric, and paired AP differences
    ``contrast - baseline``."""
    per_method = {}
    for m in methods:
        rows = [r for r in records if r['method'] == m]
        if rows:
            per_method[m] = {k: mean_sd([r['final'][k] for r in rows])
                             for k in METRICS}
    diffs, by_step = {}, {}
    steps = sorted({int(p['step']) for r in records
                    for p in r.get('curve', [])})
    for m in contrasts:
        p = pairs(records, m, baseline)
        if p['a']:
            diffs[m] = paired_difference(p['a'], p['b'], confidence)
        for step in steps:
            p = pairs(records, m, baseline, step=step)
            if p['a']:
                by_step.setdefault(m, {})[str(step)] = paired_difference(
                    p['a'], p['b'], confidence)
    return dict(methods=per_method, differences=diffs,
                differences_by_step=by_step, baseline=baseline,
                confidence=confidence)


def convergence(records: Sequence[Mapping], method: str) -> Dict[int, Dict]:
    """Mean +- sd of AP at each validated fine-tuning iteration."""
    steps: Dict[int, List[float]] = {}
    for r in records:
        if r['method'] == method:
            for point in r.get('curve', []):
                steps.setdefault(int(point['step']), []).append(point['AP'])
    return {s: mean_sd(v) for s, v in sorted(steps.items())}


def _fmt(ms: Mapping[str, float]) -> str:
    if math.isnan(ms['sd']):
        return f'{ms["mean"]:.2f}'
    return f'{ms["mean"]:.2f} +- {ms["sd"]:.2f}'


def markdown_summary(summary: Mapping, labels: Mapping[str, str]) -> str:
    """The study's table: mean +- sd per method, then the paired
    differences with their interval."""
    methods = format_table(
        ['model / score', 'runs', 'AUROC (%)', 'AP (%)', 'FPR95 (%)'],
        [[labels.get(m, m), stats_['AP']['n']] +
         [_fmt(stats_[k]) for k in METRICS]
         for m, stats_ in summary['methods'].items()], style='markdown')
    base = labels.get(summary['baseline'], summary['baseline'])
    conf = int(round(100 * summary['confidence']))
    differences = format_table(
        ['paired AP difference (points)', 'pairs', 'mean', 'sd',
         f'{conf}% t-interval', 'pairs won'],
        [[f'{labels.get(m, m)} - {base}', d['n'], f'{d["mean"]:+.2f}',
          f'{d["sd"]:.2f}', f'[{d["low"]:+.2f}, {d["high"]:+.2f}]',
          f'{d["wins"]}/{d["n"]}']
         for m, d in summary['differences'].items()], style='markdown')
    return methods + '\n\n' + differences


def study_figure(records: Sequence[Mapping], methods: Sequence[str],
                 labels: Mapping[str, str], baseline: str,
                 contrasts: Sequence[str], path: str,
                 colors: Mapping[str, str]) -> str:
    """Left: final AP of every run per method (dots) with mean +- sd; middle:
    paired AP differences to ``baseline``; right: mean AP over fine-tuning
    iterations (convergence). Each method in its colour of ``colors``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    shown = [m for m in methods if any(r['method'] == m for r in records)]
    color = {m: colors.get(m, f'C{i}') for i, m in enumerate(methods)}
    for i, m in enumerate(shown):
        ap = [r['final']['AP'] for r in records if r['method'] == m]
        ax.scatter(np.full(len(ap), i) + np.linspace(-0.12, 0.12, len(ap)),
                   ap, s=18, alpha=0.7, color=color[m])
        ms = mean_sd(ap)
        ax.errorbar(i + 0.25, ms['mean'], yerr=0 if math.isnan(ms['sd'])
                    else ms['sd'], fmt='o', color='k', capsize=4)
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([labels.get(m, m) for m in shown], rotation=15,
                       fontsize=8)
    ax.set_ylabel('AP (%)')
    ax.set_title('final AP per run (dots), mean +- sd')
    ax = axes[1]
    contrasts = [m for m in contrasts if pairs(records, m, baseline)['a']]
    for i, m in enumerate(contrasts):
        p = pairs(records, m, baseline)
        d = np.asarray(p['a']) - np.asarray(p['b'])
        ax.scatter(np.full(d.size, i) + np.linspace(-0.1, 0.1, d.size), d,
                   s=18, color=color[m])
        s = paired_difference(p['a'], p['b'])
        if d.size > 1:
            ax.errorbar(i + 0.22, s['mean'],
                        yerr=[[s['mean'] - s['low']], [s['high'] - s['mean']]],
                        fmt='o', color='k', capsize=4)
    ax.axhline(0, color='grey', lw=0.8)
    ax.set_xlim(-0.6, max(len(contrasts), 1) - 0.4)
    ax.set_xticks(range(len(contrasts)))
    ax.set_xticklabels([f'{labels.get(m, m)}\n- {labels.get(baseline)}'
                        for m in contrasts], fontsize=8)
    ax.set_ylabel('paired AP difference (points)')
    ax.set_title('paired differences, mean and 95% t-interval')
    ax = axes[2]
    for m in shown:
        curve = convergence(records, m)
        if curve:
            steps = list(curve)
            mean = np.array([curve[s]['mean'] for s in steps])
            sd = np.array([0 if math.isnan(curve[s]['sd']) else curve[s]['sd']
                           for s in steps])
            ax.plot(steps, mean, marker='o', label=labels.get(m, m),
                    color=color[m])
            ax.fill_between(steps, mean - sd, mean + sd, alpha=0.15,
                            color=color[m])
    ax.set_xlabel('fine-tuning iteration')
    ax.set_ylabel('AP (%)')
    ax.set_title('AP during fine-tuning (mean +- sd)')
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_val_scalars(work_dir: str) -> List[Dict[str, float]]:
    """The validation metrics an MMEngine training run logged, in step
    order (the ``vis_data/scalars.json`` of its newest timestamp folder)."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        return []
    out = []
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        for line in f:
            entry = json.loads(line)
            if all(k in entry for k in METRICS):
                out.append(dict(step=int(entry['step']),
                                **{k: float(entry[k]) for k in METRICS}))
    return out


def anomaly_class_fractions(inferencer, image_dir: str, label_dir: str,
                            num_classes: int,
                            anomaly_label: int = 1) -> Dict[str, object]:
    """Fraction of test-anomaly pixels the model assigns to each class, over
    every image of a Fishyscapes-layout split.

    Args:
        inferencer: An :class:`~mmseg_be.apis.AnomalyInferencer` of the
            model; its segmentation (MMSeg's ``pred_sem_seg``) is counted.
        image_dir: Folder of the images (``original/``).
        label_dir: Folder of the labels with the same file names.
        num_classes: C, the classes counted.
        anomaly_label: Label value of anomaly pixels.

    Returns:
        dict: ``fractions`` (C floats summing to 1) and ``num_pixels``.
    """
    import cv2
    counts = np.zeros(num_classes, dtype=np.int64)
    for name in sorted(os.listdir(image_dir)):
        img = cv2.imread(osp.join(image_dir, name))  # BGR, as MMSeg's
        label = cv2.imread(osp.join(label_dir, name), cv2.IMREAD_UNCHANGED)
        if img is None or label is None:
            continue
        mask = label == anomaly_label
        if not mask.any():
            continue
        (prediction, ) = inferencer.predict([img])
        counts += np.bincount(prediction.seg[mask],
                              minlength=num_classes)[:num_classes]
    total = int(counts.sum())
    fractions = (counts / total).tolist() if total else [math.nan
                                                         ] * num_classes
    return dict(fractions=fractions, num_pixels=total)


def prior_diagnostics(prior: Sequence[float], gamma: float, m_in: float,
                      m_out: float,
                      fraction: Optional[float] = None) -> Dict[str, object]:
    """The prior as the losses use it: sharpened, its effective number of
    classes (``1 / sum(p**2)``) before and after sharpening, and the scaled
    alpha with its largest margin shift."""
    from mmseg_be.models.losses.prior import (effective_num_classes,
                                              scaled_alpha, sharpened)
    sharp = sharpened(prior, gamma)
    alpha = scaled_alpha(prior, gamma, m_in, m_out, fraction)
    return dict(prior=list(prior), sharpened=sharp,
                effective_classes=effective_num_classes(prior),
                effective_classes_sharpened=effective_num_classes(sharp),
                alpha=alpha, max_shift=alpha * max(sharp),
                gap=m_out - m_in)


def describe(diag: Mapping) -> str:
    """One line of words for :func:`prior_diagnostics` (+ ``test_anomaly``)."""

    def dist(values):
        ranked = sorted(zip(CLASSES, values), key=lambda kv: -kv[1])
        return ', '.join(f'{n} {100 * v:.0f}%' for n, v in ranked if v >= .01)

    text = (f'outlier prior {{{dist(diag["prior"])}}}, effective classes '
            f'(1/sum p^2) {diag["effective_classes"]:.2f}; sharpened '
            f'(gamma 3) {{{dist(diag["sharpened"])}}}, effective classes '
            f'{diag["effective_classes_sharpened"]:.2f}; scaled alpha '
            f'{diag["alpha"]:.2f} (largest margin shift '
            f'{diag["max_shift"]:.2f} of the gap {diag["gap"]:.0f})')
    if 'test_anomaly' in diag:
        fractions = dist(diag['test_anomaly']['fractions'])
        text += ('; test-anomaly pixels as the in-distribution model '
                 f'classifies them {{{fractions}}}')
    return text


def read_diagnostics(path: str) -> Dict:
    """A ``diagnostics.json`` with its :func:`describe` line as ``text``."""
    with open(path) as f:
        diag = json.load(f)
    return dict(diag, text=describe(diag))
