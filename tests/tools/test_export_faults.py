"""tools/export.py under faults: truncated inputs and a full disk.

Faults are injected, not timed: a truncated file is written here, and a
full disk is either an ``ENOSPC`` raised by a patched ``os.fsync`` in the
middle of a frame's write or a real, small tmpfs (when the tests run as
root and may mount).
"""
import errno
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

import mmseg_be  # noqa: F401
from mmseg_be.export import ScoreMapping, SMIYCExporter
from mmseg_be.cli.export import main as export_main
from mmseg_be.export.smiyc import read_smiyc_frame
from tests.helpers import REPO
from tests.tools.test_visualize_export import toy  # noqa: F401 (fixture)

MAPPING_ARGS = ['--mapping', 'minmax', '--low', '-10', '--high', '0']


def export_args(toy, images, out, fmt='smiyc'):
    args = [toy['config'], toy['checkpoint'], '--images', images,
            '--submission', out, '--method', 'm', '--device', 'cpu',
            '--no-progress', '--submission-format', fmt]
    if fmt == 'smiyc':
        return args + ['--dataset-name', 'AnomalyTrack-all'] + MAPPING_ARGS
    return args + ['--fishyscapes-size', '0', '0']


def linked_images(toy, folder):
    os.makedirs(folder)
    for path in sorted(glob.glob(osp.join(toy['images'], '*.png'))):
        os.symlink(path, osp.join(folder, osp.basename(path)))
    return folder


def submission_files(out):
    return sorted(
        p for p in glob.glob(osp.join(out, '**', '*'), recursive=True)
        if p.endswith(('.hdf5', '.npy')))


def hidden_files(out):
    return glob.glob(osp.join(out, '**', '.*'), recursive=True)


def read_frame(path):
    return read_smiyc_frame(path) if path.endswith('.hdf5') else np.load(path)


def assert_same_submission(out, reference):
    files, expected = submission_files(out), submission_files(reference)
    assert [osp.relpath(p, out) for p in files] == [
        osp.relpath(p, reference) for p in expected]
    for a, b in zip(files, expected):
        np.testing.assert_array_equal(read_frame(a), read_frame(b))


def test_truncated_images_skipped_listed_and_skipped_again(toy, tmp_path,
                                                           capsys):
    folder = linked_images(toy, str(tmp_path / 'images'))
    source = cv2.imread(osp.join(toy['images'], '0000.png'))
    jpeg = cv2.imencode('.jpg', source)[1].tobytes()
    png = cv2.imencode('.png', source)[1].tobytes()
    cut_jpg, cut_png = (osp.join(folder, n) for n in ('cut1.jpg', 'cut2.png'))
    open(cut_jpg, 'wb').write(jpeg[:len(jpeg) // 2])
    open(cut_png, 'wb').write(png[:len(png) // 2])
    # The fault: a reduced-size decode accepts the truncated JPEG (so the
    # old check let it through) while a full decode refuses it.
    assert cv2.imread(cut_jpg, cv2.IMREAD_REDUCED_GRAYSCALE_8) is not None
    assert cv2.imdecode(np.frombuffer(jpeg[:len(jpeg) // 2], np.uint8),
                        cv2.IMREAD_COLOR) is None
    out = str(tmp_path / 'sub')
    args = export_args(toy, folder, out)
    for run in range(2):  # the re-run skips them again, without crashing
        assert export_main(args) == 3
        captured = capsys.readouterr()
        assert f'{cut_jpg}: truncated' in captured.err
        assert f'{cut_png}: truncated' in captured.err
        assert ('4 frames exported, 0 already there' if run == 0 else
                '0 frames exported, 4 already there') in captured.out
        manifest = json.load(open(osp.join(out, 'mmseg_be_export.json')))
        assert sorted(manifest['unreadable']) == [cut_jpg, cut_png]
        assert len(submission_files(out)) == 4
    # Repaired files are exported and leave the list.
    open(cut_jpg, 'wb').write(jpeg)
    open(cut_png, 'wb').write(png)
    assert export_main(args) == 0
    assert '2 frames exported, 4 already there' in capsys.readouterr().out
    manifest = json.load(open(osp.join(out, 'mmseg_be_export.json')))
    assert manifest['unreadable'] == {}
    assert len(submission_files(out)) == 6


@pytest.mark.parametrize('fmt', ['smiyc', 'fishyscapes'])
def test_disk_full_stops_cleanly_then_resumes(toy, tmp_path, capsys,
                                              monkeypatch, fmt):
    folder = linked_images(toy, str(tmp_path / 'images'))
    reference = str(tmp_path / 'reference')
    assert export_main(export_args(toy, folder, reference, fmt)) == 0
    capsys.readouterr()
    out = str(tmp_path / 'sub')
    real_fsync = os.fsync
    synced = []

    def fsync_until_full(fd):
        name = os.readlink(f'/proc/self/fd/{fd}')
        if '.tmp-' in name and ('.hdf5' in name or '.npy' in name):
            synced.append(name)
            if len(synced) == 3:  # the bytes are written, the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync_until_full)
    assert export_main(export_args(toy, folder, out, fmt)) == 4
    err = capsys.readouterr().err
    assert f'cannot write the export in {out}: no space left on device' in err
    assert hidden_files(out) == []  # no temporary file left
    written = submission_files(out)
    assert 1 <= len(written) < len(submission_files(reference))
    for path in written:  # what is there is complete
        read_frame(path)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert export_main(export_args(toy, folder, out, fmt)) == 0
    resumed = capsys.readouterr().out
    assert 'already there' in resumed and '0 already there' not in resumed
    assert_same_submission(out, reference)


TMPFS_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    import mmseg_be
    from mmseg_be.export import (FishyscapesExporter, ScoreMapping,
                                 SMIYCExporter)
    root, fmt = sys.argv[1:3]
    if fmt == 'smiyc':
        exporter = SMIYCExporter(root, 'm', 'AnomalyTrack-all', 'energy',
                                 ScoreMapping('minmax', -4.0, 4.0))
    else:
        exporter = FishyscapesExporter(root, 'm', 'energy', size=None)
    with exporter:
        for i in range(12):
            s = np.random.default_rng(i).normal(size=(256, 512))
            s = s.astype(np.float32)
            if fmt == 'smiyc':
                exporter.add(f'f{{i:03d}}', s)
            else:
                exporter.add(f'f{{i:03d}}', s, np.zeros(s.shape, np.uint8))
''')


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        pytest.skip('mounting a tmpfs needs root')
    mount = str(tmp_path / 'tmpfs')
    os.makedirs(mount)
    proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs',
                           mount], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here: {proc.stderr.strip()}')
    try:
        yield mount
    finally:
        subprocess.run(['umount', mount], check=True)


@pytest.mark.parametrize('fmt', ['smiyc', 'fishyscapes'])
def test_real_full_disk_no_crash_no_temp_then_resume(small_tmpfs, fmt):
    """On a real full disk the process exits with a clear error (it used to
    segfault in h5py for SMIYC), leaves no temporary file, and the same
    export resumes once there is space."""
    out = osp.join(small_tmpfs, 'sub')
    cmd = [sys.executable, '-c', TMPFS_SCRIPT.format(repo=REPO), out, fmt]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]  # an exception, no crash
    assert 'ExportWriteError' in proc.stderr
    assert f'cannot write the export in {out}: no space left on device' in \
        proc.stderr
    assert 'Exception ignored' not in proc.stderr
    assert hidden_files(out) == []
    before = submission_files(out)
    assert before  # some frames fit, ...
    for path in before:  # ... and they are complete
        read_frame(path)
    subprocess.run(['mount', '-o', 'remount,size=16m', small_tmpfs],
                   check=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = submission_files(out)
    assert len(files) == 12 * (1 if fmt == 'smiyc' else 2)
    if fmt == 'smiyc':
        for i, path in enumerate(files):
            s = np.random.default_rng(i).normal(size=(256, 512))
            expected = np.clip((s.astype(np.float32).astype(np.float64) + 4)
                               / 8, 0, 1).astype(np.float16)
            np.testing.assert_array_equal(read_smiyc_frame(path), expected)
    else:
        for i in range(12):
            s = np.random.default_rng(i).normal(size=(256, 512))
            np.testing.assert_array_equal(
                np.load(osp.join(out, f'f{i:03d}_anomaly.npy')),
                s.astype(np.float32))


def test_exit_codes_are_documented():
    proc = subprocess.run([sys.executable, 'tools/export.py', '--help'],
                          capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0
    for line in ('3  some input images are unreadable',
                 '4  the output could not be written (e.g. no space left'):
        assert line in proc.stdout
    docs = open(osp.join(REPO, 'docs', 'submission.md')).read()
    assert 'no space left on device' in docs and '| 4 |' in docs


def test_exporter_write_error_keeps_temp_free_in_process(tmp_path,
                                                         monkeypatch):
    """The exporter alone: an ENOSPC mid-frame raises ExportWriteError
    (not a bare RuntimeError) naming the folder."""
    from mmseg_be.export import ExportWriteError
    from mmseg_be.utils import atomic_io
    real = atomic_io.os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, 'No space left on device', src)

    root = str(tmp_path / 'sub')
    with pytest.raises(ExportWriteError, match='no space left on device'):
        with SMIYCExporter(root, 'm', 'AnomalyTrack-all', 'energy',
                           ScoreMapping('minmax', -4.0, 4.0)) as exporter:
            monkeypatch.setattr(atomic_io.os, 'replace', full)
            exporter.add('f000', np.zeros((8, 8), np.float32))
    monkeypatch.setattr(atomic_io.os, 'replace', real)
    assert hidden_files(root) == []
