"""Runner extensions (loops and hooks), registered in MMSeg's registries."""
from .anomaly_score_hook import (AnomalyScoreHook, anomaly_score_of_config,
                                 apply_anomaly_score, settings_of_runner)
from .checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .multi_test_loop import MultiDatasetTestLoop, benchmark_table

__all__ = [
    'AnomalyScoreHook', 'AtomicCheckpointHook', 'AtomicLocalBackend',
    'MultiDatasetTestLoop', 'anomaly_score_of_config', 'apply_anomaly_score',
    'benchmark_table', 'settings_of_runner'
]
