"""Metrics summaries as Markdown, CSV and JSON.

Input: benchmark -> method -> {metric name: value}. Every writer lists the
rows in the given order and the metric columns in first-seen order, so the
three files always agree.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Mapping, Sequence

from mmseg_be.utils.table import format_table

Results = Mapping[str, Mapping[str, Mapping[str, float]]]


def metric_columns(results: Results) -> List[str]:
    """All metric names, in first-seen order."""
    columns: List[str] = []
    for methods in results.values():
        for metrics in methods.values():
            for key in metrics:
                if key not in columns:
                    columns.append(key)
    return columns


def _rows(results: Results, columns: Sequence[str]) -> List[list]:
    return [[benchmark, method] + [metrics.get(c) for c in columns]
            for benchmark, methods in results.items()
            for method, metrics in methods.items()]


def to_markdown(results: Results, digits: int = 2) -> str:
    """A Markdown table, one row per (benchmark, method).

    Args:
        results: Benchmark -> method -> metrics.
        digits: Decimals of float values.

    Returns:
        str: The table, ending with a newline.
    """
    columns = metric_columns(results)
    return format_table(['benchmark', 'method'] + columns,
                        _rows(results, columns), style='markdown',
                        digits=digits, numeric_from=2) + '\n'


def write_summary(results: Results, out_dir: str,
                  stem: str = 'metrics_summary',
                  digits: int = 2) -> Dict[str, str]:
    """Write ``{stem}.md``, ``{stem}.csv`` and ``{stem}.json``.

    Args:
        results: Benchmark -> method -> metrics.
        out_dir: Output folder (created).
        stem: File name without suffix.
        digits: Decimals in the Markdown table (CSV and JSON keep full
            precision).

    Returns:
        dict: Format (``'md'``, ``'csv'``, ``'json'``) -> written path.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {ext: osp.join(out_dir, f'{stem}.{ext}')
             for ext in ('md', 'csv', 'json')}
    with open(paths['md'], 'w') as f:
        f.write(to_markdown(results, digits))
    columns = metric_columns(results)
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['benchmark', 'method'] + columns)
        for row in _rows(results, columns):
            writer.writerow(['' if v is None else v for v in row])
    with open(paths['json'], 'w') as f:
        json.dump({b: {m: dict(v) for m, v in methods.items()}
                   for b, methods in results.items()}, f, indent=2,
                  default=float)
        f.write('\n')
    return paths
