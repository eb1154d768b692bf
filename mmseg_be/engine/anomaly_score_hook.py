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

A component constructed with a different explicit setting of its own is an
error (:class:`AnomalyScoreConflictError`) that names both places: the run
would otherwise report one score under the name of another.
:func:`check_one_anomaly_score` finds such settings in a config before
anything is built.
"""
import logging
from typing import Any, Dict, Iterable, List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmseg_be.scoring import anomaly_score_settings, describe_anomaly_score
from mmseg_be.utils.errors import SettingsError


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


class AnomalyScoreConflictError(SettingsError):
    """A component's own anomaly score differs from the run's one setting."""


_FIX = ('Set the score once, in the top-level anomaly_score: --score NAME / '
        '--score-options k=v with the tools of mmseg_be, or --cfg-options '
        'anomaly_score.name=NAME (anomaly_score.smooth_kernel=..., ...) with '
        "MMSeg's own tools; and remove the component's own keys "
        f'(anomaly_score, {", ".join(_LEGACY_KEYS)}).')


def _type_name(component: dict) -> str:
    kind = component.get('type', '')
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


def _own_setting(component: Any) -> Optional[Dict[str, Any]]:
    """The score a component config names itself (None: none)."""
    if not isinstance(component, dict):
        return None
    given = {k: component[k] for k in _LEGACY_KEYS
             if component.get(k) is not None}
    if component.get('anomaly_score') is None and not given:
        return None
    return anomaly_score_settings(component.get('anomaly_score'), **given)


def component_score_settings(cfg) -> List[Tuple[str, Dict[str, Any]]]:
    """Where a config gives a scoring component a score of its own.

    Visits the validation and test evaluators (also those of a
    ``MultiDatasetTestLoop``'s benchmarks and its ``evaluator_overrides``),
    the visualizer and the custom hooks.

    Returns:
        ``(place, setting)`` pairs, ``place`` a config key path such as
        ``test_evaluator`` or ``test_cfg.benchmarks[2].evaluator``.
    """
    found: List[Tuple[str, Dict[str, Any]]] = []

    def visit(place: str, component: Any) -> None:
        if isinstance(component, (list, tuple)):
            for i, item in enumerate(component):
                visit(f'{place}[{i}]', item)
            return
        if not isinstance(component, dict):
            return
        if _type_name(component) not in ('PixelOODMetric',
                                          'AnomalyVisualizer',
                                          'SubmissionExportHook',
                                          'AnomalyScoreHook'):
            return
        setting = _own_setting(component)
        if setting is not None:
            found.append((place, setting))

    for key in ('val_evaluator', 'test_evaluator', 'visualizer'):
        visit(key, cfg.get(key))
    test_cfg = cfg.get('test_cfg') or {}
    for i, bench in enumerate(test_cfg.get('benchmarks') or []):
        if isinstance(bench, dict):
            visit(f'test_cfg.benchmarks[{i}].evaluator',
                  bench.get('evaluator'))
    overrides = test_cfg.get('evaluator_overrides')
    if overrides:
        setting = _own_setting(overrides)
        if setting is not None:
            found.append(('test_cfg.evaluator_overrides', setting))
    visit('custom_hooks', list(cfg.get('custom_hooks') or []))
    return found


def check_one_anomaly_score(cfg, settings: Dict[str, Any]) -> None:
    """Raise if a component of ``cfg`` names a score other than ``settings``.

    Args:
        cfg: The run's config.
        settings: The run's one setting (the top-level ``anomaly_score``
            with the command line's overrides).

    Raises:
        AnomalyScoreConflictError: naming each conflicting place, its
            setting, the run's setting and the fix.
    """
    settings = anomaly_score_settings(settings)
    conflicts = [(place, own) for place, own in component_score_settings(cfg)
                 if own != settings]
    if conflicts:
        places = '; '.join(f'{place} names {describe_anomaly_score(own)}'
                           for place, own in conflicts)
        raise AnomalyScoreConflictError(
            f'The run\'s anomaly_score is {describe_anomaly_score(settings)}, '
            f'but {places}. One run evaluates, draws and exports one score, '
            f'so these would be overridden. {_FIX}')


def adopt_anomaly_score(cfg, overrides: Optional[dict] = None
                        ) -> Dict[str, Any]:
    """Make ``cfg.anomaly_score`` the run's one checked setting.

    The config's setting (:func:`anomaly_score_of_config`) with
    ``overrides`` (``--score`` / ``--score-options``) on top. An older config
    that names its score only in an evaluator has those keys moved to the
    top-level setting, so the overrides apply to the metric too.

    Args:
        cfg: The run's config, changed in place.
        overrides: Keys replacing those of the config's setting.

    Returns:
        The full setting.

    Raises:
        AnomalyScoreConflictError: A component names another score (see
            :func:`check_one_anomaly_score`).
    """
    base = anomaly_score_of_config(cfg)
    if cfg.get('anomaly_score') is None and base is not None:
        for key in ('test_evaluator', 'val_evaluator'):
            evaluator = cfg.get(key)
            if isinstance(evaluator, dict) and _own_setting(evaluator) == base:
                for name in ('anomaly_score', ) + _LEGACY_KEYS:
                    evaluator.pop(name, None)
    settings = anomaly_score_settings(base, **dict(overrides or {}))
    cfg.anomaly_score = settings
    check_one_anomaly_score(cfg, settings)
    return settings


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

    Raises:
        AnomalyScoreConflictError: A target was built with another explicit
            setting of its own.
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
        own = getattr(target, '_explicit_score', None)
        if own is not None and own != settings:
            raise AnomalyScoreConflictError(
                f'{type(target).__name__} was configured with its own '
                f'anomaly score ({describe_anomaly_score(own)}), but the '
                "run's anomaly_score is "
                f'{describe_anomaly_score(settings)}. {_FIX}')
        setter(settings)
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
