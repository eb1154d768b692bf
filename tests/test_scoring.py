"""Anomaly scores against the formulas written out by hand."""
import math

import numpy as np
import pytest
import torch

from mmseg_be.scoring import SCORE_FUNCTIONS, compute_anomaly_score


@pytest.fixture
def logits():
    return torch.randn(2, 5, 6, 7, generator=torch.Generator().manual_seed(0))


def test_formulas_per_pixel(logits):
    T = 2.0
    energy = compute_anomaly_score(logits, 'energy', temperature=T)
    max_logit = compute_anomaly_score(logits, 'max_logit')
    msp = compute_anomaly_score(logits, 'max_softmax')
    ent = compute_anomaly_score(logits, 'entropy')
    for n, i, j in [(0, 0, 0), (1, 5, 6), (0, 3, 2)]:
        f = [float(v) for v in logits[n, :, i, j]]
        lse = math.log(sum(math.exp(v / T) for v in f))
        assert energy[n, i, j].item() == pytest.approx(-T * lse, rel=1e-5)
        assert max_logit[n, i, j].item() == pytest.approx(-max(f))
        z = sum(math.exp(v) for v in f)
        p = [math.exp(v) / z for v in f]
        assert msp[n, i, j].item() == pytest.approx(-max(p), rel=1e-5)
        assert ent[n, i, j].item() == pytest.approx(
            -sum(q * math.log(q) for q in p), rel=1e-5)


def test_single_image_shape_and_num_classes(logits):
    single = compute_anomaly_score(logits[0], 'energy')
    assert single.shape == (6, 7)
    torch.testing.assert_close(single, compute_anomaly_score(logits)[0])
    # an abstention channel last is left out with num_classes
    extra = torch.cat([logits, torch.full_like(logits[:, :1], 50.0)], 1)
    torch.testing.assert_close(
        compute_anomaly_score(extra, 'energy', num_classes=5),
        compute_anomaly_score(logits, 'energy'))
    with pytest.raises(ValueError, match='num_classes'):
        compute_anomaly_score(logits, num_classes=9)
    with pytest.raises(KeyError, match='max_logit'):
        compute_anomaly_score(logits, 'nope')
    assert set(SCORE_FUNCTIONS) == {'energy', 'max_logit', 'max_softmax',
                                    'entropy'}


def test_smoothing_is_a_reflect_padded_gaussian(logits):
    raw = compute_anomaly_score(logits, 'energy')
    smooth = compute_anomaly_score(logits, 'energy', smooth_kernel=7,
                                   smooth_sigma=1.0)
    assert smooth.shape == raw.shape
    w = [math.exp(-0.5 * (x - 3) ** 2) for x in range(7)]
    w = [v / sum(w) for v in w]

    def reflect(k, size):
        return -k if k < 0 else (2 * (size - 1) - k if k >= size else k)

    for n, i, j in [(0, 0, 0), (1, 3, 3), (0, 5, 6)]:
        expect = sum(w[a] * w[b] * raw[n, reflect(i + a - 3, 6),
                                       reflect(j + b - 3, 7)].item()
                     for a in range(7) for b in range(7))
        assert smooth[n, i, j].item() == pytest.approx(expect, rel=1e-5)
    const = torch.zeros(1, 3, 8, 8)
    torch.testing.assert_close(
        compute_anomaly_score(const, 'energy', smooth_kernel=7),
        compute_anomaly_score(const, 'energy'))
    with pytest.raises(ValueError, match='odd'):
        compute_anomaly_score(logits, smooth_kernel=4)


def test_scores_from_sample_reads_the_logits_and_names_the_image():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmseg_be.scoring import NonFiniteScoreError, scores_from_sample
    logits = torch.tensor([[[0.0, 1.0]], [[math.log(3.0), 1.0]]])  # (2,1,2)
    sample = SegDataSample(metainfo=dict(img_path='a/frame.png'))
    sample.seg_logits = PixelData(data=logits)
    scores = scores_from_sample(sample, dict(name='energy'))
    # -log(e^0 + 3) = -log 4; -log(2e)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, [[-math.log(4.0), -1 - math.log(2)]],
                               rtol=1e-6)
    sample.seg_logits = PixelData(data=logits * float('nan'))
    with pytest.raises(NonFiniteScoreError, match='a/frame.png: 2 of 2'):
        scores_from_sample(sample)
    with pytest.raises(ValueError, match='no seg_logits'):
        scores_from_sample(SegDataSample())
