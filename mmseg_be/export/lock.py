"""One export at a time in a folder: an exclusive lock naming its holder.

Two exports writing into one folder would interleave: the second would read
the manifest before the first recorded its score mapping, calibrate its own
and overwrite the first's record, leaving frames of two mappings under a
manifest naming one. :class:`FolderLock` takes an exclusive ``flock`` on
``{folder}/mmseg_be_export.lock`` for the whole export and writes the
holder (process id, host, start time, command) into it; a second export
waits up to its ``timeout`` and then stops with a message naming the holder.
The operating system releases the lock when the holding process ends, even
if it is killed, so a crashed export never leaves the folder locked. Needs
a file system with working ``flock`` (local disks; some network file
systems ignore it).
"""
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import IO, Optional

try:
    import fcntl
except ImportError:  # Windows: no flock; exports are not locked there
    fcntl = None

LOCK_FILE = 'mmseg_be_export.lock'


class FolderBusyError(RuntimeError):
    """Another export holds the folder's lock (the message names it)."""


def describe_holder(text: str) -> str:
    """The holder recorded in a lock file, as words."""
    try:
        holder = json.loads(text)
        return (f'process {holder["pid"]} on host {holder["host"]}, started '
                f'{holder["started"]}: {holder["command"]}')
    except (ValueError, KeyError, TypeError):
        return 'a process that has just started (it has not written its name)'


class FolderLock:
    """An exclusive lock on a folder, held from :meth:`acquire` to
    :meth:`release` (or the end of the process).

    Args:
        folder: The locked folder (created if missing).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = osp.join(folder, LOCK_FILE)
        self._file: Optional[IO[str]] = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file is not None

    def acquire(self, timeout: float = 0.0, poll: float = 0.2) -> None:
        """Take the lock, waiting up to ``timeout`` seconds for a holder.

        Raises:
            FolderBusyError: Another process (or another lock object) holds
                it after ``timeout``; the message names the holder.
        """
        if fcntl is None or self.held:
            return
        os.makedirs(self.folder, exist_ok=True)
        handle = open(self.path, 'a+')
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = describe_holder(handle.read())
                    handle.close()
                    waited = (f' (waited {timeout:g} s)' if timeout > 0 else
                              '')
                    raise FolderBusyError(
                        f'{self.folder} is being written by another export'
                        f'{waited}: {holder}. Two exports into one folder '
                        'would mix their frames; wait for that one to '
                        'finish and run again (it resumes), or write to '
                        'another folder.') from None
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(dict(
            pid=os.getpid(), host=socket.gethostname(),
            started=time.strftime('%Y-%m-%d %H:%M:%S'),
            command=' '.join([osp.basename(sys.argv[0])] + sys.argv[1:])
            if sys.argv and sys.argv[0] else 'python')) + '\n')
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock back (the file stays: removing it would let two
        later exports lock two different files)."""
        if self._file is not None:
            handle, self._file = self._file, None
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
