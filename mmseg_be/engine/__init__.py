"""Runner extensions (loops and hooks), registered in MMSeg's registries."""
from .anomaly_score_hook import (AnomalyScoreConflictError, AnomalyScoreHook,
                                 adopt_anomaly_score,
                                 anomaly_score_of_config, apply_anomaly_score,
                                 check_one_anomaly_score,
                                 component_score_settings, settings_of_runner)
from .checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .multi_test_loop import MultiDatasetTestLoop, benchmark_table

__all__ = [
    'AnomalyScoreConflictError', 'AnomalyScoreHook', 'AtomicCheckpointHook',
    'AtomicLocalBackend', 'MultiDatasetTestLoop', 'adopt_anomaly_score',
    'anomaly_score_of_config',
    'apply_anomaly_score', 'benchmark_table', 'check_one_anomaly_score',
    'component_score_settings', 'settings_of_runner'
]
