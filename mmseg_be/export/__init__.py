"""Benchmark submission export: SegmentMeIfYouCan HDF5 and Fishyscapes npy.

Importing this package registers :class:`SubmissionExportHook` in MMSeg's
HOOKS registry.
"""
from .base import MANIFEST, ExportFolderError, SubmissionExporter
from .fishyscapes import FISHYSCAPES_SIZE, FishyscapesExporter
from .hook import SubmissionExportHook
from .lock import FolderBusyError, FolderLock
from .mapping import MAPPINGS, ScoreMapping
from .smiyc import (SMIYC_DATASETS, SMIYCExporter, read_smiyc_frame,
                    write_smiyc_frame)
from .writer import BackgroundWriter, ExportWriteError

__all__ = [
    'MANIFEST', 'ExportFolderError', 'SubmissionExporter', 'FISHYSCAPES_SIZE',
    'FishyscapesExporter', 'SubmissionExportHook', 'FolderBusyError',
    'FolderLock', 'MAPPINGS', 'ScoreMapping',
    'SMIYC_DATASETS', 'SMIYCExporter', 'read_smiyc_frame', 'write_smiyc_frame',
    'BackgroundWriter', 'ExportWriteError'
]
