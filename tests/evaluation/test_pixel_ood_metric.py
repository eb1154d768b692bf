"""PixelOODMetric inside mmengine's Evaluator, one rank vs two ranks."""
import json
import pickle

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from sklearn.metrics import average_precision_score, roc_auc_score

import mmseg_be  # noqa: F401  (registers the metric)
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample


def make_samples(n=6, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        h, w = 24 + 4 * i, 30
        label = torch.zeros(1, h, w, dtype=torch.uint8)
        label[0, 5:12, 8:20] = 1
        label[0, :2] = 255
        logits = torch.randn(classes, h, w, generator=g) * 3
        logits[:, label[0] == 1] *= 0.2
        s = SegDataSample(metainfo=dict(img_path=f'img_{i}.png'))
        s.seg_logits = PixelData(data=logits)
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    return samples


def build(**kwargs):
    return METRICS.build(dict(type='PixelOODMetric', **kwargs))


def test_two_ranks_equal_one_rank_and_sklearn():
    samples = make_samples()
    cfg = dict(score='energy', smooth_kernel=3, smooth_sigma=1.0,
               tprs=(0.9,), binned=True, pebal_compat=True)
    one = Evaluator(build(**cfg))
    for s in samples:
        one.process([s])
    single = one.evaluate(len(samples))

    ranks = [Evaluator(build(**cfg)) for _ in range(2)]
    for i, s in enumerate(samples):
        ranks[i % 2].process([s])          # like a distributed sampler
    # what collect_results does: pickle each rank's list and concatenate
    gathered = []
    for ev in ranks:
        gathered += pickle.loads(pickle.dumps(ev.metrics[0].results))
    assert len(gathered) == 2
    two = ranks[0].metrics[0].compute_metrics(gathered)
    assert two == single

    # oracle: the energy written out, smoothed by a 3x3 Gaussian by hand
    scores, labels = [], []
    k = torch.exp(-0.5 * torch.tensor([-1.0, 0.0, 1.0]) ** 2)
    k = (k / k.sum())[:, None] * (k / k.sum())[None, :]
    for s in samples:
        e = -torch.log(torch.exp(s.seg_logits.data).sum(0))
        padded = torch.nn.functional.pad(e[None, None], (1, 1, 1, 1),
                                         mode='reflect')[0, 0]
        sm = sum(k[i, j] * padded[i:i + e.shape[0], j:j + e.shape[1]]
                 for i in range(3) for j in range(3))
        lab = s.gt_sem_seg.data[0].numpy()
        scores.append(sm.numpy()[lab < 2])
        labels.append(lab[lab < 2])
    s, y = np.concatenate(scores), np.concatenate(labels)
    assert single['AUROC'] == pytest.approx(100 * roc_auc_score(y, s),
                                            abs=1e-3)
    assert single['AP'] == pytest.approx(100 * average_precision_score(y, s),
                                         abs=1e-3)
    assert 'SMIYC_AP' in single and 'FPR90' in single


def test_state_holds_no_full_maps():
    metric = build()
    metric.process({}, [s.to_dict() for s in make_samples(2)])
    assert len(metric.results) == 1
    state = metric.results[0]
    assert not any(isinstance(v, torch.Tensor) for v in vars(state).values())


def test_bad_inputs_name_the_image():
    metric = build()
    s = make_samples(1)[0]
    s.gt_sem_seg.data[0, 0, 0] = 7
    with pytest.raises(ValueError, match=r'img_0\.png.*\[7\]'):
        metric.process({}, [s.to_dict()])
    s = make_samples(1)[0]
    s.seg_logits.data[:, 3, 3] = float('nan')
    with pytest.raises(ValueError, match=r'img_0\.png.*NaN'):
        metric.process({}, [s.to_dict()])
    s = make_samples(1)[0]
    s.seg_logits = PixelData(data=torch.zeros(4, 10, 10))
    with pytest.raises(ValueError, match=r'img_0\.png.*seg_logits'):
        metric.process({}, [s.to_dict()])


def test_no_anomaly_pixels_gives_nan_and_warning():
    metric = build()
    s = make_samples(1)[0]
    s.gt_sem_seg.data[s.gt_sem_seg.data == 1] = 0
    metric.process({}, [s.to_dict()])
    with pytest.warns(UserWarning, match='no anomaly pixels'):
        out = metric.compute_metrics(metric.results)
    assert np.isnan(out['AP']) and np.isnan(out['AUROC'])


def test_components_with_best_f1_threshold_and_curve_file(tmp_path):
    metric = build(component_metrics=True, track='obstacle',
                   output_dir=str(tmp_path),
                   component_cache_dir=str(tmp_path / 'cache'))
    samples = make_samples(3)
    for s in samples:
        # a perfect score: the best-F1 threshold separates exactly
        s.seg_logits.data[:] = 0
        s.seg_logits.data[0][s.gt_sem_seg.data[0] == 1] = -30.0
    metric.process({}, [s.to_dict() for s in samples])
    out = metric.compute_metrics(metric.results)
    assert out['AUROC'] == 100.0 and out['AP'] == 100.0
    assert out['sIoU'] == 100.0 and out['PPV'] == 100.0
    assert out['mean_F1'] == 100.0
    assert not (tmp_path / 'cache').exists()
    saved = json.loads((tmp_path / 'pixel_ood_curves.json').read_text())
    assert saved['metrics']['AP'] == 100.0
    assert saved['roc']['tpr'][-1] == 1.0
    assert metric.last_curves['pr'] is not None


def test_keep_results_and_format_only_write_the_evaluated_maps(tmp_path):
    samples = make_samples(2)
    for s in samples:
        s.pred_sem_seg = PixelData(data=s.seg_logits.data.argmax(0)[None])
    kept = build(output_dir=str(tmp_path / 'kept'), keep_results=True,
                 anomaly_score=dict(name='max_logit'))
    kept.process({}, [s.to_dict() for s in samples])
    assert 'AP' in kept.evaluate(2)
    for s in samples:
        stem = s.img_path[:-len('.png')]
        saved = np.load(tmp_path / 'kept' / f'{stem}_anomaly.npy')
        np.testing.assert_array_equal(
            saved, -s.seg_logits.data.max(0).values.numpy())
        assert (tmp_path / 'kept' / f'{stem}.png').exists()
    # format_only: test images without labels, maps written, no metrics
    only = build(output_dir=str(tmp_path / 'only'), format_only=True)
    unlabelled = []
    for s in samples:
        d = s.to_dict()
        d.pop('gt_sem_seg')
        unlabelled.append(d)
    only.process({}, unlabelled)
    assert only.evaluate(2) == {}
    assert len(list((tmp_path / 'only').glob('*_anomaly.npy'))) == 2
    e = -torch.logsumexp(samples[0].seg_logits.data.double(), dim=0)
    np.testing.assert_allclose(
        np.load(tmp_path / 'only' / 'img_0_anomaly.npy'), e.numpy(),
        atol=1e-6)   # float32 vs float64 evaluation
    with pytest.raises(ValueError, match='output_dir'):
        build(keep_results=True)


def test_last_curves_of_the_last_evaluation():
    from mmseg_be.scoring import compute_anomaly_score
    metric = build()
    assert metric.last_curves is None  # nothing evaluated yet
    samples = make_samples(3)
    evaluator = Evaluator(metric)
    for s in samples:
        evaluator.process([s])
    evaluator.evaluate(len(samples))
    curves = metric.last_curves
    labels = np.concatenate([s.gt_sem_seg.data.numpy().ravel()
                             for s in samples])
    scores = np.concatenate([
        compute_anomaly_score(s.seg_logits.data).numpy().ravel()
        for s in samples])
    assert curves['num_pos'] == int((labels == 1).sum())
    assert curves['num_neg'] == int((labels == 0).sum())
    assert curves['num_images'] == 3
    valid = labels != 255
    fpr, tpr = curves['roc']['fpr'], curves['roc']['tpr']
    assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0
    # The trapezoid under the thinned curve is close to sklearn's AUROC.
    assert np.trapezoid(tpr, fpr) == pytest.approx(
        roc_auc_score(labels[valid], scores[valid]), abs=2e-3)
    assert set(curves['pr']) == {'recall', 'precision', 'thresholds'}
