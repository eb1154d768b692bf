"""Exported SMIYC frames evaluate like the in-memory scores.

The read-back files go through the evaluator's SMIYC binned mode (the
leaderboard's metric) and its exact mode; the numbers must equal those of the
same mapping applied in memory and rounded to float16, and stay within
float16 rounding of the raw float32 scores.
"""
import glob
import os.path as osp

import h5py
import numpy as np

import mmseg_be  # noqa: F401
import mmseg_be.export  # noqa: F401
from mmseg_be.evaluation.binned_accumulator import SMIYCBinnedAccumulator
from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator
from mmseg_be.export import ScoreMapping, SMIYCExporter


def make_frames(num: int = 6, shape=(40, 60), seed: int = 3):
    rng = np.random.default_rng(seed)
    frames = {}
    for i in range(num):
        labels = np.zeros(shape, np.uint8)
        y, x = rng.integers(0, shape[0] - 10), rng.integers(0, shape[1] - 15)
        labels[y:y + 10, x:x + 15] = 1
        labels[:3] = 255
        scores = rng.normal(-12.0, 2.0, shape) + 3.0 * (labels == 1)
        frames[f'validation{i:04d}'] = (scores.astype(np.float32), labels)
    return frames


def evaluate(score_maps, labels):
    binned, exact = SMIYCBinnedAccumulator(), PixelOODAccumulator()
    for scores, label in zip(score_maps, labels):
        binned.update(scores, label, ignore_index=255)
        exact.update(scores, label, ignore_index=255)
    return binned.compute(), exact.compute()


def test_read_back_scores_evaluate_like_in_memory(tmp_path):
    frames = make_frames()
    root = str(tmp_path / 'sub')
    with SMIYCExporter(root, 'balanced_energy', 'AnomalyTrack-all', 'energy',
                       calib_frames=4) as exporter:
        for fid, (scores, _) in frames.items():
            exporter.add(fid, scores)
    folder = osp.join(root, 'anomaly_p', 'balanced_energy', 'AnomalyTrack-all')
    paths = sorted(glob.glob(osp.join(folder, '*.hdf5')))
    assert [osp.basename(p)[:-5] for p in paths] == sorted(frames)
    read_back = []
    for path in paths:
        with h5py.File(path, 'r') as f:
            read_back.append(f['value'][()])
    labels = [frames[f][1] for f in sorted(frames)]
    raw = [frames[f][0] for f in sorted(frames)]

    mapping = exporter.mapping
    in_memory = [mapping(s, dtype=np.float16) for s in raw]
    file_binned, file_exact = evaluate(read_back, labels)
    mem_binned, mem_exact = evaluate(in_memory, labels)
    raw_binned, raw_exact = evaluate(raw, labels)
    for key in ('AUROC', 'AP', 'FPR95'):
        assert file_binned[key] == mem_binned[key]
        assert file_exact[key] == mem_exact[key]
        # float16 keeps ~3 decimal digits over the mapped range: the ranking
        # changes only among nearly tied pixels.
        assert abs(file_binned[key] - raw_binned[key]) < 5e-3, key
        assert abs(file_exact[key] - raw_exact[key]) < 5e-3, key
    # The data are not degenerate: anomalies score higher on average.
    assert 0.7 < raw_exact['AUROC'] < 1.0
    assert isinstance(mapping, ScoreMapping) and mapping.kind == 'minmax'
