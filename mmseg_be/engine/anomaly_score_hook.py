"""``AnomalyScoreHook``: one anomaly-score setting for the whole run.

A config names its score once, at the top level::

    anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
    custom_hooks = [dict(type='AnomalyScoreHook')]

Before the run starts, the hook hands that setting to every component that
turns logits into anomaly scores: each metric of the validation and test
evaluators that has a ``set_anomaly_score`` method (``PixelOODMetric``), the
runner's visualizer (``AnomalyVisualizer``) and the other hooks
(``SubmissionExportHook``). :class:`~mmseg_be.engine.MultiDatasetTestLoop`
builds its evaluators later and applies the same setting when it does. So the
score that is evaluated is the score that is drawn and exported, and
``--cfg-options anomaly_score.smooth_kernel=None`` (MMSeg's own tools) or
``--score`` (this project's tools) changes all of them at once.

A component constructed with a different explicit setting of its own is
overridden, with a warning that names both.
"""
import logging
from typing import Any, Dict, Iterable, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmseg_be.scoring import anomaly_score_settings, describe_anomaly_score


_LEGACY_KEYS = ('score', 'temperature', 'smooth_kernel', 'smooth_sigma',
                'num_classes')


def anomaly_score_of_config(cfg) -> Optional[Dict[str, Any]]:
    """The anomaly-score setting a config asks for, checked.

    The top-level ``anomaly_score``; for older configs without one, the score
    arguments of a ``PixelOODMetric`` test (or else validation) evaluator.

    Returns:
        The full setting, or None when the config names none.
    """
    if cfg is None:
        return None
    if cfg.get('anomaly_score') is not None:
        return anomaly_score_settings(cfg.get('anomaly_score'))
    for key in ('test_evaluator', 'val_evaluator'):
        evaluator = cfg.get(key)
        if isinstance(evaluator, dict) and evaluator.get(
                'type') == 'PixelOODMetric':
            given = {k: evaluator[k] for k in _LEGACY_KEYS if k in evaluator}
            if evaluator.get('anomaly_score') is not None or given:
                return anomaly_score_settings(evaluator.get('anomaly_score'),
                                              **given)
    return None


def settings_of_runner(runner) -> Optional[Dict[str, Any]]:
    """The run's config setting (see :func:`anomaly_score_of_config`)."""
    return anomaly_score_of_config(getattr(runner, 'cfg', None))


def apply_anomaly_score(targets: Iterable[Any],
                        settings: Dict[str, Any]) -> int:
    """Give ``settings`` to every target that takes an anomaly score.

    Args:
        targets: Metrics, visualizers, hooks or evaluators (an evaluator's
            ``metrics`` are visited).
        settings: A full setting from
            :func:`~mmseg_be.scoring.anomaly_score_settings`.

    Returns:
        int: How many components took the setting.
    """
    count = 0
    for target in targets:
        if target is None:
            continue
        if hasattr(target, 'metrics') and not hasattr(
                target, 'set_anomaly_score'):
            count += apply_anomaly_score(target.metrics, settings)
            continue
        setter = getattr(target, 'set_anomaly_score', None)
        if setter is None:
            continue
        previous = setter(settings)
        if previous is not None and previous != settings:
            print_log(
                f'{type(target).__name__} was configured with its own '
                f'anomaly score ({describe_anomaly_score(previous)}); it uses '
                f"the config's anomaly_score "
                f'({describe_anomaly_score(settings)}) instead. Set the score '
                'once, in anomaly_score.',
                logger='current', level=logging.WARNING)
        count += 1
    return count


@HOOKS.register_module()
class AnomalyScoreHook(Hook):
    """Hand the config's ``anomaly_score`` to every scoring component.

    Args:
        anomaly_score: A setting to use instead of the config's top-level
            ``anomaly_score`` (None: read the config).
    """

    priority = 'VERY_HIGH'

    def __init__(self, anomaly_score: Optional[dict] = None) -> None:
        self.anomaly_score = (None if anomaly_score is None else
                              anomaly_score_settings(anomaly_score))

    def settings(self, runner) -> Optional[Dict[str, Any]]:
        """The setting this run uses (None: leave components as built)."""
        if self.anomaly_score is not None:
            return self.anomaly_score
        return settings_of_runner(runner)

    def before_run(self, runner) -> None:
        settings = self.settings(runner)
        if settings is None:
            return
        targets = [runner.visualizer] + list(runner.hooks)
        for loop_name in ('_val_loop', '_test_loop'):
            loop = getattr(runner, loop_name, None)
            # Built loops only (mmengine keeps the config dict until then).
            evaluator = getattr(loop, 'evaluator', None)
            if evaluator is not None and not isinstance(evaluator, dict):
                targets.append(evaluator)
        apply_anomaly_score(targets, settings)
        print_log(f'Anomaly score: {describe_anomaly_score(settings)}',
                  logger='current', level=logging.INFO)
