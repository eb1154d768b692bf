"""Fishyscapes submissions: a pair of ``.npy`` files per frame.

The Fishyscapes benchmark container reads images from ``/input`` and must
write, per image ``{id}``, ``{id}_anomaly.npy`` (float anomaly score, higher
= more anomalous) and ``{id}_segmentation.npy`` (class ids < 20) at
1024 x 2048. Scores are written raw (float32; no mapping needed); maps of
another size are resized (bilinear for scores, nearest for class ids).
"""
import glob
import io
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .base import SubmissionExporter, as_2d_scores
from .writer import atomic_write_bytes

FISHYSCAPES_SIZE = (1024, 2048)


def save_npy(path: str, array: np.ndarray) -> None:
    """``np.save`` under a temporary name, then rename (atomic).

    Raises:
        OSError: The write failed (e.g. disk full, with its errno, which
            ``np.save`` onto a file loses); ``path`` is unchanged and no
            temporary file is left.
    """
    buffer = io.BytesIO()
    np.save(buffer, array)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, buffer.getbuffer())


class FishyscapesExporter(SubmissionExporter):
    """Write Fishyscapes ``{id}_anomaly.npy`` / ``{id}_segmentation.npy``.

    Args:
        root: Output folder (``/output`` in the benchmark container).
        method: Method name (recorded in the manifest).
        score: Name of the anomaly score (recorded).
        size: ``(H, W)`` of the written maps; None keeps each input's size.
        overwrite: Replace another method's export instead of refusing.
        max_queue: Frames that may wait for the background writer.
        lock: Hold the folder's lock (see :class:`SubmissionExporter`).
        lock_timeout: Seconds to wait for another export's lock.
    """

    format_name = 'fishyscapes'

    def __init__(self,
                 root: str,
                 method: str,
                 score: str,
                 size: Optional[Tuple[int, int]] = FISHYSCAPES_SIZE,
                 overwrite: bool = False,
                 max_queue: int = 8,
                 lock: bool = True,
                 lock_timeout: float = 0.0) -> None:
        super().__init__(root, method, score, overwrite, max_queue, lock,
                         lock_timeout)
        self.size = tuple(size) if size is not None else None

    def existing_files(self) -> List[str]:
        return sorted(
            glob.glob(osp.join(self.root, '*_anomaly.npy')) +
            glob.glob(osp.join(self.root, '*_segmentation.npy')))

    def is_valid(self, path: str) -> bool:
        try:
            array = np.load(path, mmap_mode='r')
        except (OSError, ValueError):
            return False
        return array.ndim == 2 and (self.size is None
                                    or array.shape == self.size)

    def frame_paths(self, frame_id: str) -> Tuple[str, str]:
        """The anomaly and segmentation files of a frame."""
        return (osp.join(self.root, f'{frame_id}_anomaly.npy'),
                osp.join(self.root, f'{frame_id}_segmentation.npy'))

    def frame_done(self, frame_id: str) -> bool:
        """Whether both files of a frame exist and are complete."""
        return all(self.is_done(p) for p in self.frame_paths(frame_id))

    def _resize(self, array: np.ndarray, interpolation: int) -> np.ndarray:
        if self.size is None or array.shape == self.size:
            return array
        return cv2.resize(array, (self.size[1], self.size[0]),
                          interpolation=interpolation)

    def add(self, frame_id: str, scores, segmentation) -> bool:
        """Queue one frame (skipped when already exported).

        Args:
            frame_id: Image id (file stem).
            scores: ``(H, W)`` raw anomaly scores (array or tensor).
            segmentation: ``(H, W)`` in-distribution class ids.

        Returns:
            bool: False when the frame was skipped (resume).
        """
        if not self.overwrite and self.frame_done(frame_id):
            self.num_skipped += 1
            return False
        scores = as_2d_scores(scores, frame_id).astype(np.float32)
        seg = as_2d_scores(segmentation, frame_id)
        if seg.shape != scores.shape:
            raise ValueError(f'Frame {frame_id!r}: segmentation {seg.shape} '
                             f'and scores {scores.shape} differ in size.')
        if seg.min() < 0 or seg.max() > 255:
            raise ValueError(f'Frame {frame_id!r}: class ids must lie in '
                             f'[0, 255], got [{seg.min()}, {seg.max()}].')
        scores = self._resize(scores, cv2.INTER_LINEAR)
        seg = self._resize(seg.astype(np.uint8), cv2.INTER_NEAREST)
        anomaly_path, seg_path = self.frame_paths(frame_id)

        def write() -> None:
            save_npy(anomaly_path, scores)
            save_npy(seg_path, seg)

        self._queue(write)
        return True
