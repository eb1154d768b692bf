"""The evaluated score is the exported score, with ours and MMSeg's tools.

A toy config sets one ``anomaly_score`` (energy smoothed by a 3x3 Gaussian).
``tools/test.py --out DIR --submission SUB`` must evaluate, keep and export
the same maps: the kept maps equal a hand-written oracle (energy of the
model's logits, blurred by an explicit loop), the reported metrics equal the
exact evaluation of the kept maps, and the submission holds the float16 of
the mapped kept maps. MMSeg's own ``tools/test.py`` (``mmseg/.mim/tools``)
must run the same config with ``--out`` and ``--show-dir`` and honour
``--cfg-options anomaly_score...``; its ``train.py`` must train it.
"""
import glob
import json
import os.path as osp
import subprocess
import sys

import cv2
import h5py
import numpy as np
import pytest
import torch

import mmseg
from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator
from mmseg_be.export import ScoreMapping
from tests.helpers import REPO, write_toy_ood_checkpoint

MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_roundtrip'))
    return write_toy_ood_checkpoint(
        root, dict(name='energy', smooth_kernel=3, smooth_sigma=1.0))


@pytest.fixture(scope='module')
def logits(toy):
    """Per frame: the model's logits, from MMSeg's own inference API."""
    from mmseg.apis import inference_model, init_model
    import mmseg_be  # noqa: F401
    model = init_model(toy['config'], toy['checkpoint'], device='cpu')
    out = {}
    for path in sorted(glob.glob(osp.join(toy['images'], '*.png'))):
        stem = osp.splitext(osp.basename(path))[0]
        out[stem] = inference_model(model, path).seg_logits.data.float()
    return out


def blurred_energy(logit: torch.Tensor) -> np.ndarray:
    """-logsumexp, then a 3x3 Gaussian (sigma 1), reflect border, by hand."""
    e = -torch.logsumexp(logit.double(), dim=0).numpy()
    g = np.exp(-0.5 * np.array([-1.0, 0.0, 1.0]) ** 2)
    k = np.outer(g / g.sum(), g / g.sum())
    p = np.pad(e, 1, mode='reflect')
    h, w = e.shape
    return sum(k[i, j] * p[i:i + h, j:j + w]
               for i in range(3) for j in range(3))


def labels_of(toy) -> dict:
    return {osp.splitext(osp.basename(p))[0]:
            cv2.imread(p, cv2.IMREAD_UNCHANGED)
            for p in glob.glob(osp.join(toy['labels'], '*.png'))}


def run(cmd, cwd=REPO):
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def kept_maps(folder: str) -> dict:
    return {osp.basename(p)[:-len('_anomaly.npy')]: np.load(p)
            for p in glob.glob(osp.join(folder, '*_anomaly.npy'))}


def exact_percent(maps: dict, labels: dict) -> dict:
    acc = PixelOODAccumulator()
    for stem in sorted(maps):
        acc.update(maps[stem], labels[stem], 255)
    r = acc.compute()
    return {k: 100 * r[k] for k in ('AUROC', 'AP', 'FPR95')}


def test_test_tool_evaluates_keeps_and_exports_one_score(toy, logits,
                                                         tmp_path):
    out, sub = str(tmp_path / 'out'), str(tmp_path / 'sub')
    run([sys.executable, 'tools/test.py', toy['config'], toy['checkpoint'],
         '--work-dir', str(tmp_path / 'work'), '--out', out,
         '--submission', sub, '--method', 'toy',
         '--dataset-name', 'AnomalyTrack-all'])
    maps = kept_maps(out)
    assert sorted(maps) == sorted(logits)
    for stem, logit in logits.items():
        oracle = blurred_energy(logit)
        np.testing.assert_allclose(maps[stem], oracle, atol=2e-5)
        # not the unsmoothed energy: the test tells the two apart
        raw = -torch.logsumexp(logit.double(), dim=0).numpy()
        assert np.abs(maps[stem] - raw).max() > 1e-3
    reported = json.loads(open(osp.join(out, 'pixel_ood_curves.json')).read())
    assert reported['score']['smooth_kernel'] == 3
    labels = labels_of(toy)
    expected = exact_percent(maps, labels)
    for key, value in expected.items():
        assert reported['metrics'][key] == value, key
    # The submission: the float16 of the mapped kept maps, bit for bit.
    folder = osp.join(sub, 'anomaly_p', 'toy', 'AnomalyTrack-all')
    record = json.loads(open(osp.join(folder, 'score_mapping.json')).read())
    mapping = ScoreMapping.from_dict(record['mapping'])
    written = {}
    for stem, scores in maps.items():
        with h5py.File(osp.join(folder, f'{stem}.hdf5'), 'r') as f:
            written[stem] = f['value'][()]
        assert written[stem].dtype == np.float16
        np.testing.assert_array_equal(written[stem],
                                      mapping(scores, dtype=np.float16))
    # ... so the exact evaluation of the submission is that of the float16
    # of the evaluated scores
    as_f16 = {s: mapping(m, dtype=np.float16) for s, m in maps.items()}
    assert exact_percent(written, labels) == exact_percent(as_f16, labels)


def test_score_flags_override_metric_and_submission(toy, logits, tmp_path):
    out, sub = str(tmp_path / 'out'), str(tmp_path / 'sub')
    run([sys.executable, 'tools/test.py', toy['config'], toy['checkpoint'],
         '--work-dir', str(tmp_path / 'work'), '--out', out,
         '--submission', sub, '--method', 'toy',
         '--dataset-name', 'AnomalyTrack-all', '--score', 'max_logit',
         '--score-options', 'smooth_kernel=None',
         '--show-dir', str(tmp_path / 'show'), '--upscale', '2',
         '--threshold', '0.0'])
    maps = kept_maps(out)
    # heat maps at twice the size, with a final-prediction panel
    shown = glob.glob(str(tmp_path / 'show' / '**' / '*.png'),
                      recursive=True)
    assert len(shown) == len(logits)
    height, width = cv2.imread(shown[0]).shape[:2]
    h, w = next(iter(logits.values())).shape[1:]
    assert height >= 2 * h and width >= 4 * 2 * w
    for stem, logit in logits.items():
        np.testing.assert_allclose(maps[stem], -logit.max(0).values.numpy(),
                                   atol=1e-6)
    manifest = json.loads(open(osp.join(sub, 'mmseg_be_export.json')).read())
    assert manifest['score'].startswith('max_logit')


def test_mmseg_own_test_tool_out_show_dir_and_cfg_options(toy, logits,
                                                          tmp_path):
    tool = osp.join(MMSEG_TOOLS, 'test.py')
    out = str(tmp_path / 'out')
    run([sys.executable, tool, toy['config'], toy['checkpoint'],
         '--work-dir', str(tmp_path / 'work'), '--out', out,
         '--show-dir', str(tmp_path / 'show')])
    maps = kept_maps(out)
    for stem, logit in logits.items():
        np.testing.assert_allclose(maps[stem], blurred_energy(logit),
                                   atol=2e-5)
        assert osp.isfile(osp.join(out, f'{stem}.png'))   # segmentation
    shown = glob.glob(osp.join(tmp_path, 'show', '**', '*.png'),
                      recursive=True)
    assert len(shown) == len(logits)
    # One setting for everything, also from MMSeg's --cfg-options.
    out2 = str(tmp_path / 'out2')
    run([sys.executable, tool, toy['config'], toy['checkpoint'],
         '--work-dir', str(tmp_path / 'work2'), '--out', out2,
         '--cfg-options', 'anomaly_score.smooth_kernel=None'])
    for stem, logit in kept_maps(out2).items():
        raw = -torch.logsumexp(logits[stem].double(), dim=0).numpy()
        np.testing.assert_allclose(logit, raw, atol=2e-5)


def test_mmseg_own_train_tool(toy, tmp_path):
    work = str(tmp_path / 'train')
    run([sys.executable, osp.join(MMSEG_TOOLS, 'train.py'), toy['config'],
         '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=2',
         'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2'])
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
