"""The benchmark dataset base configs load and build over fixture trees."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmseg_be  # noqa: F401
from mmseg.registry import DATASETS
from tests.datasets.ood_fixtures import (write_fishyscapes,
                                         write_lost_and_found,
                                         write_road_anomaly, write_smiyc)
from tests.helpers import REPO

BASES = osp.join(REPO, 'configs', '_base_', 'datasets')


def smiyc_anomaly(root):
    return write_smiyc(root, 'jpg', ['validation0000'], ['test0000'])


def smiyc_obstacle(root):
    return write_smiyc(root, 'webp', ['validation_1'], ['curvy-street_1'])


# config file, fixture writer, name in all_benchmarks.py, dataset type
CASES = [
    ('fishyscapes_lost_and_found.py', write_fishyscapes, 'fs_lost_and_found',
     'FishyscapesLostAndFoundDataset'),
    ('fishyscapes_static.py', write_fishyscapes, 'fs_static',
     'FishyscapesStaticDataset'),
    ('road_anomaly.py', write_road_anomaly, 'road_anomaly',
     'RoadAnomalyDataset'),
    ('smiyc_anomaly_track.py', smiyc_anomaly, 'smiyc_anomaly_track',
     'SMIYCAnomalyTrackDataset'),
    ('smiyc_obstacle_track.py', smiyc_obstacle, 'smiyc_obstacle_track',
     'SMIYCObstacleTrackDataset'),
    ('lost_and_found.py', write_lost_and_found, 'lost_and_found',
     'LostAndFoundDataset'),
]


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.mark.parametrize('name,writer,_,dataset_type', CASES)
def test_base_config_builds_over_fixture(tmp_path, name, writer, _,
                                         dataset_type):
    cfg = Config.fromfile(osp.join(BASES, name))
    assert cfg.test_dataloader.dataset.type == dataset_type
    assert cfg.val_dataloader == cfg.test_dataloader
    assert cfg.test_evaluator.type == 'PixelOODMetric'
    assert cfg.test_dataloader.dataset.data_root.startswith('data/')
    # Full-resolution single-scale inference: nothing resizes or crops.
    steps = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    assert steps == ['LoadImageStoredOrientation', 'LoadOODAnnotations',
                     'PackSegInputs']

    raw = writer(str(tmp_path))
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset_cfg.data_root = str(tmp_path)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == len(raw)
    label = dataset[0]['data_samples'].gt_sem_seg.data.numpy()
    # Whatever the raw encoding, the model sees only 0, 1 and 255.
    assert set(np.unique(label)) <= {0, 1, 255}
    assert (label == 1).any()


@pytest.mark.parametrize('name', ['smiyc_anomaly_track.py',
                                  'smiyc_obstacle_track.py'])
def test_smiyc_export_dataloader_lists_all_images(tmp_path, name):
    cfg = Config.fromfile(osp.join(BASES, name))
    writer = smiyc_anomaly if 'anomaly' in name else smiyc_obstacle
    writer(str(tmp_path))
    dataset_cfg = copy.deepcopy(cfg.export_dataloader.dataset)
    dataset_cfg.data_root = str(tmp_path)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 2  # one validation and one test image
    assert 'gt_sem_seg' not in dataset[0]['data_samples']


def test_all_benchmarks_mirrors_single_configs():
    cfg = Config.fromfile(osp.join(BASES, 'all_benchmarks.py'))
    assert cfg.test_cfg.type == 'MultiDatasetTestLoop'
    benchmarks = cfg.test_cfg.benchmarks
    assert [b.name for b in benchmarks] == [c[2] for c in CASES]
    for bench, (name, _, _, _) in zip(benchmarks, CASES):
        single = Config.fromfile(osp.join(BASES, name))
        assert bench.dataloader.to_dict() == \
            single.test_dataloader.to_dict(), name
        assert bench.evaluator.to_dict() == single.test_evaluator.to_dict()
    assert cfg.test_dataloader == benchmarks[0].dataloader
