"""Figures and summaries of a finished test run (``tools/test.py --figures``).

Works with mmengine's ``TestLoop`` (one benchmark, named by
:func:`single_benchmark_name`) and with
:class:`~mmseg_be.engine.MultiDatasetTestLoop` (one benchmark per entry,
metrics prefixed ``name/``). The curves come from the ``PixelOODMetric`` of
each benchmark's evaluator.
"""
import json
import logging
import numbers
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from ..evaluation import PixelOODMetric
from .figures import curve_from_result, write_figures
from .summary import write_summary


def _benchmarks(runner) -> List[Tuple[str, Any]]:
    """(name, evaluator) of every benchmark of the run's test loop."""
    loop = runner.test_loop
    if hasattr(loop, 'benchmarks'):
        return [(b['name'], b['evaluator']) for b in loop.benchmarks]
    return [(single_benchmark_name(runner), loop.evaluator)]


def single_benchmark_name(runner) -> str:
    """The title of a one-benchmark run's figure and summary rows.

    The test dataset's ``benchmark_name`` when its metainfo has one (a
    config names its split: ``metainfo=dict(benchmark_name=...)``); else its
    class name when it is one of the project's benchmark
    datasets (a subclass of ``OODBenchmarkDataset``, e.g.
    ``FishyscapesLostAndFoundDataset``); otherwise the config file's name
    (``toy_ood`` for ``toy_ood.py``), since a generic class such as
    ``BaseSegDataset`` names no benchmark; ``'test'`` without either.
    """
    from mmseg_be.datasets import OODBenchmarkDataset
    dataset = getattr(getattr(runner.test_loop, 'dataloader', None),
                      'dataset', None)
    named = getattr(dataset, 'metainfo', None) or {}
    if named.get('benchmark_name'):
        return str(named['benchmark_name'])
    if isinstance(dataset, OODBenchmarkDataset) and (
            type(dataset) is not OODBenchmarkDataset):
        return type(dataset).__name__
    filename = getattr(getattr(runner, 'cfg', None), 'filename', None)
    if filename:
        return osp.splitext(osp.basename(filename))[0]
    return 'test'


def _curve_source(evaluator) -> Optional[Mapping[str, Any]]:
    """The thinned curves of the evaluator's ``PixelOODMetric``
    (:attr:`~mmseg_be.evaluation.PixelOODMetric.last_curves`), in the
    accumulator's result format (``roc_curve``, ``pr_curve``)."""
    for metric in getattr(evaluator, 'metrics', []):
        if not isinstance(metric, PixelOODMetric):
            continue
        curves = metric.last_curves
        if curves is not None and curves['roc'] is not None:
            return dict(roc_curve=curves['roc'], pr_curve=curves['pr'])
    return None


def split_metrics(metrics: Mapping[str, Any],
                  names: List[str]) -> Dict[str, Dict[str, float]]:
    """Per-benchmark scalar metrics from a test run's metrics dict.

    Args:
        metrics: What ``runner.test()`` returned (keys ``name/metric`` in a
            multi-benchmark run).
        names: Benchmark names; a single benchmark takes unprefixed keys.

    Returns:
        dict: Benchmark -> {metric: value} (scalars only).
    """
    out: Dict[str, Dict[str, float]] = {n: {} for n in names}
    for key, value in metrics.items():
        if not isinstance(value, numbers.Real):
            continue
        prefix, _, short = key.partition('/')
        if short and prefix in out:
            out[prefix][short] = float(value)
        elif len(names) == 1:
            out[names[0]][key] = float(value)
    return out


def write_curves_json(curves: Mapping[str, Mapping[str, Mapping[str, Any]]],
                      path: str) -> str:
    """Save thinned curves (benchmark -> method -> curve) as JSON, so runs
    of several models can be drawn in one figure later
    (:func:`load_curves_json` + :func:`~.figures.write_figures`)."""
    plain = {
        bench: {method: {k: np.asarray(v).tolist() if not isinstance(
            v, numbers.Number) else float(v) for k, v in curve.items()}
                for method, curve in methods.items()}
        for bench, methods in curves.items()
    }
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(plain, f)
    return path


def load_curves_json(path: str) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """Read a file written by :func:`write_curves_json`."""
    with open(path) as f:
        return json.load(f)


def write_test_report(runner, metrics: Mapping[str, Any], out_dir: str,
                      method: str) -> List[str]:
    """Write ROC/PR figures and ``metrics_summary.{md,csv,json}``.

    Args:
        runner: The runner after ``runner.test()``.
        metrics: The metrics ``runner.test()`` returned.
        out_dir: Output folder.
        method: Method name (a row label and the legend entry).

    Returns:
        list[str]: Written files.
    """
    benchmarks = _benchmarks(runner)
    names = [name for name, _ in benchmarks]
    table = split_metrics(metrics or {}, names)
    curves = {}
    for name, evaluator in benchmarks:
        source = _curve_source(evaluator)
        if source is None:
            print_log(f'No ROC/PR curves for {name}: its evaluator has no '
                      f'PixelOODMetric with anomaly and inlier pixels.',
                      logger='current', level=logging.WARNING)
            continue
        curve = curve_from_result(source)
        # The legend shows the run's reported numbers.
        curve.update({k: v for k, v in table[name].items()
                      if k in ('AUROC', 'AP', 'FPR95')})
        curves[name] = {method: curve}
    written = list(write_figures(curves, out_dir).values())
    written.append(write_curves_json(curves, osp.join(out_dir,
                                                      'curves.json')))
    written += list(write_summary({n: {method: table[n]} for n in names},
                                  out_dir).values())
    return [osp.abspath(p) for p in written]
