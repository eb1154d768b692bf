"""ROC/PR figures and Markdown/CSV/JSON summaries."""
import csv
import json
import os

import cv2
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import mmseg_be  # noqa: F401
from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator
from mmseg_be.visualization.figures import (curve_from_result, legend_label,
                                            write_figures)
from mmseg_be.visualization.summary import to_markdown, write_summary


def accumulator_result(seed: int):
    rng = np.random.default_rng(seed)
    labels = (rng.random((2, 20, 30)) < 0.2).astype(np.uint8)
    scores = rng.normal(size=labels.shape) + 1.5 * labels
    acc = PixelOODAccumulator()
    for s, lab in zip(scores, labels):
        acc.update(s, lab)
    return acc.compute(), scores, labels


def test_roc_pr_figures(tmp_path):
    result, scores, labels = accumulator_result(0)
    curve = curve_from_result(result)
    # Metrics go to the legend in percent.
    assert curve['AUROC'] == pytest.approx(
        100 * roc_auc_score(labels.ravel(), scores.ravel()))
    assert np.all(np.diff(curve['fpr']) >= 0)
    other = curve_from_result(accumulator_result(1)[0])
    written = write_figures(
        {'Toy L&F': {'energy': curve, 'max-logit': other},
         'toy/static': {'energy': curve}}, str(tmp_path), dpi=50)
    assert set(written) == {'Toy L&F', 'toy/static'}
    assert written['toy/static'].endswith('roc_pr_toy_static.png')
    for path in written.values():
        img = cv2.imread(path)
        # 13 x (4.6 + 0.25 per method) inches at 50 dpi
        assert img is not None and img.shape[1] == 650
        assert img.shape[0] in (242, 255)
        assert img.std() > 5  # something was drawn


def test_legend_label():
    label = legend_label('energy', dict(AUROC=98.123, AP=55.2, FPR95=4.8))
    assert label == 'energy (AUROC 98.12, AP 55.20, FPR95 4.80)'
    assert legend_label('x', {}) == 'x'


def test_curve_without_anomalies_is_refused():
    with pytest.raises(ValueError, match='no curves'):
        curve_from_result(dict(roc_curve=None, pr_curve=None))


def test_summary_formats_agree(tmp_path):
    results = {
        'fs_lost_and_found': {'balanced_energy': dict(AUROC=98.5, AP=60.25,
                                                       FPR95=3.5)},
        'road_anomaly': {'balanced_energy': dict(AUROC=90.0, AP=45.0,
                                                  FPR95=30.125,
                                                  mean_F1=12.5)},
    }
    paths = write_summary(results, str(tmp_path))
    assert json.load(open(paths['json'])) == results
    rows = list(csv.reader(open(paths['csv'])))
    assert rows[0] == ['benchmark', 'method', 'AUROC', 'AP', 'FPR95',
                       'mean_F1']
    assert rows[1] == ['fs_lost_and_found', 'balanced_energy', '98.5',
                       '60.25', '3.5', '']
    assert float(rows[2][5]) == 12.5
    md = open(paths['md']).read().splitlines()
    assert md[0] == '| benchmark | method | AUROC | AP | FPR95 | mean_F1 |'
    assert md[2] == ('| fs_lost_and_found | balanced_energy | 98.50 | 60.25 '
                     '| 3.50 | - |')
    assert to_markdown(results, digits=1).splitlines()[3].endswith(
        '| 30.1 | 12.5 |')


def fake_runner(dataset, config_file):
    """What write_test_report reads of a runner after a one-benchmark test."""
    from types import SimpleNamespace
    from mmseg_be.evaluation import PixelOODMetric
    result = accumulator_result(0)[0]
    # A metric after an evaluation: its last_curves hold the curves.
    metric = type('EvaluatedMetric', (PixelOODMetric, ), dict(
        last_curves=dict(roc=result['roc_curve'], pr=result['pr_curve'])))()
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset),
                           evaluator=SimpleNamespace(metrics=[metric]))
    return SimpleNamespace(test_loop=loop,
                           cfg=SimpleNamespace(filename=config_file))


def test_one_benchmark_run_is_named_by_benchmark_or_config(tmp_path):
    from mmseg.datasets import BaseSegDataset

    from mmseg_be.datasets import FishyscapesLostAndFoundDataset
    from mmseg_be.visualization.report import (single_benchmark_name,
                                               write_test_report)

    # A generic dataset class names no benchmark: the config's name does.
    generic = object.__new__(BaseSegDataset)
    runner = fake_runner(generic, '/work/vis_demo/toy_ood.py')
    assert single_benchmark_name(runner) == 'toy_ood'
    written = write_test_report(runner, dict(AUROC=81.5, AP=40.0),
                                str(tmp_path), 'toy_energy')
    names = sorted(os.path.basename(p) for p in written)
    assert 'roc_pr_toy_ood.png' in names
    assert not any('BaseSegDataset' in n for n in names)
    summary = json.load(open(tmp_path / 'metrics_summary.json'))
    assert summary == {'toy_ood': {'toy_energy': dict(AUROC=81.5, AP=40.0)}}
    # A benchmark dataset of the project keeps its class name.
    laf = object.__new__(FishyscapesLostAndFoundDataset)
    assert single_benchmark_name(fake_runner(laf, '/c/x.py')) == (
        'FishyscapesLostAndFoundDataset')
    assert single_benchmark_name(fake_runner(None, None)) == 'test'
    # A config that names its split (metainfo benchmark_name) is named so,
    # whatever the class that reads it.
    named = object.__new__(FishyscapesLostAndFoundDataset)
    named._metainfo = dict(classes=('inlier', 'anomaly'),
                           benchmark_name='synthetic anomaly split')
    assert single_benchmark_name(fake_runner(named, '/c/x.py')) == (
        'synthetic anomaly split')
