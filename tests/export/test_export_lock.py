"""Two exports into one folder cannot interleave.

The interleaving of the bug (a second export opened before the first
recorded its score mapping) is forced step by step through the public
``SMIYCExporter``; then two real ``tools/export.py`` processes are started
together. The oracle for every frame is the mapping computed by hand from
the calibration frames (min/max widened by the margin) applied with numpy.
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest

from mmseg_be.export import (MANIFEST, FolderBusyError, ScoreMapping,
                             SMIYCExporter, read_smiyc_frame)
from mmseg_be.export.base import ExportFolderError
from mmseg_be.export.smiyc import read_frame_mapping, write_smiyc_frame
from tests.helpers import REPO, write_toy_ood_checkpoint

DATASET = 'AnomalyTrack-all'


def scores(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1 + seed, (6, 8))


def by_hand(calibration, margin=0.05):
    """(low, high) of a minmax mapping calibrated on ``calibration``."""
    low = min(float(s.min()) for s in calibration)
    high = max(float(s.max()) for s in calibration)
    pad = margin * (high - low)
    return low - pad, high + pad


def expected_frame(raw, low, high):
    return np.clip((raw - low) / (high - low), 0, 1).astype(np.float16)


def frames(root, method='m'):
    folder = osp.join(root, 'anomaly_p', method, DATASET)
    return sorted(f for f in os.listdir(folder) if f.endswith('.hdf5'))


def test_second_export_is_refused_while_the_first_calibrates(tmp_path):
    root = str(tmp_path / 'sub')
    first = SMIYCExporter(root, 'm', DATASET, 'energy', calib_frames=2)
    first.add('f0', scores(0))  # held back: the mapping is not recorded
    with pytest.raises(FolderBusyError) as info:
        SMIYCExporter(root, 'm', DATASET, 'energy', calib_frames=2)
    message = str(info.value)
    assert f'process {os.getpid()} on host {socket.gethostname()}' in message
    assert root in message
    first.add('f1', scores(1))
    first.add('f2', scores(2))
    first.close()
    # The second run, started after, resumes with the first's mapping.
    second = SMIYCExporter(root, 'm', DATASET, 'energy', calib_frames=2)
    assert second.add('f1', scores(1)) is False  # already there
    second.add('f3', scores(3))
    second.close()
    low, high = by_hand([scores(0), scores(1)])
    manifest = json.load(open(osp.join(root, MANIFEST)))
    recorded = manifest['datasets'][DATASET]['mapping']
    assert recorded['low'] == pytest.approx(low)
    assert recorded['high'] == pytest.approx(high)
    assert frames(root) == ['f0.hdf5', 'f1.hdf5', 'f2.hdf5', 'f3.hdf5']
    for i in range(4):
        path = osp.join(root, 'anomaly_p', 'm', DATASET, f'f{i}.hdf5')
        np.testing.assert_array_equal(read_smiyc_frame(path),
                                      expected_frame(scores(i), low, high))


def test_waits_for_the_lock_when_asked(tmp_path):
    root = str(tmp_path / 'sub')
    first = SMIYCExporter(root, 'm', DATASET, 'energy',
                          mapping=ScoreMapping('minmax', -3.0, 3.0))
    with pytest.raises(FolderBusyError, match='waited 0.3 s'):
        SMIYCExporter(root, 'm', DATASET, 'energy', lock_timeout=0.3)
    first.close()
    # Released: the next one opens at once.
    SMIYCExporter(root, 'm', DATASET, 'energy').close()


def test_mapping_recorded_meanwhile_is_adopted_not_replaced(tmp_path):
    root = str(tmp_path / 'sub')
    first = SMIYCExporter(root, 'm', DATASET, 'energy', calib_frames=2)
    first.add('f0', scores(0))
    # A writer that does not take the lock records a mapping meanwhile.
    given = ScoreMapping('minmax', -4.0, 9.0)
    other = SMIYCExporter(root, 'm', DATASET, 'energy', mapping=given,
                          lock=False)
    other.add('g0', scores(5))
    other.close()
    first.add('f1', scores(1))  # calibrates: re-reads, adopts the record
    first.close()
    assert first.mapping == given
    manifest = json.load(open(osp.join(root, MANIFEST)))
    assert manifest['datasets'][DATASET]['mapping'] == given.to_dict()
    for name, raw in [('f0', scores(0)), ('f1', scores(1)),
                      ('g0', scores(5))]:
        path = osp.join(root, 'anomaly_p', 'm', DATASET, f'{name}.hdf5')
        np.testing.assert_array_equal(read_smiyc_frame(path),
                                      expected_frame(raw, -4.0, 9.0))
        assert read_frame_mapping(path) == given


def test_frames_of_another_mapping_are_rewritten_or_named(tmp_path):
    root = str(tmp_path / 'sub')
    mapping = ScoreMapping('minmax', -3.0, 3.0)
    with SMIYCExporter(root, 'm', DATASET, 'energy', mapping=mapping) as e:
        e.add('f0', scores(0))
    folder = osp.join(root, 'anomaly_p', 'm', DATASET)
    stray = ScoreMapping('minmax', 0.0, 1.0)
    # A frame of this run's images made with another mapping: written again.
    write_smiyc_frame(osp.join(folder, 'f0.hdf5'),
                      stray(scores(0), np.float16), stray)
    with SMIYCExporter(root, 'm', DATASET, 'energy') as e:
        assert e.add('f0', scores(0)) is True
    np.testing.assert_array_equal(
        read_smiyc_frame(osp.join(folder, 'f0.hdf5')),
        expected_frame(scores(0), -3.0, 3.0))
    # One this run does not cover: the folder check names it.
    write_smiyc_frame(osp.join(folder, 'x9.hdf5'),
                      stray(scores(9), np.float16), stray)
    exporter = SMIYCExporter(root, 'm', DATASET, 'energy')
    exporter.add('f1', scores(1))
    with pytest.raises(ExportFolderError, match=r'1 frames .*x9\.hdf5'):
        exporter.close()
    # The lock was given back all the same.
    SMIYCExporter(root, 'm', DATASET, 'energy', overwrite=True).close()


def test_two_real_export_processes_started_together(tmp_path):
    toy = write_toy_ood_checkpoint(str(tmp_path / 'toy'))
    root = str(tmp_path / 'sub')
    command = [sys.executable, osp.join(REPO, 'tools', 'export.py'),
               toy['config'], toy['checkpoint'], '--submission', root,
               '--method', 'm', '--dataset-name', DATASET, '--images',
               toy['images'], '--calib-frames', '3', '--device', 'cpu',
               '--no-progress']
    env = dict(os.environ, PYTHONPATH=REPO)
    runs = [subprocess.Popen(command, cwd=REPO, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    # Either they overlapped (one refused, naming the other) or not (the
    # second resumed); never two mappings.
    assert codes in ([0, 0], [0, 2]), results
    for code, err in results:
        if code == 2:
            assert 'is being written by another export: process' in err
    manifest = json.load(open(osp.join(root, MANIFEST)))
    recorded = ScoreMapping.from_dict(
        manifest['datasets'][DATASET]['mapping'])
    names = frames(root)
    assert len(names) == len(os.listdir(toy['images']))
    folder = osp.join(root, 'anomaly_p', 'm', DATASET)
    for name in names:
        assert read_frame_mapping(osp.join(folder, name)) == recorded
    with open(osp.join(folder, 'score_mapping.json')) as f:
        assert json.load(f)['mapping'] == recorded.to_dict()
