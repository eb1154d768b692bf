"""ROC and precision-recall figures, one PNG per benchmark (matplotlib Agg).

A curve is a mapping with the arrays ``fpr``, ``tpr`` (ROC), ``precision``,
``recall`` (PR) and the scalars ``AUROC``, ``AP``, ``FPR95`` (fractions in
[0, 1] or percentages; they are shown as percentages), as produced by
:func:`curves_from_metric`. Several curves per figure compare methods.
"""
import os
import os.path as osp
import re
from typing import Any, Dict, Mapping, Optional

import numpy as np

CURVE_KEYS = ('fpr', 'tpr', 'precision', 'recall')


def _percent(value: float) -> float:
    # The evaluator reports percentages; curve dicts built by hand may hold
    # fractions. Values <= 1 are taken as fractions.
    return 100.0 * value if value <= 1.0 else value


def legend_label(name: str, curve: Mapping[str, Any]) -> str:
    """``'name (AUROC 98.1, AP 55.2, FPR95 4.8)'`` from a curve's metrics."""
    parts = [f'{key} {_percent(float(curve[key])):.2f}'
             for key in ('AUROC', 'AP', 'FPR95') if curve.get(key) is not None]
    return f'{name} ({", ".join(parts)})' if parts else name


def safe_name(text: str) -> str:
    """A file-name-safe version of a benchmark name."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', text).strip('_') or 'benchmark'


def plot_roc_pr(benchmark: str,
                curves: Mapping[str, Mapping[str, Any]],
                out_path: str,
                dpi: int = 100) -> str:
    """Draw the ROC and PR curves of one benchmark side by side.

    Args:
        benchmark: Title of the figure (e.g. ``'Fishyscapes L&F val'``).
        curves: Method name -> curve mapping (see the module docstring).
        out_path: PNG file to write (folders are created).
        dpi: Resolution of the PNG.

    Returns:
        str: ``out_path``.
    """
    if not curves:
        raise ValueError(f'No curves to plot for {benchmark!r}.')
    import matplotlib
    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure

    # A bare Figure with no pyplot state: safe in threads and headless.
    fig = Figure(figsize=(10, 4.2), dpi=dpi)
    ax_roc, ax_pr = fig.subplots(1, 2)
    for name, curve in curves.items():
        missing = [k for k in CURVE_KEYS if k not in curve]
        if missing:
            raise ValueError(f'Curve {name!r} of {benchmark!r} lacks '
                             f'{missing}; it needs {CURVE_KEYS}.')
        label = legend_label(name, curve)
        ax_roc.plot(np.asarray(curve['fpr']), np.asarray(curve['tpr']),
                    label=label, linewidth=1.5)
        ax_pr.plot(np.asarray(curve['recall']),
                   np.asarray(curve['precision']), label=label,
                   linewidth=1.5, drawstyle='steps-post')
    ax_roc.plot([0, 1], [0, 1], color='0.7', linestyle=':', linewidth=1)
    ax_roc.axhline(0.95, color='0.7', linestyle='--', linewidth=0.8)
    ax_roc.set(xlabel='false positive rate', ylabel='true positive rate',
               title=f'ROC: {benchmark}', xlim=(0, 1), ylim=(0, 1.01))
    ax_pr.set(xlabel='recall', ylabel='precision',
              title=f'Precision-recall: {benchmark}', xlim=(0, 1),
              ylim=(0, 1.01))
    for ax in (ax_roc, ax_pr):
        ax.grid(alpha=0.3)
        ax.legend(loc='lower right' if ax is ax_roc else 'upper right',
                  fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    fig.savefig(out_path)
    return out_path


def write_figures(results: Mapping[str, Mapping[str, Mapping[str, Any]]],
                  out_dir: str,
                  dpi: int = 100) -> Dict[str, str]:
    """One ROC/PR figure per benchmark.

    Args:
        results: Benchmark -> method -> curve mapping.
        out_dir: Folder for ``roc_pr_{benchmark}.png``.
        dpi: Resolution of the PNGs.

    Returns:
        dict: Benchmark -> written file.
    """
    return {
        benchmark: plot_roc_pr(
            benchmark, curves,
            osp.join(out_dir, f'roc_pr_{safe_name(benchmark)}.png'), dpi)
        for benchmark, curves in results.items()
    }


def curve_from_arrays(fpr: np.ndarray, tpr: np.ndarray,
                      precision: np.ndarray, recall: np.ndarray,
                      metrics: Optional[Mapping[str, float]] = None
                      ) -> Dict[str, Any]:
    """Bundle curve arrays and metrics into the mapping the plots take."""
    curve: Dict[str, Any] = dict(fpr=np.asarray(fpr), tpr=np.asarray(tpr),
                                 precision=np.asarray(precision),
                                 recall=np.asarray(recall))
    for key, value in (metrics or {}).items():
        curve[key] = value
    return curve
