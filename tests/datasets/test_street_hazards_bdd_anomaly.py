"""StreetHazards and BDD-Anomaly: labels, frames, training and evaluation.

Oracles: the label rules of the authors written out plainly here (the
StreetHazards release stores class + 1 and 14 is the anomaly; BDD-Anomaly's
anomalies are trainIds 16, 17, 18), the fixture's raw labels, and
scikit-learn's AUROC / AP on the model's own scores (``oracle_metrics``,
which reads the runner's validation split: here the test split).
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmseg_be  # noqa: F401
from mmseg_be.datasets.bdd_anomaly_frames import FROM_VAL
from mmseg_be.datasets.releases import ReleaseMismatchWarning
from mmseg_be.outliers.synthetic import write_synthetic_bank
from tests.datasets import ood_fixtures as fx
from tests.helpers import REPO
# small_model_cpu_settings: an autouse fixture (one thread, no oneDNN).
from tests.tools.test_segmentor_families import (  # noqa: F401
    oracle_metrics, small_model_cpu_settings)


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


OOD_PIPELINE = [dict(type='LoadImageFromFile'),
                dict(type='LoadOODAnnotations'),
                dict(type='PackSegInputs')]


def labels_by_frame(dataset) -> dict:
    out = {}
    for i in range(len(dataset)):
        fid = dataset.get_data_info(i)['frame_id']
        out[fid] = dataset[i]['data_samples'].gt_sem_seg.data.numpy()[0]
    return out


def test_street_hazards_training_split_classes_and_labels(tmp_path):
    raw = fx.write_street_hazards(str(tmp_path), 'training')
    dataset = DATASETS.build(dict(
        type='StreetHazardsDataset', data_root=str(tmp_path),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
    # create_dataset.py of hendrycks/anomaly-seg, after the authors' -1.
    assert dataset.metainfo['classes'] == (
        'unlabeled', 'building', 'fence', 'other', 'pedestrian', 'pole',
        'road line', 'road', 'sidewalk', 'vegetation', 'car', 'wall',
        'traffic sign')
    assert len(dataset.metainfo['palette']) == 13
    labels = labels_by_frame(dataset)
    assert sorted(labels) == ['t1/300', 't1/301']
    for fid, label in labels.items():
        # Raw 1..13 are the classes 0..12.
        np.testing.assert_array_equal(label, raw[fid].astype(np.int64) - 1)


def test_street_hazards_test_split_anomaly_is_label_1(tmp_path):
    raw = fx.write_street_hazards(str(tmp_path), 'test')
    dataset = DATASETS.build(dict(type='StreetHazardsAnomalyDataset',
                                  data_root=str(tmp_path),
                                  pipeline=OOD_PIPELINE))
    labels = labels_by_frame(dataset)
    assert sorted(labels) == ['t5/100', 't6/7']
    for fid, label in labels.items():
        expected = np.where(raw[fid] == 14, 1, 0)  # no ignore region
        np.testing.assert_array_equal(label, expected)


def test_bdd_anomaly_reads_the_listed_frames_of_both_splits(tmp_path):
    raw = fx.write_bdd_anomaly(str(tmp_path))
    dataset = DATASETS.build(dict(type='BDDAnomalyDataset',
                                  data_root=str(tmp_path),
                                  frames=fx.BDD_ANOMALY_FRAMES,
                                  release_check='off',
                                  pipeline=OOD_PIPELINE))
    labels = labels_by_frame(dataset)
    # The in-distribution frame of the tree is not a test frame.
    assert sorted(labels) == sorted(fx.BDD_ANOMALY_RAW_VALUES)
    for fid, label in labels.items():
        anomaly = (raw[fid] == 16) | (raw[fid] == 17) | (raw[fid] == 18)
        np.testing.assert_array_equal(label, anomaly.astype(np.uint8))


def test_bdd_anomaly_default_frames_are_the_authors_list(tmp_path):
    """One official test frame on disk: it is read, the 809 others are
    reported missing."""
    fid = FROM_VAL[0]
    fx._write(osp.join(str(tmp_path), 'images', 'val', fid + '.jpg'),
              fx._image(0))
    fx._write(osp.join(str(tmp_path), 'labels', 'val', fid + '_train_id.png'),
              fx._label([0, 17], seed=0))
    with pytest.warns(ReleaseMismatchWarning) as record:
        dataset = DATASETS.build(dict(type='BDDAnomalyDataset',
                                      data_root=str(tmp_path),
                                      pipeline=OOD_PIPELINE))
    assert [dataset.get_data_info(0)['frame_id']] == [fid]
    (message, ) = [str(w.message) for w in record
                   if w.category is ReleaseMismatchWarning]
    assert '1 frame, the release has 810' in message
    assert '(+804 more)' in message  # 809 missing: 5 named, 804 counted


@pytest.fixture
def bigger_fixture_images(monkeypatch):
    """Fixture images a CPU-sized network can run on (32x48)."""
    monkeypatch.setattr(fx, 'H', 32)
    monkeypatch.setattr(fx, 'W', 48)


def small_runner_settings(cfg: Config, work_dir: str,
                          num_classes: int) -> None:
    """The config's DeepLabV3+ at R-18 and narrow heads (MMSeg's
    deeplabv3plus_r18-d8 widths), plain BN, no workers."""
    bn = dict(type='BN', requires_grad=True)
    model = cfg.model
    model.backbone.update(depth=18, norm_cfg=bn)
    model.decode_head.update(in_channels=512, c1_in_channels=64,
                             c1_channels=8, channels=16, norm_cfg=bn,
                             num_classes=num_classes)
    model.auxiliary_head.update(in_channels=256, channels=16, norm_cfg=bn,
                                num_classes=num_classes)
    model.data_preprocessor.size = (32, 48)
    for key in ('train_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(num_workers=0, persistent_workers=False)
    cfg.env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
    cfg.work_dir = work_dir


def test_street_hazards_trains_two_iterations_and_evaluates(
        tmp_path, bigger_fixture_images):
    from mmengine.runner import Runner

    from mmseg_be.scoring import anomaly_score_settings
    root = str(tmp_path / 'streethazards')
    fx.write_street_hazards(root, 'training')
    raw_test = fx.write_street_hazards(root, 'test')
    bank = str(tmp_path / 'bank')
    write_synthetic_bank(bank, 3, max_side=12, seed=0)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'street_hazards', 'deeplabv3plus_r101-d8_'
        'balanced-energy_4xb2-8k_streethazards-coco-512x1024.py'))
    small_runner_settings(cfg, str(tmp_path / 'work'), 13)
    # A prior over the 13 classes stands in for the estimated file.
    cfg.model.decode_head.loss_decode[1].prior = [1 / 13] * 13
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'PasteOutliers':
            step.update(bank_root=bank, prob=1.0)
        elif step.type == 'RandomResize':
            step.scale = (48, 32)
        elif step.type == 'RandomCrop':
            step.crop_size = (32, 48)
    cfg.train_dataloader.dataset.data_root = root
    cfg.test_dataloader.dataset.data_root = root
    cfg.load_from = None
    cfg.train_cfg.update(max_iters=2, val_interval=100)
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    # The test split as validation too, for the scikit-learn oracle.
    cfg.update(val_dataloader=cfg.test_dataloader,
               val_cfg=dict(type='ValLoop'), val_evaluator=cfg.test_evaluator)
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.train()
    assert runner.iter == 2
    losses = {key: runner.message_hub.get_scalar(key).current()
              for key in runner.message_hub.log_scalars
              if key.startswith('train/decode.loss')}
    assert losses['train/decode.loss_balanced_energy'] > 0
    assert np.isfinite(losses['train/decode.loss_ce'])
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    metrics = runner.test()
    expected = oracle_metrics(runner,
                              anomaly_score_settings(cfg.anomaly_score))
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
    # Every test pixel is evaluated (no ignore): anomaly pixels counted on
    # the fixture's raw labels.
    n_anomaly = sum(int((a == 14).sum()) for a in raw_test.values())
    assert 0 < n_anomaly < sum(a.size for a in raw_test.values())


def test_bdd_anomaly_test_config_evaluates(tmp_path, bigger_fixture_images):
    from mmengine.runner import Runner

    from mmseg_be.scoring import anomaly_score_settings
    root = str(tmp_path / 'bdd')
    fx.write_bdd_anomaly(root)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'benchmarks',
        'deeplabv3plus-bdd-anomaly_r101-d8_test-bdd-anomaly.py'))
    small_runner_settings(cfg, str(tmp_path / 'work'), 17)
    cfg.test_dataloader.dataset.update(data_root=root,
                                       frames=fx.BDD_ANOMALY_FRAMES,
                                       release_check='off')
    cfg.val_dataloader = cfg.test_dataloader
    torch.manual_seed(0)
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    metrics = runner.test()
    expected = oracle_metrics(runner,
                              anomaly_score_settings(cfg.anomaly_score))
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
