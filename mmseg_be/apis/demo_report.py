"""Results table and ``report.md`` of the demo (tools/demo.py)."""
import json
import math
import os.path as osp
from typing import Dict, List, Mapping, Sequence

from mmseg_be.visualization.figures import write_figures
from mmseg_be.visualization.report import load_curves_json

METRICS = ('AUROC', 'AP', 'FPR95')


def collect(eval_dirs: Mapping[str, str]) -> Dict[str, Dict[str, float]]:
    """Read each evaluation's ``metrics_summary.json`` (one benchmark each).

    Args:
        eval_dirs: Row name -> folder written by ``tools/test.py --figures``.

    Returns:
        dict: Row name -> {metric: value in percent}.
    """
    rows = {}
    for name, folder in eval_dirs.items():
        with open(osp.join(folder, 'metrics_summary.json')) as f:
            summary = json.load(f)
        (methods, ) = summary.values()  # one benchmark per run
        (metrics, ) = methods.values()
        rows[name] = {k: float(metrics[k]) for k in METRICS}
    return rows


def combined_figure(eval_dirs: Mapping[str, str], out_dir: str,
                    title: str) -> str:
    """Draw every evaluation's ROC and PR curves in one figure."""
    curves = {}
    for name, folder in eval_dirs.items():
        for methods in load_curves_json(osp.join(folder,
                                                 'curves.json')).values():
            for curve in methods.values():
                curves[name] = curve
    return write_figures({title: curves}, out_dir)[title]


def markdown_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    lines = ['| model / score | AUROC (%) | AP (%) | FPR95 (%) |',
             '|---|---|---|---|']
    for name, m in rows.items():
        lines.append(f'| {name} | ' + ' | '.join(f'{m[k]:.2f}'
                                                 for k in METRICS) + ' |')
    return '\n'.join(lines)


def terminal_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    width = max(len(n) for n in rows)
    head = f'{"model / score":<{width}}  {"AUROC":>7}  {"AP":>7}  {"FPR95":>7}'
    lines = [head, '-' * len(head)]
    for name, m in rows.items():
        lines.append(f'{name:<{width}}  ' + '  '.join(
            f'{m[k]:7.2f}' for k in METRICS))
    return '\n'.join(lines)


def checks(rows: Mapping[str, Mapping[str, float]], balanced: str,
           inlier_max_logit: str) -> List[str]:
    """The demo's targets, evaluated on this run's numbers."""
    b, base = rows[balanced], rows[inlier_max_logit]
    finite = all(math.isfinite(v) for m in rows.values() for v in m.values())
    return [
        f'{"PASS" if finite else "FAIL"}: every metric is finite',
        f'{"PASS" if b["AUROC"] >= 90 else "FAIL"}: balanced energy AUROC '
        f'{b["AUROC"]:.2f}% >= 90%',
        f'{"PASS" if b["AP"] > base["AP"] else "FAIL"}: balanced energy AP '
        f'{b["AP"]:.2f}% > in-distribution max-logit AP {base["AP"]:.2f}%',
    ]


def write_report(path: str, rows: Mapping[str, Mapping[str, float]],
                 figure: str, heatmaps: Sequence[str],
                 timings: Mapping[str, float], check_lines: Sequence[str],
                 export_dir: str, settings: str) -> str:
    """Write the demo's ``report.md`` (paths relative to its folder)."""
    root = osp.dirname(osp.abspath(path))
    rel = [osp.relpath(p, root) for p in [figure, *heatmaps]]
    parts = [
        '# mmseg_be demo report', '',
        f'Settings: {settings}', '',
        '## Anomaly segmentation on the synthetic anomaly split', '',
        markdown_table(rows), '', *[f'- {c}' for c in check_lines], '',
        f'![ROC and PR curves]({rel[0]})', '',
        '## Anomaly maps of the balanced-energy model', '',
        *[f'![heat map]({p})' for p in rel[1:]], '',
        '## Submission export', '',
        f'SegmentMeIfYouCan-format HDF5 files: `{osp.relpath(export_dir, root)}`',
        '', '## Time per stage (s)', '',
        '| stage | seconds |', '|---|---|',
        *[f'| {k} | {v:.1f} |' for k, v in timings.items()],
        f'| total | {sum(timings.values()):.1f} |', ''
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(parts))
    return path
