"""tools/estimate_prior.py on a model whose predictions are forced by a bias."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg.registry import MODELS
from mmseg_be.outliers.synthetic import write_synthetic_bank
from mmseg_be.models.losses import BalancedEnergyLoss
from tests.helpers import REPO, TOY_CONFIG, write_toy_seg_dataset

BIAS = [0.5, -1.0, 2.0, 0.25]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A toy dataset, a synthetic bank, a pasting config, a forced checkpoint."""
    root = tmp_path_factory.mktemp('prior')
    data = write_toy_seg_dataset(str(root / 'data'), num_images=3)
    bank = str(root / 'bank')
    write_synthetic_bank(bank, 6, max_side=24, seed=0)
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.train_dataloader.dataset.data_root = data
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PasteOutliers', bank_root=bank, prob=0.5),
        dict(type='PackSegInputs'),
    ]
    config = str(root / 'cfg.py')
    cfg.dump(config)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.copy_(torch.tensor(BIAS))
    ckpt = str(root / 'forced.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return root, config, ckpt


def run_tool(config, ckpt, out, *extra):
    cmd = [sys.executable, 'tools/estimate_prior.py', config, ckpt,
           '--prior-file', out, '--num-samples', '4', '--batch-size',
           '2'] + list(extra)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        return json.load(f), proc.stdout


def test_argmax_and_soft_prior_match_hand_computed(setup):
    root, config, ckpt = setup
    hard, stdout = run_tool(config, ckpt, str(root / 'hard.json'))
    # Constant logits = BIAS on every pixel: every outlier pixel is class 2.
    assert hard['prior'] == [0.0, 0.0, 1.0, 0.0]
    assert hard['counts'][2] == hard['num_pixels'] > 0
    assert sum(hard['counts']) == hard['num_pixels']
    assert hard['class_names'] == ['class0', 'class1', 'class2', 'class3']
    assert hard['num_samples'] == 4 and hard['mode'] == 'argmax'
    assert hard['config'] == config and hard['checkpoint'] == ckpt
    assert 'class2  1.0000' in stdout
    soft, _ = run_tool(config, ckpt, str(root / 'soft.json'), '--soft')
    e = np.exp(BIAS)
    np.testing.assert_allclose(soft['prior'], e / e.sum(), rtol=1e-5)
    assert soft['num_pixels'] == hard['num_pixels']


def test_same_seed_same_prior_file(setup):
    root, config, ckpt = setup
    a, _ = run_tool(config, ckpt, str(root / 'a.json'), '--seed', '3',
                    '--soft')
    b, _ = run_tool(config, ckpt, str(root / 'b.json'), '--seed', '3',
                    '--soft')
    assert a == b


def test_prior_file_round_trips_into_the_loss(setup):
    root, config, ckpt = setup
    path = str(root / 'soft_rt.json')
    soft, _ = run_tool(config, ckpt, path, '--soft')
    loss = BalancedEnergyLoss(prior=path, class_names=soft['class_names'])
    from_list = BalancedEnergyLoss(prior=soft['prior'])
    logits = torch.randn(2, 4, 6, 7)
    label = torch.randint(0, 4, (2, 6, 7))
    label[:, :2, :3] = 254
    assert torch.equal(loss(logits, label), from_list(logits, label))
    with pytest.raises(ValueError, match='disagree'):
        BalancedEnergyLoss(prior=path, class_names=['road', 'b', 'c', 'd'])


def test_config_without_paste_fails_clearly(setup, tmp_path):
    root, _, ckpt = setup
    proc = subprocess.run(
        [sys.executable, 'tools/estimate_prior.py', TOY_CONFIG, ckpt,
         '--prior-file', str(tmp_path / 'x.json')], cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode != 0
    assert 'no PasteOutliers step' in proc.stderr
    assert not osp.exists(tmp_path / 'x.json')


def test_missing_prior_files_are_dropped_for_inference(tmp_path):
    from mmseg_be.apis import without_missing_prior_files
    present = tmp_path / 'p.json'
    present.write_text('{"prior": [1, 1]}')
    model = dict(decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss'),
        dict(type='BalancedEnergyLoss', prior=str(tmp_path / 'missing.json')),
    ]), auxiliary_head=dict(loss_decode=dict(type='BalancedEnergyLoss',
                                             prior=str(present))),
                 other=dict(prior='online'),
                 released=dict(prior='cityscapes-coco-released'))
    dropped = without_missing_prior_files(model)
    assert dropped == [str(tmp_path / 'missing.json')]
    assert model['released']['prior'] == 'cityscapes-coco-released'
    assert model['decode_head']['loss_decode'][1]['prior'] is None
    assert model['auxiliary_head']['loss_decode']['prior'] == str(present)
    assert model['other']['prior'] == 'online'
