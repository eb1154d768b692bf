"""AnomalyScoreHook hands the config's one score setting to every user."""
from types import SimpleNamespace

import pytest
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg_be.engine import (AnomalyScoreConflictError, AnomalyScoreHook,
                             adopt_anomaly_score, anomaly_score_of_config,
                             check_one_anomaly_score)
from mmseg_be.evaluation import PixelOODMetric
from mmseg_be.export import SubmissionExportHook
from mmseg_be.visualization import AnomalyVisualizer


def runner_with(metric, visualizer, export, setting):
    return SimpleNamespace(
        cfg=Config(dict(anomaly_score=setting)), visualizer=visualizer,
        hooks=[export], _val_loop=None,
        _test_loop=SimpleNamespace(
            evaluator=SimpleNamespace(metrics=[metric])))


def test_hook_sets_metric_visualizer_and_export_hook(tmp_path):
    # The metric's own setting equals the config's: no conflict.
    metric = PixelOODMetric(anomaly_score=dict(
        name='energy', smooth_kernel=7))
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


def test_hook_refuses_a_component_with_another_score(tmp_path):
    metric = PixelOODMetric(score='max_logit')
    visualizer = AnomalyVisualizer(name='score_hook_conflict_vis')
    export = SubmissionExportHook(str(tmp_path), 'm', dataset='X-all')
    runner = runner_with(metric, visualizer, export, dict(name='energy'))
    with pytest.raises(AnomalyScoreConflictError) as info:
        AnomalyScoreHook().before_run(runner)
    message = str(info.value)
    # Both places and the fix are named; the metric keeps its own score
    # (nothing evaluates a score it was not asked for).
    assert 'PixelOODMetric' in message and 'max_logit, T=1' in message
    assert 'energy, T=1' in message and 'anomaly_score.name' in message
    assert metric.anomaly_score['name'] == 'max_logit'


def test_config_check_names_every_conflicting_place():
    cfg = Config(dict(
        anomaly_score=dict(name='energy'),
        test_evaluator=dict(type='PixelOODMetric', score='max_logit'),
        val_evaluator=dict(type='PixelOODMetric'),
        visualizer=dict(type='AnomalyVisualizer',
                        anomaly_score=dict(name='entropy')),
        custom_hooks=[dict(type='AnomalyScoreHook'),
                      dict(type='SubmissionExportHook',
                           anomaly_score=dict(name='energy'))],
        test_cfg=dict(type='MultiDatasetTestLoop', benchmarks=[
            dict(name='a', evaluator=dict(type='PixelOODMetric')),
            dict(name='b', evaluator=dict(type='PixelOODMetric',
                                          temperature=2))])))
    with pytest.raises(AnomalyScoreConflictError) as info:
        check_one_anomaly_score(cfg, dict(name='energy'))
    message = str(info.value)
    for place in ('test_evaluator names max_logit',
                  'visualizer names entropy',
                  'test_cfg.benchmarks[1].evaluator names energy, T=2'):
        assert place in message, message
    # Settings equal to the run's are not conflicts.
    assert 'custom_hooks' not in message and 'val_evaluator' not in message


def test_cfg_option_on_the_metric_is_an_error_not_a_silent_override():
    # docs/benchmarks.md's old advice: --cfg-options test_evaluator.score=...
    cfg = Config(dict(anomaly_score=dict(name='energy', smooth_kernel=7),
                      test_evaluator=dict(type='PixelOODMetric')))
    cfg.merge_from_dict({'test_evaluator.score': 'max_logit'})
    with pytest.raises(AnomalyScoreConflictError, match='--score'):
        adopt_anomaly_score(cfg)
    # The same request through the one setting takes effect.
    cfg = Config(dict(anomaly_score=dict(name='energy', smooth_kernel=7),
                      test_evaluator=dict(type='PixelOODMetric')))
    settings = adopt_anomaly_score(cfg, dict(name='max_logit'))
    assert (settings['name'], settings['smooth_kernel']) == ('max_logit', 7)


def test_an_older_config_scored_in_its_evaluator_takes_overrides():
    cfg = Config(dict(test_evaluator=dict(type='PixelOODMetric',
                                          score='max_logit',
                                          smooth_kernel=5)))
    settings = adopt_anomaly_score(cfg, dict(temperature=2.0))
    assert (settings['name'], settings['smooth_kernel'],
            settings['temperature']) == ('max_logit', 5, 2.0)
    # The evaluator's keys moved to the one setting: nothing left to clash.
    assert 'score' not in cfg.test_evaluator
    assert cfg.anomaly_score == settings
