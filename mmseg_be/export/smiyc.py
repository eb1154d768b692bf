"""SegmentMeIfYouCan submissions: one HDF5 file per frame.

Layout read by the benchmark kit::

    {root}/anomaly_p/{method}/{dataset}/{frame_id}.hdf5   dataset "value",
                                                          float16 in [0, 1],
                                                          gzip level 9
    {root}/anomaly_p/{method}/{dataset}/score_mapping.json  (ours: the map
                                                          from raw scores)
    {root}/mmseg_be_export.json                           (ours: manifest)

Raw scores are mapped into [0, 1] by a :class:`ScoreMapping`: given, or a
``minmax`` range calibrated on the first ``calib_frames`` frames of each
dataset (widened by ``calib_margin`` of the range on each side, so later
frames are rarely clipped). The mapping is written to the manifest before
any frame, and a resumed export reuses it, so all frames of a dataset share
one mapping.
"""
import glob
import io
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from .base import SubmissionExporter, as_2d_scores, write_json, writing_into
from .mapping import ScoreMapping
from .writer import atomic_write_bytes

#: Dataset folder names the SMIYC kit reads.
SMIYC_DATASETS = ('AnomalyTrack-all', 'AnomalyTrack-validation',
                  'ObstacleTrack-all', 'ObstacleTrack-validation',
                  'LostAndFound-test', 'LostAndFound-train')


def smiyc_frame_bytes(probs: np.ndarray) -> bytes:
    """One frame's [0, 1] scores as the bytes of the kit's HDF5 file."""
    import h5py

    # Built in memory: h5py never writes to the disk, so a full disk cannot
    # make it raise inside a destructor (which crashed the interpreter).
    buffer = io.BytesIO()
    with h5py.File(buffer, 'w') as f:
        f.create_dataset('value', data=probs.astype(np.float16),
                         compression='gzip', compression_opts=9)
    return buffer.getvalue()


def write_smiyc_frame(path: str, probs: np.ndarray) -> None:
    """Write one frame's [0, 1] scores as the kit expects (atomically).

    Raises:
        OSError: The write failed (e.g. disk full); ``path`` is unchanged
            and no temporary file is left.
    """
    data = smiyc_frame_bytes(probs)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, data)


def read_smiyc_frame(path: str) -> np.ndarray:
    """Read one frame back (float16), checking the kit's format.

    Raises:
        ValueError: The file is not a valid SMIYC frame (says why).
    """
    import h5py
    with h5py.File(path, 'r') as f:
        if 'value' not in f:
            raise ValueError(f'{path}: no HDF5 dataset named "value".')
        data = f['value']
        if data.dtype != np.float16 or data.ndim != 2:
            raise ValueError(f'{path}: "value" is {data.dtype} with shape '
                             f'{data.shape}, expected 2-D float16.')
        if data.compression != 'gzip' or data.compression_opts != 9:
            raise ValueError(f'{path}: compression {data.compression} '
                             f'{data.compression_opts}, expected gzip 9.')
        return data[()]


class SMIYCExporter(SubmissionExporter):
    """Write SegmentMeIfYouCan submission frames in the background.

    Args:
        root: Submission root (``anomaly_p`` is created inside).
        method: Method name (a folder name in the submission).
        dataset: Kit dataset name, e.g. ``AnomalyTrack-all`` (see
            :data:`SMIYC_DATASETS`).
        score: Name of the anomaly score (recorded).
        mapping: Map from raw scores into [0, 1]; None calibrates a
            ``minmax`` map on the first ``calib_frames`` frames.
        calib_frames: Frames held back to calibrate the mapping.
        calib_margin: Fraction of the calibrated range added on each side.
        overwrite: Replace another method's export instead of refusing.
        max_queue: Frames that may wait for the background writer.
    """

    format_name = 'smiyc'

    def __init__(self,
                 root: str,
                 method: str,
                 dataset: str,
                 score: str,
                 mapping: Optional[ScoreMapping] = None,
                 calib_frames: int = 8,
                 calib_margin: float = 0.05,
                 overwrite: bool = False,
                 max_queue: int = 8) -> None:
        if not dataset or '/' in dataset:
            raise ValueError(f'Invalid SMIYC dataset name {dataset!r}; the '
                             f'kit reads {SMIYC_DATASETS}.')
        if calib_frames < 1:
            raise ValueError(f'calib_frames must be >= 1, got {calib_frames}.')
        super().__init__(root, method, score, overwrite, max_queue)
        self.dataset = dataset
        self.calib_frames = calib_frames
        self.calib_margin = calib_margin
        self.folder = osp.join(root, 'anomaly_p', method, dataset)
        self._pending: List[Tuple[str, np.ndarray]] = []
        recorded = self.manifest['datasets'].get(dataset, {}).get('mapping')
        if recorded is not None:
            recorded = ScoreMapping.from_dict(recorded)
            if mapping is not None and mapping != recorded:
                raise ValueError(
                    f'{self.folder} was exported with the mapping '
                    f'{recorded.to_dict()}, not {mapping.to_dict()}: resuming '
                    f'would mix two mappings. Pass --overwrite to start over.')
            mapping = recorded
        self.mapping = mapping
        if mapping is not None and recorded is None:
            self._record_mapping()

    def existing_files(self) -> List[str]:
        return sorted(
            glob.glob(osp.join(self.root, 'anomaly_p', '*', '*', '*.hdf5')))

    def is_valid(self, path: str) -> bool:
        try:
            read_smiyc_frame(path)
        except (OSError, ValueError, KeyError):
            return False
        return True

    def frame_path(self, frame_id: str) -> str:
        """The final file of a frame."""
        return osp.join(self.folder, f'{frame_id}.hdf5')

    def frame_done(self, frame_id: str) -> bool:
        """Whether a frame can be skipped when resuming."""
        return self.is_done(self.frame_path(frame_id))

    def _record_mapping(self) -> None:
        record = dict(mapping=self.mapping.to_dict(), score=self.score,
                      method=self.method)
        self.manifest['datasets'][self.dataset] = record
        self._save_manifest()
        with writing_into(self.root):
            write_json(osp.join(self.folder, 'score_mapping.json'), record)

    def _calibrate(self) -> None:
        base = ScoreMapping.calibrate([s for _, s in self._pending])
        pad = self.calib_margin * (base.high - base.low)
        self.mapping = ScoreMapping('minmax', base.low - pad, base.high + pad)
        self._record_mapping()
        for frame_id, scores in self._pending:
            self._queue_frame(frame_id, scores)
        self._pending = []

    def _queue_frame(self, frame_id: str, scores: np.ndarray) -> None:
        probs = self.mapping(scores, dtype=np.float16)
        path = self.frame_path(frame_id)
        self._queue(lambda: write_smiyc_frame(path, probs))

    def add(self, frame_id: str, scores) -> bool:
        """Queue one frame's raw scores (skipped when already exported).

        Args:
            frame_id: File stem of the frame, e.g. ``validation0000``.
            scores: ``(H, W)`` raw anomaly scores at the image's resolution
                (array or tensor).

        Returns:
            bool: False when the frame was skipped (resume).
        """
        if not self.overwrite and self.frame_done(frame_id):
            self.num_skipped += 1
            return False
        scores = as_2d_scores(scores, frame_id).astype(np.float32)
        if self.mapping is None:
            self._pending.append((frame_id, scores))
            if len(self._pending) >= self.calib_frames:
                self._calibrate()
        else:
            self._queue_frame(frame_id, scores)
        return True

    def close(self) -> None:
        """Calibrate on the frames held back (if any), then finish writing."""
        if self._pending:
            self._calibrate()
        super().close()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._pending:
            self._calibrate()
        super().__exit__(exc_type, exc, tb)
