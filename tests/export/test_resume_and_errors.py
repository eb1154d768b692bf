"""Interrupted exports resume cleanly; writer errors reach the caller."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import mmseg_be  # noqa: F401
import mmseg_be.export  # noqa: F401
from mmseg_be.export import BackgroundWriter, ScoreMapping, SMIYCExporter
from mmseg_be.export import smiyc as smiyc_module
from mmseg_be.export.smiyc import read_smiyc_frame
from tests.helpers import REPO

MAPPING = ScoreMapping('minmax', -4.0, 4.0)


def frame_scores(i: int) -> np.ndarray:
    return np.random.default_rng(i).normal(size=(32, 48)).astype(np.float32)


def hdf5_files(root: str):
    return sorted(glob.glob(osp.join(root, 'anomaly_p', '*', '*', '*.hdf5')))


def temp_files(root: str):
    return glob.glob(osp.join(root, '**', '.*.tmp-*'), recursive=True)


def expected_frame(i: int) -> np.ndarray:
    s = frame_scores(i).astype(np.float64)
    return np.clip((s + 4.0) / 8.0, 0, 1).astype(np.float16)


def check_complete(root: str, num: int) -> None:
    files = hdf5_files(root)
    assert [osp.basename(p) for p in files] == [f'f{i:03d}.hdf5'
                                                for i in range(num)]
    for i, path in enumerate(files):
        np.testing.assert_array_equal(read_smiyc_frame(path),
                                      expected_frame(i))
    assert temp_files(root) == []


def test_error_in_the_middle_then_resume(tmp_path, monkeypatch):
    root = str(tmp_path / 'sub')
    real_write = smiyc_module.write_smiyc_frame
    calls = []

    def flaky_write(path, probs, mapping=None):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, 'No space left on device')
        real_write(path, probs, mapping)

    monkeypatch.setattr(smiyc_module, 'write_smiyc_frame', flaky_write)
    with pytest.raises(RuntimeError, match='No space left') as info:
        with SMIYCExporter(root, 'm', 'AnomalyTrack-all', 'energy',
                           MAPPING) as exporter:
            for i in range(10):
                exporter.add(f'f{i:03d}', frame_scores(i))
    assert isinstance(info.value.__cause__, OSError)
    written = hdf5_files(root)
    assert 3 <= len(written) < 10
    monkeypatch.setattr(smiyc_module, 'write_smiyc_frame', real_write)
    with SMIYCExporter(root, 'm', 'AnomalyTrack-all', 'energy') as exporter:
        added = [exporter.add(f'f{i:03d}', frame_scores(i))
                 for i in range(10)]
    assert exporter.num_skipped == len(written)
    assert added.count(True) == 10 - len(written)
    check_complete(root, 10)


SCRIPT = textwrap.dedent('''
    import sys, time
    import numpy as np
    sys.path.insert(0, {repo!r})
    import mmseg_be
    from mmseg_be.export import ScoreMapping, SMIYCExporter
    with SMIYCExporter({root!r}, 'm', 'AnomalyTrack-all', 'energy',
                       ScoreMapping('minmax', -4.0, 4.0)) as exporter:
        for i in range(60):
            s = np.random.default_rng(i).normal(size=(32, 48))
            exporter.add(f'f{{i:03d}}', s.astype(np.float32))
            time.sleep(0.02)
''')


def test_killed_subprocess_leaves_no_truncated_file(tmp_path):
    root = str(tmp_path / 'sub')
    proc = subprocess.Popen(
        [sys.executable, '-c', SCRIPT.format(repo=REPO, root=root)],
        env=dict(os.environ, OMP_NUM_THREADS='1'), stderr=subprocess.PIPE)
    for _ in range(1200):  # poll for up to about a minute
        if len(hdf5_files(root)) >= 5:
            break
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    before = hdf5_files(root)
    assert 5 <= len(before) < 60
    # Every file under a final name is complete, whatever the kill hit.
    for path in before:
        read_smiyc_frame(path)
    # A temporary file as a kill in the middle of a write would leave it.
    stale = osp.join(root, 'anomaly_p', 'm', 'AnomalyTrack-all',
                     '.f999.hdf5.tmp-1-1')
    open(stale, 'wb').write(b'\x89HDF half')
    # A truncated frame under a final name (e.g. copied by hand): rewritten.
    with open(before[0], 'r+b') as f:
        f.truncate(100)
    with SMIYCExporter(root, 'm', 'AnomalyTrack-all', 'energy') as exporter:
        for i in range(60):
            exporter.add(f'f{i:03d}', frame_scores(i))
    assert exporter.num_skipped == len(before) - 1
    assert not osp.exists(stale)
    files = hdf5_files(root)
    assert len(files) == 60 and len(set(files)) == 60
    for i in (0, 30, 59):
        np.testing.assert_array_equal(read_smiyc_frame(files[i]),
                                      expected_frame(i))


def test_writer_error_surfaces_and_queue_is_bounded():
    release = threading.Event()
    started = threading.Event()

    def slow():
        started.set()
        release.wait(10)

    writer = BackgroundWriter(max_queue=1)
    writer.submit(slow)
    started.wait(5)
    writer.submit(lambda: None)  # fills the one queue slot
    blocked = threading.Thread(target=writer.submit, args=(lambda: None, ))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # a full queue holds the producer back
    release.set()
    blocked.join(5)
    assert not blocked.is_alive()
    writer.close()
    assert writer.num_written == 3

    def fail():
        raise PermissionError('read-only file system')

    writer = BackgroundWriter(max_queue=2)
    writer.submit(fail)
    with pytest.raises(RuntimeError, match='read-only') as info:
        for _ in range(50):
            writer.submit(lambda: None)
            time.sleep(0.01)
        writer.close()
    assert isinstance(info.value.__cause__, PermissionError)
    writer.close()  # the error was raised once; closing again is quiet
