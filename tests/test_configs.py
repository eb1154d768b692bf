"""Every leaf config of configs/ loads, builds its model and its datasets.

Datasets are built over fixture trees made here in each release's layout
(tests/datasets/ood_fixtures.py), with a tiny generated outlier bank.
"""
import copy
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmseg_be  # noqa: F401
from mmseg.registry import DATASETS, MODELS
from mmseg_be.apis import without_missing_prior_files
from mmseg_be.demo.scenes import write_anomaly_split, write_scene_split
from mmseg_be.outliers.synthetic import write_synthetic_bank
from tests.datasets import ood_fixtures
from tests.helpers import REPO

LEAVES = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '/_base_/' not in p)


def write_cityscapes(root: str) -> None:
    rng = np.random.default_rng(0)
    for i in range(2):
        stem = f'aachen_{i:06d}_000019'
        img_dir = osp.join(root, 'leftImg8bit', 'train', 'aachen')
        ann_dir = osp.join(root, 'gtFine', 'train', 'aachen')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        cv2.imwrite(osp.join(img_dir, stem + '_leftImg8bit.png'),
                    rng.integers(0, 255, (64, 128, 3), dtype=np.uint8))
        cv2.imwrite(osp.join(ann_dir, stem + '_gtFine_labelTrainIds.png'),
                    rng.integers(0, 19, (64, 128), dtype=np.uint8))


def demo_scenes(root):
    for split in ('train', 'val'):
        write_scene_split(root, split, 2, (64, 128), 0)


def demo_anomaly(root):
    write_anomaly_split(root, 2, (64, 128), 0)


FIXTURES = {
    'CityscapesDataset': write_cityscapes,
    'FishyscapesLostAndFoundDataset': ood_fixtures.write_fishyscapes,
    'FishyscapesStaticDataset': ood_fixtures.write_fishyscapes,
    'RoadAnomalyDataset': ood_fixtures.write_road_anomaly,
    'SMIYCAnomalyTrackDataset':
    lambda r: ood_fixtures.write_smiyc(r, 'jpg', ['a', 'b'], ['c']),
    'SMIYCObstacleTrackDataset':
    lambda r: ood_fixtures.write_smiyc(r, 'webp', ['a', 'b'], ['c']),
    'LostAndFoundDataset': ood_fixtures.write_lost_and_found,
    'BaseSegDataset': demo_scenes,
}


def dataset_configs(cfg):
    """Every dataset config a leaf uses: train, test, and each benchmark."""
    out = []
    for key in ('train_dataloader', 'test_dataloader'):
        if cfg.get(key):
            out.append((key, cfg[key]['dataset']))
    for bench in cfg.get('test_cfg', {}).get('benchmarks', []):
        out.append((bench['name'], bench['dataloader']['dataset']))
    return out


@pytest.fixture(scope='module')
def bank(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('bank'))
    write_synthetic_bank(root, 3, max_side=16, seed=0)
    return root


# Leaves that share a model (a model's benchmark configs) build it once: the
# large zoo models take seconds each to initialise on a CPU.
BUILT_MODELS = {}


def build_model_once(model_cfg):
    key = repr(model_cfg.to_dict())
    if key not in BUILT_MODELS:
        BUILT_MODELS[key] = MODELS.build(model_cfg)
    return BUILT_MODELS[key]


@pytest.mark.parametrize('path', LEAVES,
                         ids=[osp.relpath(p, REPO) for p in LEAVES])
def test_leaf_config_builds(path, tmp_path, bank):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['mmseg_be'],
                                      allow_failed_imports=False)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pretrained = None
    # A prior file written by an earlier stage (the demo's estimate) may not
    # exist yet: build with the uniform prior, as tools/test.py does.
    without_missing_prior_files(model_cfg)
    model = build_model_once(model_cfg)
    assert model.decode_head.num_classes >= 2
    for name, ds_cfg in dataset_configs(cfg):
        ds_cfg = copy.deepcopy(ds_cfg)
        root = str(tmp_path / name)
        writer = FIXTURES[ds_cfg.type]
        if 'anomaly' in ds_cfg.get('data_root', '') and \
                ds_cfg.type == 'FishyscapesLostAndFoundDataset':
            writer = demo_anomaly
        writer(root)
        ds_cfg.data_root = root
        for step in ds_cfg.pipeline:
            if step['type'] == 'PasteOutliers':
                step['bank_root'] = bank
                step['prob'] = 1.0
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0, (name, ds_cfg.type)
        label = dataset[0]['data_samples'].gt_sem_seg.data
        if ds_cfg.type not in ('BaseSegDataset', 'CityscapesDataset'):
            assert set(label.unique().tolist()) <= {0, 1, 255}
        if any(s['type'] == 'PasteOutliers' for s in ds_cfg.pipeline):
            # Pasted outliers reach the losses as 254 (a random crop may
            # miss the object in one draw, not in ten).
            assert any(254 in dataset[i % len(dataset)]['data_samples']
                       .gt_sem_seg.data for i in range(10))
