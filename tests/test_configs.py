"""Every leaf config of configs/ loads, builds its model and its datasets.

Datasets are built over fixture trees made here in each release's layout
(tests/datasets/ood_fixtures.py), with a tiny generated outlier bank.
"""
import ast
import copy
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmseg_be  # noqa: F401
from mmseg.registry import DATASETS, MODELS
from mmseg_be.apis import without_missing_prior_files
from mmseg_be.outliers.synthetic import write_synthetic_bank

from demo.scenes import write_anomaly_split, write_scene_split
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
    'StreetHazardsDataset': lambda r: [
        ood_fixtures.write_street_hazards(r, split)
        for split in ('training', 'validation')],
    'StreetHazardsAnomalyDataset':
    lambda r: ood_fixtures.write_street_hazards(r, 'test'),
    'BDDAnomalyDataset': ood_fixtures.write_bdd_anomaly,
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
        if ds_cfg.type == 'BDDAnomalyDataset':
            ds_cfg.frames = ood_fixtures.BDD_ANOMALY_FRAMES
        for step in ds_cfg.pipeline:
            if step['type'] == 'PasteOutliers':
                step['bank_root'] = bank
                step['prob'] = 1.0
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0, (name, ds_cfg.type)
        label = dataset[0]['data_samples'].gt_sem_seg.data
        if ds_cfg.type not in ('BaseSegDataset', 'CityscapesDataset',
                               'StreetHazardsDataset'):
            assert set(label.unique().tolist()) <= {0, 1, 255}
        if any(s['type'] == 'PasteOutliers' for s in ds_cfg.pipeline):
            # Pasted outliers reach the losses as 254. A random crop may
            # miss the small fixture object in a draw, so several are made,
            # from a fixed seed (PasteOutliers and the crop draw from numpy)
            # so that the outcome does not change from run to run.
            np.random.seed(0)
            assert any(254 in dataset[i % len(dataset)]['data_samples']
                       .gt_sem_seg.data for i in range(30))


CONFIG_FILES = sorted(
    glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))


@pytest.mark.parametrize('path', CONFIG_FILES,
                         ids=[osp.relpath(p, REPO) for p in CONFIG_FILES])
def test_config_defines_no_function(path):
    # Configs are data: a function is dropped from the resolved config,
    # hides what a value is, and mmengine's lazy configs refuse it.
    with open(path) as f:
        tree = ast.parse(f.read(), filename=path)
    functions = [(type(node).__name__, node.lineno) for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                      ast.Lambda))]
    assert functions == []


def flatten(node, prefix=''):
    """Every leaf value of a nested dict/list under its dotted path."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(flatten(value, f'{prefix}.{key}' if prefix else key))
        return out
    if isinstance(node, (list, tuple)):
        out = {f'{prefix}[len]': len(node)}
        for i, value in enumerate(node):
            out.update(flatten(value, f'{prefix}[{i}]'))
        return out
    return {prefix: node}


@pytest.mark.parametrize('folder,kind', [('balanced_energy', 'balanced-energy'),
                                         ('energy', 'energy')])
def test_r50_leaf_is_the_r101_leaf_but_depth_and_weights(folder, kind):
    name = '{}_' + kind + '_4xb2-8k_cityscapes-coco-512x1024.py'
    r50, r101 = (flatten(Config.fromfile(osp.join(
        REPO, 'configs', folder, name.format(depth))).to_dict())
        for depth in ('deeplabv3plus_r50-d8', 'deeplabv3plus_r101-d8'))
    differing = {k for k in set(r50) | set(r101) if r50.get(k) != r101.get(k)}
    expected = {'model.backbone.depth', 'load_from'}
    if kind == 'balanced-energy':  # each model's own estimated prior
        expected |= {'prior_file', 'model.decode_head.loss_decode[1].prior'}
        assert r50['prior_file'].endswith(
            'deeplabv3plus_r50-d8_cityscapes-coco.json')
    assert differing == expected
    assert (r50['model.backbone.depth'], r101['model.backbone.depth']) == \
        (50, 101)
    assert 'deeplabv3plus_r50-d8_512x1024_80k_cityscapes' in r50['load_from']
    assert 'deeplabv3plus_r101-d8_512x1024_80k_cityscapes' in \
        r101['load_from']
    # Both start from the zoo checkpoint, never from ImageNet weights.
    assert r50['model.pretrained'] is None is r101['model.pretrained']


@pytest.mark.parametrize('kind', ['balanced-energy', 'energy'])
def test_segformer_b2_leaf_is_the_b5_leaf_but_layers_and_weights(kind):
    name = 'segformer_mit-{}_' + kind + '_8xb1-8k_cityscapes-coco-1024x1024.py'
    b2, b5 = (flatten(Config.fromfile(osp.join(
        REPO, 'configs', 'segformer', name.format(size))).to_dict())
        for size in ('b2', 'b5'))
    differing = {k for k in set(b2) | set(b5) if b2.get(k) != b5.get(k)}
    expected = {f'model.backbone.num_layers[{i}]' for i in (1, 2)}
    expected.add('load_from')
    if kind == 'balanced-energy':  # each model's own estimated prior
        expected |= {'prior_file', 'model.decode_head.loss_decode[1].prior'}
        assert b2['prior_file'].endswith('segformer_mit-b2_cityscapes-coco.json')
    assert differing == expected
    # MMSeg's zoo B2 and B5 (mmseg::segformer/segformer_mit-b{2,5}_...)
    assert [b2[f'model.backbone.num_layers[{i}]'] for i in range(4)] == \
        [3, 4, 6, 3]
    assert [b5[f'model.backbone.num_layers[{i}]'] for i in range(4)] == \
        [3, 6, 40, 3]
    assert 'segformer_mit-b2_8x1_1024x1024_160k_cityscapes' in b2['load_from']


# The released Cityscapes-COCO prior as the released code writes it
# (19 classes, trainId order; it sums to 1.0001).
RELEASED_PRIOR = [
    0.1525, 0.0133, 0.1067, 0.0401, 0.0339, 0.0053, 0.0011, 0.0280, 0.0802,
    0.0980, 0.0022, 0.1531, 0.0292, 0.0871, 0.1199, 0.0160, 0.0071, 0.0170,
    0.0094
]
RELEASED_PRIOR_LEAVES = [
    'balanced_energy/deepwv3plus_wrn38-d8_pal-balanced-energy_1xb8-8k_'
    'cityscapes-coco-900x900.py',
]
# The MMSeg DeepLabV3+ leaves: the prior their own zoo checkpoint gives,
# estimated into this file (the PAL recipe starts from the R-101 one).
ESTIMATED_PRIOR_LEAVES = {
    'balanced_energy/deeplabv3plus_r101-d8_balanced-energy_4xb2-8k_'
    'cityscapes-coco-512x1024.py': 'deeplabv3plus_r101-d8',
    'balanced_energy/deeplabv3plus_r50-d8_balanced-energy_4xb2-8k_'
    'cityscapes-coco-512x1024.py': 'deeplabv3plus_r50-d8',
    'balanced_energy/deeplabv3plus_r101-d8_pal-balanced-energy_1xb8-8k_'
    'cityscapes-coco-900x900.py': 'deeplabv3plus_r101-d8',
}


@pytest.mark.parametrize('leaf', sorted(ESTIMATED_PRIOR_LEAVES))
def test_deeplabv3plus_leaves_read_their_estimated_prior(leaf):
    cfg = Config.fromfile(osp.join(REPO, 'configs', leaf))
    (loss_cfg, ) = [loss for loss in cfg.model.decode_head.loss_decode
                    if loss.type == 'BalancedEnergyLoss']
    model = ESTIMATED_PRIOR_LEAVES[leaf]
    assert loss_cfg.prior == cfg.prior_file == \
        f'work_dirs/priors/{model}_cityscapes-coco.json'
    # The file is written with the zoo checkpoint the leaf starts from.
    assert osp.basename(cfg.load_from).startswith(model + '_512x1024_80k')


@pytest.mark.parametrize('leaf', RELEASED_PRIOR_LEAVES)
def test_named_released_prior_builds_the_released_values(leaf):
    cfg = Config.fromfile(osp.join(REPO, 'configs', leaf))
    (loss_cfg, ) = [loss for loss in cfg.model.decode_head.loss_decode
                    if loss.type == 'BalancedEnergyLoss']
    assert loss_cfg.prior == 'cityscapes-coco-released'
    init_default_scope('mmseg')
    loss = MODELS.build(loss_cfg)
    # The same loss given the list itself, as these configs used to.
    from_list = MODELS.build(dict(loss_cfg.to_dict(), prior=RELEASED_PRIOR))
    assert torch.equal(loss.prior, from_list.prior)
    expected = torch.tensor(RELEASED_PRIOR, dtype=torch.float64)
    expected = expected / expected.sum()
    assert torch.allclose(loss.prior.double(), expected, rtol=0, atol=1e-7)


CONFIGS = osp.join(REPO, 'configs')
CONFIG_FOLDERS = sorted(
    d for d in os.listdir(CONFIGS)
    if d != '_base_' and osp.isdir(osp.join(CONFIGS, d)))
TRAINING_FOLDERS = ['balanced_energy', 'energy', 'segformer',
                    'street_hazards', 'upernet']


def folder_leaves(folder):
    return sorted(
        osp.basename(p) for p in glob.glob(osp.join(CONFIGS, folder, '*.py')))


@pytest.mark.parametrize('folder', CONFIG_FOLDERS)
def test_config_folder_readme_has_a_row_for_every_config(folder):
    with open(osp.join(CONFIGS, folder, 'README.md')) as f:
        readme = f.read()
    results = readme[readme.index('## Results'):]
    for leaf in folder_leaves(folder):
        assert f'| `{leaf}`' in readme, leaf
        assert f'`{leaf}`' in results, leaf


def test_training_folders_have_a_metafile():
    assert sorted(d for d in CONFIG_FOLDERS if osp.isfile(
        osp.join(CONFIGS, d, 'metafile.yaml'))) == TRAINING_FOLDERS


@pytest.mark.parametrize('folder', TRAINING_FOLDERS)
def test_metafile_lists_every_config_as_it_is(folder):
    with open(osp.join(CONFIGS, folder, 'metafile.yaml')) as f:
        meta = yaml.safe_load(f)
    (collection, ) = meta['Collections']
    assert collection['README'] == f'configs/{folder}/README.md'
    models = meta['Models']
    assert sorted(m['Config'] for m in models) == [
        f'configs/{folder}/{leaf}' for leaf in folder_leaves(folder)]
    for model in models:
        assert model['Name'] == osp.basename(model['Config'])[:-3]
        assert model['In Collection'] == collection['Name']
        cfg = Config.fromfile(osp.join(REPO, model['Config']))
        gpus = int(model['Name'].split('_')[3].split('xb')[0])
        # The batch size is the total one, as in MMSeg's metafiles.
        assert model['Metadata']['Batch Size'] == \
            gpus * cfg.train_dataloader.batch_size
        # The schedule of the name: "8k" is the 8180 iterations of the
        # OOD fine-tuning, "80k" MMSeg's 80000.
        schedule = model['Name'].split('_')[3].split('-')[1]
        assert cfg.train_cfg.max_iters == {'8k': 8180,
                                           '80k': 80000}[schedule]
