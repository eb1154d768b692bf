"""Crash-safe file writes: temporary name, flush, fsync, rename.

A file written with :func:`atomic_write_bytes` is either absent or complete
under its final name, whatever moment a ``kill -9``, a full disk or a power
cut hits: the bytes go to a temporary file in the same folder (so the rename
stays on one file system and is atomic), are flushed and fsynced, and only
then renamed over the final name. On an error the temporary file is removed;
a kill leaves it behind under a name :func:`remove_stale_temps` recognises.
"""
import errno
import glob
import os
import os.path as osp
import threading
from typing import List, Union

#: Marks temporary files; a final name never contains it.
TMP_MARK = '.tmp-'

_REASONS = {
    errno.ENOSPC: 'no space left on device',
    errno.EDQUOT: 'disk quota exceeded',
    errno.EROFS: 'read-only file system',
    errno.EACCES: 'permission denied',
    errno.EPERM: 'operation not permitted',
    errno.EFBIG: 'file too large',
    errno.EIO: 'input/output error',
}


def temp_path(path: str) -> str:
    """A hidden temporary name next to ``path``, unique per process and
    thread (``dir/.name.tmp-PID-TID``)."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}{TMP_MARK}{os.getpid()}-'
                    f'{threading.get_ident()}')


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(fd)


def atomic_write_bytes(path: str,
                       data: Union[bytes, bytearray, memoryview],
                       fsync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        path: Final file path; its folder must exist.
        data: The file's complete contents.
        fsync: Flush the file (and the folder entry) to the disk before and
            after the rename, so a power cut cannot leave an empty file.

    Raises:
        OSError: The write failed (e.g. ``ENOSPC``); ``path`` is unchanged
            and no temporary file is left.
    """
    tmp = temp_path(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    if fsync:
        _fsync_folder(osp.dirname(osp.abspath(path)))


def remove_stale_temps(folder: str, recursive: bool = True) -> List[str]:
    """Delete temporary files a killed writer left under ``folder``.

    Only call this where no other process is writing into ``folder``.

    Returns:
        list[str]: The removed paths.
    """
    pattern = (osp.join(folder, '**', f'.*{TMP_MARK}*')
               if recursive else osp.join(folder, f'.*{TMP_MARK}*'))
    stale = [p for p in glob.glob(pattern, recursive=recursive)
             if osp.isfile(p)]
    for path in stale:
        os.remove(path)
    return stale


def describe_os_error(error: BaseException) -> str:
    """A short lower-case cause of a write error, e.g. ``'no space left on
    device'``, for messages that tell the user what to fix."""
    code = getattr(error, 'errno', None)
    if code in _REASONS:
        return _REASONS[code]
    if isinstance(code, int) and code > 0:
        return os.strerror(code).lower()
    return str(error) or type(error).__name__
