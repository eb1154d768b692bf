"""SMIYC and Fishyscapes files read back with h5py/numpy, mappings, refusal."""
import glob
import json
import os.path as osp

import h5py
import numpy as np
import pytest

import mmseg_be  # noqa: F401
import mmseg_be.export  # noqa: F401
from mmseg_be.export import (ExportFolderError, FishyscapesExporter,
                             ScoreMapping, SMIYCExporter)


def make_frames(num: int = 5, shape=(12, 20), seed: int = 0):
    """Raw scores (unbounded, like negative energy) and 0/1/255 labels."""
    rng = np.random.default_rng(seed)
    frames = {}
    for i in range(num):
        labels = np.zeros(shape, np.uint8)
        labels[2:6, 3 + i:9 + i] = 1
        labels[:, 0] = 255
        scores = rng.normal(-12.0, 2.0, shape) + 6.0 * (labels == 1)
        frames[f'validation{i:04d}'] = (scores.astype(np.float32), labels)
    return frames


def test_smiyc_round_trip(tmp_path):
    frames = make_frames()
    root = str(tmp_path / 'sub')
    with SMIYCExporter(root, 'balanced_energy', 'AnomalyTrack-all', 'energy',
                       calib_frames=3) as exporter:
        for fid, (scores, _) in frames.items():
            assert exporter.add(fid, scores)
    folder = osp.join(root, 'anomaly_p', 'balanced_energy', 'AnomalyTrack-all')
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(folder, '*')))
    assert names == sorted([f'{f}.hdf5' for f in frames] +
                           ['score_mapping.json'])
    record = json.load(open(osp.join(folder, 'score_mapping.json')))
    low, high = record['mapping']['low'], record['mapping']['high']
    # The calibration spans the first three frames, widened by 5% per side.
    first3 = np.concatenate([frames[f][0].ravel() for f in list(frames)[:3]])
    pad = 0.05 * (first3.max() - first3.min())
    assert low == pytest.approx(first3.min() - pad)
    assert high == pytest.approx(first3.max() + pad)
    manifest = json.load(open(osp.join(root, 'mmseg_be_export.json')))
    assert manifest['method'] == 'balanced_energy'
    assert manifest['datasets']['AnomalyTrack-all']['mapping'] == \
        record['mapping']

    raw_all, back_all = [], []
    for fid, (scores, _) in frames.items():
        with h5py.File(osp.join(folder, f'{fid}.hdf5'), 'r') as f:
            assert list(f.keys()) == ['value']
            data = f['value']
            assert data.dtype == np.float16
            assert data.compression == 'gzip' and data.compression_opts == 9
            assert data.shape == scores.shape
            back = data[()]
        # Oracle: the affine map written out by hand, rounded to float16.
        expected = np.clip((scores.astype(np.float64) - low) / (high - low),
                           0, 1).astype(np.float16)
        np.testing.assert_array_equal(back, expected)
        raw_all.append(scores.ravel())
        back_all.append(back.ravel())
    raw_all, back_all = np.concatenate(raw_all), np.concatenate(back_all)
    assert back_all.min() >= 0 and back_all.max() <= 1
    # Monotone: sorting by the raw score sorts the written values too.
    assert np.all(np.diff(back_all[np.argsort(raw_all)].astype(float)) >= 0)


def test_smiyc_refuses_another_method_unless_overwrite(tmp_path):
    root = str(tmp_path / 'sub')
    frames = make_frames(2)
    with SMIYCExporter(root, 'method_a', 'AnomalyTrack-all', 'energy',
                       ScoreMapping('minmax', -20, 0)) as exporter:
        for fid, (scores, _) in frames.items():
            exporter.add(fid, scores)
    with pytest.raises(ExportFolderError, match="method 'method_a'"):
        SMIYCExporter(root, 'method_b', 'AnomalyTrack-all', 'energy')
    with pytest.raises(ExportFolderError, match="score 'energy'"):
        SMIYCExporter(root, 'method_a', 'AnomalyTrack-all', 'max_logit')
    # A resumed export may not change the mapping either.
    with pytest.raises(ValueError, match='mix two mappings'):
        SMIYCExporter(root, 'method_a', 'AnomalyTrack-all', 'energy',
                      ScoreMapping('minmax', -30, 0))
    with SMIYCExporter(root, 'method_b', 'AnomalyTrack-all', 'energy',
                       ScoreMapping('minmax', -20, 0),
                       overwrite=True) as exporter:
        exporter.add('validation0000', frames['validation0000'][0])
    left = sorted(glob.glob(osp.join(root, 'anomaly_p', '*', '*', '*.hdf5')))
    assert [osp.relpath(p, root) for p in left] == [
        osp.join('anomaly_p', 'method_b', 'AnomalyTrack-all',
                 'validation0000.hdf5')]


def test_folder_with_files_of_unknown_origin_is_refused(tmp_path):
    np.save(tmp_path / 'img1_anomaly.npy', np.zeros((2, 2)))
    with pytest.raises(ExportFolderError, match='unknown origin'):
        FishyscapesExporter(str(tmp_path), 'm', 'energy')
    FishyscapesExporter(str(tmp_path), 'm', 'energy', overwrite=True).close()
    assert not osp.exists(tmp_path / 'img1_anomaly.npy')


def test_fishyscapes_pair_and_resize(tmp_path):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(8, 16)).astype(np.float32)
    seg = rng.integers(0, 19, (8, 16))
    with FishyscapesExporter(str(tmp_path), 'm', 'energy',
                             size=(16, 32)) as exporter:
        exporter.add('frame_a', scores, seg)
    anomaly = np.load(tmp_path / 'frame_a_anomaly.npy')
    segmentation = np.load(tmp_path / 'frame_a_segmentation.npy')
    assert anomaly.shape == (16, 32) and anomaly.dtype == np.float32
    assert segmentation.shape == (16, 32)
    # Nearest-neighbour doubling of the class ids: every id repeated 2x2.
    np.testing.assert_array_equal(segmentation,
                                  seg.repeat(2, axis=0).repeat(2, axis=1))
    assert anomaly.min() >= scores.min() - 1e-6
    assert anomaly.max() <= scores.max() + 1e-6
    with FishyscapesExporter(str(tmp_path), 'm', 'energy',
                             size=(16, 32)) as exporter:
        assert not exporter.add('frame_a', scores, seg)  # resumed: skipped
        with pytest.raises(ValueError, match='differ in size'):
            exporter.add('frame_b', scores, seg[:4])


def test_score_mappings():
    s = np.array([-5.0, -1.0, 0.0, 2.0, 40.0])
    sig = ScoreMapping('sigmoid', center=0.0, scale=2.0)(s)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-s / 2.0)), rtol=1e-6)
    np.testing.assert_allclose(
        ScoreMapping('minmax', -1.0, 1.0)(s), [0, 0, 0.5, 1, 1])
    np.testing.assert_array_equal(
        ScoreMapping('identity')(np.array([0.0, 0.3])), np.float32([0, 0.3]))
    with pytest.raises(ValueError, match='identity mapping needs'):
        ScoreMapping('identity')(s)
    with pytest.raises(ValueError, match='low < high'):
        ScoreMapping('minmax', 1.0, 1.0)
    with pytest.raises(ValueError, match='Unknown score mapping'):
        ScoreMapping('rank')
    m = ScoreMapping('sigmoid', center=1.0, scale=3.0)
    assert ScoreMapping.from_dict(m.to_dict()) == m
