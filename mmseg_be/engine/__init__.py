"""Runner extensions (loops and hooks), registered in MMSeg's registries."""
from .checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .multi_test_loop import MultiDatasetTestLoop, format_table

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend',
           'MultiDatasetTestLoop', 'format_table']
