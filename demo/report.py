"""Results table and ``report.md`` of the demo (``tools/demo.py``)."""
import json
import math
import os.path as osp
from typing import Dict, List, Mapping, Sequence

from mmseg_be.utils.table import format_table
from mmseg_be.visualization.figures import write_figures
from mmseg_be.visualization.report import load_curves_json

from .settings import REPO

METRICS = ('AUROC', 'AP', 'FPR95')
#: The seed study's summary (tools/demo_study.py), kept with the docs.
STUDY_JSON = osp.join(REPO, 'docs', 'demo_study.json')


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
                    title: str, colors: Mapping[str, str]) -> str:
    """Draw every evaluation's ROC and PR curves in one figure, each in
    its method's colour."""
    curves = {}
    for name, folder in eval_dirs.items():
        for methods in load_curves_json(osp.join(folder,
                                                 'curves.json')).values():
            for curve in methods.values():
                curves[name] = curve
    return write_figures({title: curves}, out_dir, colors=colors)[title]


def markdown_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """The results as a Markdown table (report.md)."""
    return format_table(['model / score'] + [f'{k} (%)' for k in METRICS],
                        _cells(rows), style='markdown')


def terminal_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """The results as a plain-text table (the terminal)."""
    return format_table(['model / score', *METRICS], _cells(rows))


def _cells(rows: Mapping[str, Mapping[str, float]]) -> List[list]:
    return [[name, *(float(m[k]) for k in METRICS)]
            for name, m in rows.items()]


#: The demo's targets for a model fine-tuned with outliers (percent).
TARGET_AUROC, TARGET_AP = 95.0, 40.0


def checks(rows: Mapping[str, Mapping[str, float]],
           finetuned: Sequence[str], inlier_max_logit: str) -> List[str]:
    """The demo's targets, evaluated on this run's numbers: each model
    fine-tuned with pasted outliers reaches AUROC >= 95% and AP >= 40% and
    beats the in-distribution model's max logit in AP."""
    finite = all(math.isfinite(v) for m in rows.values() for v in m.values())
    lines = [f'{"PASS" if finite else "FAIL"}: every metric is finite']
    base = rows[inlier_max_logit]['AP']
    for name in finetuned:
        m = rows[name]
        ok = m['AUROC'] >= TARGET_AUROC and m['AP'] >= TARGET_AP
        lines.append(
            f'{"PASS" if ok else "FAIL"}: {name}: AUROC {m["AUROC"]:.2f}% '
            f'(target >= {TARGET_AUROC:.0f}%), AP {m["AP"]:.2f}% (target >= '
            f'{TARGET_AP:.0f}%)')
        lines.append(
            f'{"PASS" if m["AP"] > base else "FAIL"}: {name}: AP '
            f'{m["AP"]:.2f}% > in-distribution max-logit AP {base:.2f}%')
    return lines


def spread_note(rows: Mapping[str, Mapping[str, float]], balanced: str,
                vanilla: str, finetune_iters: int,
                study_json: str = STUDY_JSON) -> str:
    """This run's AP difference set against the seed spread of the study
    (``tools/demo_study.py``; its summary is kept in ``docs/``): the
    study's paired difference at the same fine-tuning iteration when its
    curves have that point, else at the end of its schedule (said so)."""
    diff = rows[balanced]['AP'] - rows[vanilla]['AP']
    head = (f'This run: balanced - vanilla energy AP = {diff:+.2f} points '
            f'after {finetune_iters} fine-tuning iterations (one data seed, '
            'one fine-tuning seed).')
    if not osp.isfile(study_json):
        return head + ' No seed study found to compare with.'
    with open(study_json) as f:
        summary = json.load(f)
    d = summary.get('differences_by_step', {}).get(
        'balanced_energy', {}).get(str(finetune_iters))
    if d is not None:
        where = (f'at fine-tuning iteration {finetune_iters} of its '
                 f'{summary.get("finetune_iters", "?")}-iteration runs')
    else:
        d = summary['differences']['balanced_energy']
        where = (f'at the end of its {summary.get("finetune_iters", "?")}-'
                 'iteration runs (no point at this run\'s length)')
    within = abs(diff - d['mean']) <= 2 * d['sd']
    return (f'{head} The seed study (docs/demo.md: {d["n"]} pairs of data '
            f'and fine-tuning seeds, the same data sizes) measured this '
            f'difference {where} at {d["mean"]:+.2f} +- {d["sd"]:.2f} points '
            f'(mean +- sd; 95% interval [{d["low"]:+.2f}, '
            f'{d["high"]:+.2f}]). '
            + ('This run is within two sd of that mean: a single run\'s '
               'ranking is within the seed spread and says nothing on its '
               'own about which loss is better.' if within else
               'This run lies more than two sd from that mean; even so, '
               'one run cannot rank the losses: only the study can.'))


def write_report(path: str, rows: Mapping[str, Mapping[str, float]],
                 figure: str, heatmaps: Sequence[str],
                 timings: Mapping[str, float], check_lines: Sequence[str],
                 export_dir: str, settings: str,
                 notes: Sequence[str] = ()) -> str:
    """Write the demo's ``report.md`` (paths relative to its folder)."""
    root = osp.dirname(osp.abspath(path))
    rel = [osp.relpath(p, root) for p in [figure, *heatmaps]]
    parts = [
        '# mmseg_be demo report', '',
        f'Settings: {settings}', '',
        '## Anomaly segmentation on the synthetic anomaly split', '',
        markdown_table(rows), '', *[f'- {c}' for c in check_lines], '',
        *[line for n in notes for line in (n, '')],
        f'![ROC and PR curves]({rel[0]})', '',
        '## Anomaly maps of the balanced-energy model', '',
        *[f'![heat map]({p})' for p in rel[1:]], '',
        '## Submission export', '',
        f'SegmentMeIfYouCan-format HDF5 files: `{osp.relpath(export_dir, root)}`',
        '', '## Time per stage (s)', '',
        format_table(['stage', 'seconds'],
                     [[k, f'{v:.1f}'] for k, v in timings.items()] +
                     [['total', f'{sum(timings.values()):.1f}']],
                     style='markdown'), ''
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(parts))
    return path
