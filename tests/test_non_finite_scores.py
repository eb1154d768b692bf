"""NaN/inf anomaly scores fail the same way everywhere, naming frame + count.

The evaluator rejects them on evaluated pixels (tests/evaluation); the
visualizer and both exporters must not paint them as "normal" or write them
as 0.
"""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmseg_be  # noqa: F401
from mmseg_be.export import FishyscapesExporter, ScoreMapping, SMIYCExporter
from mmseg_be.scoring import NonFiniteScoreError, check_finite_scores
from mmseg_be.visualization import AnomalyVisualizer


def bad_map():
    scores = np.zeros((6, 8), np.float32)
    scores[1, 2] = np.nan
    scores[3, 4] = np.inf
    scores[5, 7] = -np.inf
    return scores


def test_check_counts_every_non_finite_value():
    with pytest.raises(NonFiniteScoreError, match=r'frame_7: 3 of 48'):
        check_finite_scores(bad_map(), 'frame_7')
    ok = np.ones((2, 2))
    assert check_finite_scores(ok, 'x') is ok


def test_smiyc_exporter_refuses_and_writes_nothing(tmp_path):
    exporter = SMIYCExporter(str(tmp_path), 'm', 'AnomalyTrack-all',
                             'energy', ScoreMapping('minmax', 0.0, 1.0))
    with pytest.raises(NonFiniteScoreError, match=r"'frame_7'.*3 of 48"):
        exporter.add('frame_7', bad_map())
    exporter.close()
    assert not list(tmp_path.rglob('*.hdf5'))


def test_fishyscapes_exporter_refuses_and_writes_nothing(tmp_path):
    exporter = FishyscapesExporter(str(tmp_path), 'm', 'energy', size=None)
    with pytest.raises(NonFiniteScoreError, match=r"'frame_7'.*3 of 48"):
        exporter.add('frame_7', bad_map(), np.zeros((6, 8), np.uint8))
    exporter.close()
    assert not list(tmp_path.rglob('*.npy'))


def test_visualizer_refuses_to_paint_nan(tmp_path):
    vis = AnomalyVisualizer(name='nonfinite_vis', save_dir=str(tmp_path))
    sample = SegDataSample(metainfo=dict(img_path='road/frame_7.png'))
    logits = torch.zeros(3, 6, 8)
    logits[:, 1, 2] = float('nan')
    sample.seg_logits = PixelData(data=logits)
    with pytest.raises(NonFiniteScoreError, match=r'frame_7\.png: 1 of 48'):
        vis.draw_anomaly(np.zeros((6, 8, 3), np.uint8), sample)
