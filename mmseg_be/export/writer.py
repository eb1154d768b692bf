"""Atomic file writes and a background writer thread with a bounded queue.

A frame is serialised in memory, written to a temporary name in its final
folder, fsynced and renamed with ``os.replace`` (atomic on one file system),
so an interrupted export never leaves a truncated file under a final name,
and a write error (a full disk) never happens inside a format library (h5py
raising in a destructor crashed the interpreter). Writing (gzip level 9 is
slow) runs in a thread while inference goes on; the queue is bounded so a
slow disk holds inference back instead of filling memory. An error in the
thread is raised again in the caller's thread at the next ``submit`` or at
``close``: a write error as :class:`ExportWriteError`, naming the folder and
the cause.
"""
import queue
import threading
from typing import Callable, Optional

from mmseg_be.utils.atomic_io import (TMP_MARK, atomic_write_bytes,
                                      describe_os_error, remove_stale_temps,
                                      temp_path)

__all__ = ['TMP_MARK', 'ExportWriteError', 'atomic_write_bytes',
           'remove_stale_temps', 'temp_path', 'BackgroundWriter']


class ExportWriteError(RuntimeError):
    """Writing the export failed (disk full, permissions, ...).

    Finished frames stay complete; no temporary or partial file is left.

    Args:
        folder: The export folder.
        error: The write error.
    """

    def __init__(self, folder: str, error: BaseException) -> None:
        self.folder = folder
        self.reason = describe_os_error(error)
        super().__init__(
            f'cannot write the export in {folder}: {self.reason} '
            f'({error}). Frames already written are complete; free space '
            f'(or fix the cause) and run the same command again to resume.')


class BackgroundWriter:
    """Run write jobs in one background thread through a bounded queue.

    Use as a context manager: leaving the block waits for queued jobs and
    re-raises the first error of the thread.

    Args:
        max_queue: Jobs that may wait; ``submit`` blocks when it is full.
        folder: Where the jobs write, named in :class:`ExportWriteError`.
    """

    def __init__(self, max_queue: int = 8, folder: str = '.') -> None:
        if max_queue < 1:
            raise ValueError(f'max_queue must be >= 1, got {max_queue}.')
        self.folder = folder
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._error: Optional[BaseException] = None
        self._closed = False
        self.num_written = 0
        self._thread = threading.Thread(target=self._work,
                                        name='mmseg_be-export-writer',
                                        daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                # After a failure the remaining jobs are drained unrun, so a
                # caller blocked in submit() wakes up and sees the error.
                if self._error is None:
                    job()
                    self.num_written += 1
            except BaseException as error:  # re-raised in the main thread
                self._error = error
            finally:
                self._queue.task_done()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, OSError):
                raise ExportWriteError(self.folder, error) from error
            raise RuntimeError(
                f'The background export writer failed: {error!r}') from error

    def submit(self, job: Callable[[], None]) -> None:
        """Queue a write job (blocks while the queue is full).

        Raises:
            ExportWriteError: An earlier job failed to write (chained to
                its ``OSError``).
            RuntimeError: An earlier job failed otherwise.
        """
        if self._closed:
            raise RuntimeError('submit() on a closed BackgroundWriter.')
        self._raise_if_failed()
        while True:
            try:
                self._queue.put(job, timeout=0.5)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise RuntimeError('The export writer thread is gone.')
                self._raise_if_failed()

    def close(self) -> None:
        """Wait for all queued jobs, stop the thread, re-raise any error."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        self._raise_if_failed()

    def __enter__(self) -> 'BackgroundWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        # Already unwinding: finish the thread, keep the original error and
        # attach the writer's own failure to it rather than dropping it.
        try:
            self.close()
        except RuntimeError as writer_error:
            exc.add_note(f'Also: {writer_error}')
