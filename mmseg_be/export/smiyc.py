"""SegmentMeIfYouCan submissions: one HDF5 file per frame.

Layout read by the benchmark kit::

    {root}/anomaly_p/{method}/{dataset}/{frame_id}.hdf5   dataset "value",
                                                          float16 in [0, 1],
                                                          gzip level 9 (ours:
                                                          the file attribute
                                                          score_mapping)
    {root}/anomaly_p/{method}/{dataset}/score_mapping.json  (ours: the map
                                                          from raw scores)
    {root}/mmseg_be_export.json                           (ours: manifest)

Raw scores are mapped into [0, 1] by a :class:`ScoreMapping`: given, or a
``minmax`` range calibrated on the first ``calib_frames`` frames of each
dataset (widened by ``calib_margin`` of the range on each side, so later
frames are rarely clipped). The mapping is written to the manifest before
any frame, and a resumed export reuses it, so all frames of a dataset share
one mapping. Each frame also records its mapping (an HDF5 attribute the kit
does not read): a resumed export rewrites a frame whose mapping is not the
manifest's, and closing the export checks that every frame of the folder
carries the manifest's mapping. Under the folder's lock the manifest is read
again before calibrating, so a mapping already recorded there is adopted,
never replaced.
"""
import glob
import io
import json
import logging
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from .base import (ExportFolderError, SubmissionExporter, as_2d_scores,
                   read_manifest, write_json, writing_into)
from .mapping import ScoreMapping
from .writer import atomic_write_bytes

#: HDF5 attribute of a frame file: its mapping as JSON.
MAPPING_ATTR = 'score_mapping'

#: Dataset folder names the SMIYC kit reads.
SMIYC_DATASETS = ('AnomalyTrack-all', 'AnomalyTrack-validation',
                  'ObstacleTrack-all', 'ObstacleTrack-validation',
                  'LostAndFound-test', 'LostAndFound-train')


def smiyc_frame_bytes(probs: np.ndarray,
                      mapping: Optional[ScoreMapping] = None) -> bytes:
    """One frame's [0, 1] scores as the bytes of the kit's HDF5 file (with
    the mapping that made them as an attribute, if given)."""
    import h5py

    # Built in memory: h5py never writes to the disk, so a full disk cannot
    # make it raise inside a destructor (which crashed the interpreter).
    buffer = io.BytesIO()
    with h5py.File(buffer, 'w') as f:
        f.create_dataset('value', data=probs.astype(np.float16),
                         compression='gzip', compression_opts=9)
        if mapping is not None:
            f.attrs[MAPPING_ATTR] = json.dumps(mapping.to_dict(),
                                               sort_keys=True)
    return buffer.getvalue()


def write_smiyc_frame(path: str,
                      probs: np.ndarray,
                      mapping: Optional[ScoreMapping] = None) -> None:
    """Write one frame's [0, 1] scores as the kit expects (atomically).

    Args:
        path: The frame file.
        probs: ``(H, W)`` scores in [0, 1].
        mapping: The mapping that made them, recorded in the file.

    Raises:
        OSError: The write failed (e.g. disk full); ``path`` is unchanged
            and no temporary file is left.
    """
    data = smiyc_frame_bytes(probs, mapping)
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


def read_frame_mapping(path: str) -> Optional[ScoreMapping]:
    """The mapping recorded in a frame file (None: not recorded, e.g. a
    frame of an earlier version, or not a readable frame)."""
    import h5py
    try:
        with h5py.File(path, 'r') as f:
            text = f.attrs.get(MAPPING_ATTR)
    except OSError:
        return None
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    return ScoreMapping.from_dict(json.loads(text))


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
        lock: Hold the folder's lock (see :class:`SubmissionExporter`).
        lock_timeout: Seconds to wait for another export's lock.
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
                 max_queue: int = 8,
                 lock: bool = True,
                 lock_timeout: float = 0.0) -> None:
        if not dataset or '/' in dataset:
            raise ValueError(f'Invalid SMIYC dataset name {dataset!r}; the '
                             f'kit reads {SMIYC_DATASETS}.')
        if calib_frames < 1:
            raise ValueError(f'calib_frames must be >= 1, got {calib_frames}.')
        super().__init__(root, method, score, overwrite, max_queue, lock,
                         lock_timeout)
        try:
            self._adopt(dataset, mapping, calib_frames, calib_margin)
        except BaseException:
            self._abandon()
            raise

    def _adopt(self, dataset: str, mapping: Optional[ScoreMapping],
               calib_frames: int, calib_margin: float) -> None:
        self.dataset = dataset
        self.calib_frames = calib_frames
        self.calib_margin = calib_margin
        self.folder = osp.join(self.root, 'anomaly_p', self.method, dataset)
        self._pending: List[Tuple[str, np.ndarray]] = []
        recorded = self._recorded_mapping(self.manifest)
        if recorded is not None:
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
        """Whether a frame can be skipped when resuming: complete, and made
        with the manifest's mapping (any other frame is written again)."""
        path = self.frame_path(frame_id)
        return (self.mapping is not None and self.is_done(path)
                and read_frame_mapping(path) == self.mapping)

    def _recorded_mapping(self, manifest: Optional[dict]
                          ) -> Optional[ScoreMapping]:
        entry = ((manifest or {}).get('datasets') or {}).get(self.dataset)
        recorded = (entry or {}).get('mapping')
        return None if recorded is None else ScoreMapping.from_dict(recorded)

    def _record_mapping(self) -> None:
        record = dict(mapping=self.mapping.to_dict(), score=self.score,
                      method=self.method)
        # The manifest as it is on disk now, so other datasets' records
        # stay.
        self.manifest = read_manifest(self.root) or self.manifest
        self.manifest.setdefault('datasets', {})[self.dataset] = record
        self._save_manifest()
        with writing_into(self.root):
            write_json(osp.join(self.folder, 'score_mapping.json'), record)

    def _calibrate(self) -> None:
        # Read again: a mapping recorded meanwhile (by an export that did not
        # take the lock) is adopted, so the dataset keeps one mapping.
        recorded = self._recorded_mapping(read_manifest(self.root))
        if recorded is not None:
            print_log(f'{self.folder}: adopting the mapping '
                      f'{recorded.to_dict()} recorded by another export '
                      'instead of calibrating a second one.',
                      logger='current', level=logging.WARNING)
            self.mapping = recorded
        else:
            base = ScoreMapping.calibrate([s for _, s in self._pending])
            pad = self.calib_margin * (base.high - base.low)
            self.mapping = ScoreMapping('minmax', base.low - pad,
                                        base.high + pad)
            self._record_mapping()
        for frame_id, scores in self._pending:
            self._queue_frame(frame_id, scores)
        self._pending = []

    def _queue_frame(self, frame_id: str, scores: np.ndarray) -> None:
        probs = self.mapping(scores, dtype=np.float16)
        path = self.frame_path(frame_id)
        mapping = self.mapping
        self._queue(lambda: write_smiyc_frame(path, probs, mapping))

    def add(self, frame_id: str, scores) -> bool:
        """Queue one frame's raw scores (skipped when already exported).

        Args:
            frame_id: File stem of the frame, e.g. ``validation0000``.
            scores: ``(H, W)`` raw anomaly scores at the image's resolution
                (array or tensor).

        Returns:
            bool: False when the frame was skipped (resume).
        """
        if (not self.overwrite and self.mapping is not None
                and self.frame_done(frame_id)):
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

    def check_folder(self) -> None:
        """Every frame of the dataset's folder carries the manifest's mapping.

        Raises:
            ExportFolderError: Frames made with another mapping (named).
        """
        recorded = self._recorded_mapping(read_manifest(self.root))
        if recorded is None:
            return
        other, unknown = [], []
        for path in sorted(glob.glob(osp.join(self.folder, '*.hdf5'))):
            mapping = read_frame_mapping(path)
            if mapping is None:
                unknown.append(path)
            elif mapping != recorded:
                other.append(f'{osp.basename(path)} ({mapping.to_dict()})')
        if unknown:
            print_log(f'{len(unknown)} frames of {self.folder} record no '
                      f'mapping (written by an earlier version?), e.g. '
                      f'{unknown[0]}; they cannot be checked.',
                      logger='current', level=logging.WARNING)
        if other:
            raise ExportFolderError(
                f'{self.folder}: {len(other)} frames were made with another '
                f'score mapping than the manifest\'s {recorded.to_dict()}: '
                f'{", ".join(other[:5])}. The folder mixes two mappings; run '
                'the export again with --overwrite.')

    def close(self) -> None:
        """Calibrate on the frames held back (if any), then finish writing."""
        if self._pending:
            self._calibrate_or_abandon()
        super().close()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._pending:
            self._calibrate_or_abandon()
        super().__exit__(exc_type, exc, tb)

    def _calibrate_or_abandon(self) -> None:
        # A failure here still stops the writer and gives the lock back.
        try:
            self._calibrate()
        except BaseException:
            self._abandon()
            raise
