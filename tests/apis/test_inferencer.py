"""AnomalyInferencer against MMSeg's own ``init_model``/``inference_model``.

The oracle runs the toy checkpoint through MMSeg's API directly (no code of
this package between the image and the logits) and applies the scoring
functions to those logits.
"""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

import mmseg_be  # noqa: F401  (registers the package)
from mmseg_be.apis import AnomalyInferencer, AnomalyPrediction
from mmseg_be.scoring import compute_anomaly_score
from tests.helpers import write_toy_ood_checkpoint

SMOOTHED = dict(name='energy', smooth_kernel=3, smooth_sigma=1.0)
NUM_CLASSES = 4  # the toy model's classes: the anomaly class id


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('toy')),
                                    anomaly_score=SMOOTHED)


@pytest.fixture(scope='module')
def inferencer(toy):
    return AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu')


@pytest.fixture(scope='module')
def oracle_logits(toy):
    """MMSeg's own logits of every toy image, by file name."""
    from mmseg.apis import inference_model, init_model
    model = init_model(toy['config'], toy['checkpoint'], device='cpu')
    return {osp.basename(p): inference_model(model, p).seg_logits.data
            for p in sorted(glob.glob(osp.join(toy['images'], '*.png')))}


def oracle_scores(logits, **settings):
    return compute_anomaly_score(logits[None], **settings)[0].numpy()


def test_scores_and_segmentation_equal_mmseg_inference(inferencer,
                                                       oracle_logits, toy):
    out = inferencer(toy['images'], progress=False)
    predictions = out['predictions']
    assert [osp.basename(p.img_path) for p in predictions] == sorted(
        oracle_logits)
    assert out['visualization'] == []
    for prediction in predictions:
        logits = oracle_logits[osp.basename(prediction.img_path)]
        # The config's one setting: energy smoothed with a 3x3 Gaussian.
        np.testing.assert_allclose(prediction.scores,
                                   oracle_scores(logits, **SMOOTHED),
                                   rtol=1e-5, atol=1e-5)
        assert prediction.scores.dtype == np.float32
        np.testing.assert_array_equal(prediction.seg,
                                      logits.argmax(0).numpy())
        assert prediction.final is None and prediction.threshold is None
        assert prediction.anomaly_id == NUM_CLASSES


def test_path_array_folder_and_batch_inputs_agree(inferencer, toy):
    paths = sorted(glob.glob(osp.join(toy['images'], '*.png')))
    by_folder = inferencer(toy['images'], progress=False)['predictions']
    by_paths = inferencer(paths, batch_size=3, progress=False)['predictions']
    arrays = [cv2.imread(p) for p in paths]  # BGR, as MMSeg takes arrays
    by_arrays = inferencer(arrays, batch_size=2,
                           progress=False)['predictions']
    single = inferencer(arrays[1], progress=False)['predictions']
    assert len(by_folder) == len(by_paths) == len(by_arrays) == len(paths)
    assert [p.img_path for p in by_arrays] == [None] * len(paths)
    for a, b, c in zip(by_folder, by_paths, by_arrays):
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a.scores, c.scores, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(a.seg, c.seg)
    np.testing.assert_allclose(single[0].scores, by_folder[1].scores,
                               rtol=1e-5, atol=1e-5)


def test_score_override_keeps_the_other_config_keys(toy, oracle_logits):
    inferencer = AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu',
                                   anomaly_score=dict(name='max_logit'))
    assert inferencer.anomaly_score['smooth_kernel'] == 3
    name = sorted(oracle_logits)[0]
    prediction, = inferencer(osp.join(toy['images'], name),
                             progress=False)['predictions']
    expected = oracle_scores(oracle_logits[name], name='max_logit',
                             smooth_kernel=3, smooth_sigma=1.0)
    np.testing.assert_allclose(prediction.scores, expected, rtol=1e-5,
                               atol=1e-5)


def test_final_prediction_by_hand(toy, oracle_logits, tmp_path):
    name = sorted(oracle_logits)[0]
    scores = oracle_scores(oracle_logits[name], **SMOOTHED)
    threshold = float(np.median(scores))
    # The threshold read from an evaluation's curves file (best-F1 rule).
    curves = tmp_path / 'pixel_ood_curves.json'
    curves.write_text(json.dumps(dict(best_f1_threshold=threshold,
                                      score=dict(name='energy'))))
    inferencer = AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu',
                                   threshold=f'best_f1:{tmp_path}')
    assert inferencer.threshold == threshold
    prediction = next(inferencer.predict(osp.join(toy['images'], name)))
    anomalous = prediction.scores >= threshold
    # About half the pixels pass the median; each of them, and only they,
    # carry the anomaly class 4; the rest keep the segmentation.
    assert 0 < anomalous.sum() < anomalous.size
    assert set(np.unique(prediction.final[anomalous])) == {NUM_CLASSES}
    np.testing.assert_array_equal(prediction.final[~anomalous],
                                  prediction.seg[~anomalous])
    assert (prediction.seg < NUM_CLASSES).all()


def test_out_dir_pictures_and_scores(inferencer, toy, tmp_path):
    out_dir = str(tmp_path / 'vis')
    out = inferencer(toy['images'], out_dir=out_dir, save_scores=True,
                     return_vis=True, progress=False)
    pngs = sorted(glob.glob(osp.join(out_dir, '*.png')))
    assert [osp.basename(p) for p in pngs] == [f'{i:04d}.png'
                                               for i in range(4)]
    for path, picture, prediction in zip(pngs, out['visualization'],
                                         out['predictions']):
        np.testing.assert_array_equal(cv2.imread(path)[..., ::-1], picture)
        np.testing.assert_array_equal(np.load(path[:-4] + '.npy'),
                                      prediction.scores)
    assert isinstance(out['predictions'][0], AnomalyPrediction)


def test_missing_checkpoint_is_refused(toy, tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        AnomalyInferencer(toy['config'], str(tmp_path / 'missing.pth'))
