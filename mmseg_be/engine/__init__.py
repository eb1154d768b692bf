"""Runner extensions (loops), registered in MMSeg's registries."""
from .multi_test_loop import MultiDatasetTestLoop, format_table

__all__ = ['MultiDatasetTestLoop', 'format_table']
