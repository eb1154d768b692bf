"""ROC and precision-recall figures, one PNG per benchmark (matplotlib Agg).

A curve is a mapping with the arrays ``fpr``, ``tpr`` (ROC), ``precision``,
``recall`` (PR), all fractions, and optionally the scalars ``AUROC``, ``AP``,
``FPR95`` in percent (as MMSeg metrics report them) for the legend;
:func:`curve_from_result` builds one from
:meth:`mmseg_be.evaluation.PixelOODAccumulator.compute`'s result. Several
curves per figure compare methods.
"""
import os
import os.path as osp
import re
from typing import Any, Dict, Mapping, Optional

import numpy as np

CURVE_KEYS = ('fpr', 'tpr', 'precision', 'recall')


def legend_label(name: str, curve: Mapping[str, Any]) -> str:
    """``'name (AUROC 98.10, AP 55.20, FPR95 4.80)'`` (values in percent)."""
    parts = [f'{key} {float(curve[key]):.2f}'
             for key in ('AUROC', 'AP', 'FPR95') if curve.get(key) is not None]
    return f'{name} ({", ".join(parts)})' if parts else name


def safe_name(text: str) -> str:
    """A file-name-safe version of a benchmark name."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', text).strip('_') or 'benchmark'


def plot_roc_pr(benchmark: str,
                curves: Mapping[str, Mapping[str, Any]],
                out_path: str,
                dpi: int = 100,
                low_fpr: float = 0.2,
                colors: Optional[Mapping[str, Any]] = None) -> str:
    """Save :func:`roc_pr_figure` as a PNG (folders are created).

    Returns:
        str: ``out_path``.
    """
    fig = roc_pr_figure(benchmark, curves, dpi, low_fpr, colors)
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    fig.savefig(out_path)
    return out_path


def pr_top(curves: Mapping[str, Mapping[str, Any]],
           min_recall: float = 0.01) -> float:
    """Upper end of the precision axis: 10% above the highest precision
    any curve reaches at a recall of at least ``min_recall`` (the first
    detections' precision is one or two pixels' luck), at most 1.01."""
    top = 0.0
    for curve in curves.values():
        recall = np.asarray(curve['recall'], dtype=float)
        precision = np.asarray(curve['precision'], dtype=float)
        kept = precision[recall >= min_recall]
        if kept.size:
            top = max(top, float(kept.max()))
    return min(1.01, 1.1 * top) if top > 0 else 1.01


def roc_pr_figure(benchmark: str,
                  curves: Mapping[str, Mapping[str, Any]],
                  dpi: int = 100,
                  low_fpr: float = 0.2,
                  colors: Optional[Mapping[str, Any]] = None):
    """The ROC and PR curves of one benchmark side by side.

    Left: the ROC curve with a log-scaled false positive rate between
    ``1e-4`` and ``low_fpr`` (the low-FPR part is where detectors differ;
    the full curve is the AUROC), with the 95% TPR line. Middle: the full
    linear ROC. Right: precision-recall, its precision axis scaled to the
    curves (:func:`pr_top`). The legend with each method's AUROC/AP/FPR95
    sits below the axes, so it never hides a curve.

    Args:
        benchmark: Title of the figure (e.g. ``'Fishyscapes L&F val'``).
        curves: Method name -> curve mapping (see the module docstring).
        dpi: Resolution.
        low_fpr: Right end of the log-scaled low-FPR ROC.
        colors: Optional method name -> matplotlib colour, to keep one
            colour per method across figures; others take the colour cycle.

    Returns:
        matplotlib.figure.Figure: The drawn figure (Agg canvas).
    """
    if not curves:
        raise ValueError(f'No curves to plot for {benchmark!r}.')
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure with no pyplot state: safe in threads and headless.
    fig = Figure(figsize=(13, 4.6 + 0.25 * len(curves)), dpi=dpi,
                 layout='constrained')
    FigureCanvasAgg(fig)
    ax_low, ax_roc, ax_pr = fig.subplots(1, 3)
    handles = []
    for name, curve in curves.items():
        missing = [k for k in CURVE_KEYS if k not in curve]
        if missing:
            raise ValueError(f'Curve {name!r} of {benchmark!r} lacks '
                             f'{missing}; it needs {CURVE_KEYS}.')
        fpr, tpr = np.asarray(curve['fpr']), np.asarray(curve['tpr'])
        (line, ) = ax_roc.plot(fpr, tpr, linewidth=1.5,
                               label=legend_label(name, curve),
                               color=(colors or {}).get(name))
        handles.append(line)
        ax_low.plot(fpr, tpr, linewidth=1.5, color=line.get_color())
        ax_pr.plot(np.asarray(curve['recall']),
                   np.asarray(curve['precision']), linewidth=1.5,
                   drawstyle='steps-post', color=line.get_color())
    chance = np.logspace(-4, 0, 50)
    ax_low.plot(chance, chance, color='0.6', linestyle=':', linewidth=1)
    ax_roc.plot([0, 1], [0, 1], color='0.6', linestyle=':', linewidth=1)
    for ax in (ax_low, ax_roc):
        ax.axhline(0.95, color='0.6', linestyle='--', linewidth=0.8)
    ax_low.set_xscale('log')
    ax_low.set(xlabel='false positive rate (log)',
               ylabel='true positive rate', xlim=(1e-4, low_fpr),
               ylim=(0, 1.01), title=f'ROC, FPR < {low_fpr:g}')
    ax_roc.set(xlabel='false positive rate', ylabel='true positive rate',
               title='ROC', xlim=(0, 1), ylim=(0, 1.01))
    ax_pr.set(xlabel='recall', ylabel='precision', title='Precision-recall',
              xlim=(0, 1), ylim=(0, pr_top(curves)))
    for ax in (ax_low, ax_roc, ax_pr):
        ax.grid(alpha=0.3)
    ax_low.text(1.2e-4, 0.955, '95% TPR', fontsize=7, color='0.4',
                va='bottom')
    fig.suptitle(benchmark)
    fig.legend(handles=handles, loc='outside lower center',
               ncols=1 if len(handles) > 2 else len(handles), fontsize=9,
               frameon=False)
    fig.canvas.draw()
    return fig


def write_figures(results: Mapping[str, Mapping[str, Mapping[str, Any]]],
                  out_dir: str,
                  dpi: int = 100,
                  colors: Optional[Mapping[str, Any]] = None
                  ) -> Dict[str, str]:
    """One ROC/PR figure per benchmark.

    Args:
        results: Benchmark -> method -> curve mapping.
        out_dir: Folder for ``roc_pr_{benchmark}.png``.
        dpi: Resolution of the PNGs.
        colors: Optional method name -> colour (see :func:`roc_pr_figure`).

    Returns:
        dict: Benchmark -> written file.
    """
    return {
        benchmark: plot_roc_pr(
            benchmark, curves,
            osp.join(out_dir, f'roc_pr_{safe_name(benchmark)}.png'), dpi,
            colors=colors)
        for benchmark, curves in results.items()
    }


def curve_from_result(result: Mapping[str, Any]) -> Dict[str, Any]:
    """The plot mapping of an accumulator result (metrics as fractions).

    Args:
        result: ``PixelOODAccumulator.compute()`` output: ``roc_curve``
            (``fpr``, ``tpr``), ``pr_curve`` (``recall``, ``precision``) and
            ``AUROC``/``AP``/``FPR95`` as fractions.

    Returns:
        dict: Curve arrays plus the metrics in percent.
    """
    if result.get('roc_curve') is None or result.get('pr_curve') is None:
        raise ValueError('The result has no curves (no anomaly or no inlier '
                         'pixels were evaluated).')
    roc, pr = result['roc_curve'], result['pr_curve']
    return dict(fpr=np.asarray(roc['fpr']), tpr=np.asarray(roc['tpr']),
                precision=np.asarray(pr['precision']),
                recall=np.asarray(pr['recall']),
                **{k: 100.0 * float(result[k])
                   for k in ('AUROC', 'AP', 'FPR95') if k in result})
