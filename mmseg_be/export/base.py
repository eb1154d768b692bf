"""What the SMIYC and Fishyscapes exporters share: manifest, resume, writer.

An export folder holds a small manifest, ``mmseg_be_export.json``, naming the
format, the method and the score (and, for SMIYC, the score mapping of every
dataset). Opening a folder whose manifest names another method or score, or
that holds submission files of unknown origin, is refused unless
``overwrite=True``: resuming into it would mix two methods' frames. With a
matching manifest the export resumes: frames whose final file exists and
reads back correctly are skipped. Input images that could not be read are
listed in the manifest under ``unreadable`` (path -> reason).

One export at a time writes into a folder: the exporter holds the folder's
lock (:class:`~mmseg_be.export.lock.FolderLock`) from opening the manifest
to :meth:`SubmissionExporter.close`; a second export into the same folder
stops with :class:`~mmseg_be.export.lock.FolderBusyError` naming the holder
(or waits ``lock_timeout`` seconds for it).

Every file is written atomically (temporary name, fsync, rename). A write
error, in the background writer or here, is raised as
:class:`~mmseg_be.export.writer.ExportWriteError` naming the folder and the
cause (e.g. "no space left on device").
"""
import contextlib
import json
import logging
import os
import os.path as osp
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmseg_be.scoring import check_finite_scores
from .lock import FolderLock
from .writer import (BackgroundWriter, ExportWriteError, atomic_write_bytes,
                     remove_stale_temps)

MANIFEST = 'mmseg_be_export.json'


class ExportFolderError(RuntimeError):
    """The output folder holds another export; pass overwrite to replace it."""


def read_manifest(root: str) -> Optional[dict]:
    """The manifest of an export folder, or None if it has none."""
    path = osp.join(root, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_json(path: str, data: dict) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True) + '\n'
    atomic_write_bytes(path, text.encode())


@contextlib.contextmanager
def writing_into(folder: str) -> Iterator[None]:
    """Turn an ``OSError`` of the block into :class:`ExportWriteError`."""
    try:
        yield
    except OSError as error:
        raise ExportWriteError(folder, error) from error


class SubmissionExporter:
    """Base class: subclasses define the file layout and the writing.

    Args:
        root: Output folder.
        method: Method name recorded in the manifest (and, for SMIYC, a folder
            name).
        score: Name of the anomaly score, recorded in the manifest.
        overwrite: Replace an export of another method or score instead of
            refusing; every frame is then written again.
        max_queue: Frames that may wait for the background writer.
        lock: Hold the folder's lock while exporting. Only the processes of
            one distributed export that join a folder their rank 0 holds
            pass False.
        lock_timeout: Seconds to wait for another export's lock before
            :class:`~mmseg_be.export.lock.FolderBusyError`.
    """

    format_name = ''

    def __init__(self,
                 root: str,
                 method: str,
                 score: str,
                 overwrite: bool = False,
                 max_queue: int = 8,
                 lock: bool = True,
                 lock_timeout: float = 0.0) -> None:
        if not method or os.sep in method or method.startswith('.'):
            raise ValueError(f'Invalid method name {method!r}: it becomes a '
                             f'folder name, so use e.g. "balanced_energy".')
        self.root = root
        self.method = method
        self.score = score
        self.overwrite = overwrite
        self.num_skipped = 0
        self.num_submitted = 0
        with writing_into(root):
            os.makedirs(root, exist_ok=True)
        self._lock = FolderLock(root) if lock else None
        if self._lock is not None:
            # The manifest is read, and temporary files removed, only under
            # the lock: no other export is writing here.
            self._lock.acquire(lock_timeout)
        try:
            with writing_into(root):
                self.manifest = self._open_folder()
                for path in remove_stale_temps(root):
                    print_log(f'Removed a temporary file of an interrupted '
                              f'export: {path}', logger='current',
                              level=logging.WARNING)
        except BaseException:
            self._release_lock()
            raise
        self._writer = BackgroundWriter(max_queue, folder=root)

    # -- layout, implemented by subclasses ---------------------------------
    def existing_files(self) -> List[str]:
        """Submission files of any method under the root."""
        raise NotImplementedError

    def is_valid(self, path: str) -> bool:
        """Whether a final file reads back as a complete frame."""
        raise NotImplementedError

    # -- manifest ------------------------------------------------------------
    def _new_manifest(self) -> dict:
        return dict(format=self.format_name, method=self.method,
                    score=self.score, datasets={})

    def _open_folder(self) -> dict:
        old = read_manifest(self.root)
        fresh = self._new_manifest()
        if old is not None:
            same = all(old.get(k) == fresh[k]
                       for k in ('format', 'method', 'score'))
            if same and not self.overwrite:
                return old
            if not self.overwrite:
                raise ExportFolderError(
                    f'{self.root} holds a {old.get("format")} export of '
                    f'method {old.get("method")!r} with score '
                    f'{old.get("score")!r}; this export is method '
                    f'{self.method!r} with score {self.score!r}. Use another '
                    f'folder, or pass --overwrite to replace it.')
        elif self.existing_files() and not self.overwrite:
            raise ExportFolderError(
                f'{self.root} already holds submission files of unknown '
                f'origin (no {MANIFEST}), e.g. {self.existing_files()[0]}. '
                f'Use another folder, or pass --overwrite to replace them.')
        if self.overwrite:
            for path in self.existing_files():
                os.remove(path)
        write_json(osp.join(self.root, MANIFEST), fresh)
        return fresh

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def _abandon(self) -> None:
        """Stop the writer and give the lock back (a failed constructor)."""
        try:
            self._writer.close()
        finally:
            self._release_lock()

    def check_folder(self) -> None:
        """Check the finished folder (subclasses: every frame as the
        manifest records it); called by :meth:`close` under the lock."""

    def _save_manifest(self) -> None:
        with writing_into(self.root):
            write_json(osp.join(self.root, MANIFEST), self.manifest)

    def record_unreadable(self, failed: Sequence[Tuple[str, str]],
                          readable: Sequence[str] = ()) -> Dict[str, str]:
        """List unreadable input images in the manifest (``unreadable``).

        Args:
            failed: ``(image path, reason)`` of the images skipped this run.
            readable: Images that were read this run (written or resumed):
                dropped from the list if an earlier run had put them there.

        Returns:
            dict: The manifest's list, image path -> reason.
        """
        listed = dict(self.manifest.get('unreadable', {}))
        for path in readable:
            listed.pop(path, None)
        listed.update(failed)
        if listed != self.manifest.get('unreadable', {}):
            self.manifest['unreadable'] = listed
            self._save_manifest()
        return listed

    # -- frames --------------------------------------------------------------
    def is_done(self, path: str) -> bool:
        """Whether a frame's final file exists and is complete (resume)."""
        return osp.isfile(path) and self.is_valid(path)

    def _queue(self, job: Callable[[], None]) -> None:
        self._writer.submit(job)
        self.num_submitted += 1

    def close(self) -> None:
        """Wait for the writer, check the folder, give the lock back; raises
        the first write error, if any (:class:`ExportWriteError` for an
        ``OSError``)."""
        try:
            self._writer.close()
            self.check_folder()
        finally:
            self._release_lock()

    def __enter__(self) -> 'SubmissionExporter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._writer.__exit__(exc_type, exc, tb)
            if exc_type is None:
                self.check_folder()
        finally:
            self._release_lock()


def as_2d_scores(scores, name: str) -> np.ndarray:
    """A score map as a 2-D float array, with a clear error otherwise."""
    if hasattr(scores, 'detach'):
        scores = scores.detach().cpu().numpy()
    scores = np.asarray(scores)
    if scores.ndim == 3 and scores.shape[0] == 1:
        scores = scores[0]
    if scores.ndim != 2:
        raise ValueError(f'Frame {name!r}: expected an (H, W) score map, got '
                         f'shape {scores.shape}.')
    # NaN/inf would be written as a "normal" value (or 0): refuse instead.
    return check_finite_scores(scores, f'Frame {name!r}')
