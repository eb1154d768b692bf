"""AnomalyScoreHook hands the config's one score setting to every user."""
from types import SimpleNamespace

import pytest
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg_be.engine import AnomalyScoreHook, anomaly_score_of_config
from mmseg_be.evaluation import PixelOODMetric
from mmseg_be.export import SubmissionExportHook
from mmseg_be.visualization import AnomalyVisualizer


def test_hook_sets_metric_visualizer_and_export_hook(tmp_path):
    metric = PixelOODMetric(score='max_logit')      # an own, older setting
    visualizer = AnomalyVisualizer(name='score_hook_vis')
    export = SubmissionExportHook(str(tmp_path), 'm', dataset='X-all')
    setting = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
    runner = SimpleNamespace(
        cfg=Config(dict(anomaly_score=setting)), visualizer=visualizer,
        hooks=[export], _val_loop=None,
        _test_loop=SimpleNamespace(
            evaluator=SimpleNamespace(metrics=[metric])))
    AnomalyScoreHook().before_run(runner)
    expected = dict(name='energy', temperature=1.0, smooth_kernel=7,
                    smooth_sigma=1.0, num_classes=None)
    for user in (metric, visualizer, export):
        assert user.anomaly_score == expected


def test_config_setting_and_fallback_to_an_older_evaluator():
    assert anomaly_score_of_config(Config(dict())) is None
    old = Config(dict(test_evaluator=dict(type='PixelOODMetric',
                                          score='max_logit',
                                          smooth_kernel=5)))
    assert anomaly_score_of_config(old)['name'] == 'max_logit'
    assert anomaly_score_of_config(old)['smooth_kernel'] == 5
    with pytest.raises(KeyError, match='smooth_kernal'):
        anomaly_score_of_config(Config(dict(
            anomaly_score=dict(smooth_kernal=7))))
