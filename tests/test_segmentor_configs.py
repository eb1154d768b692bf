"""The SegFormer and UPerNet configs against MMSeg's own zoo configs.

The oracle is MMSeg itself: the zoo config each model base copies (so the
zoo checkpoint loads every weight) and the zoo's metafile (the checkpoint
URL each fine-tuning config starts from).
"""
import glob
import os.path as osp

import mmseg
import pytest
import yaml
from mmengine.config import Config

from tests.helpers import REPO

ZOO = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')
CONFIGS = osp.join(REPO, 'configs')

# our model base -> (zoo folder, zoo config name)
FAMILIES = {
    'segformer_mit-b5': ('segformer',
                         'segformer_mit-b5_8xb1-160k_cityscapes-1024x1024'),
    'segformer_mit-b2': ('segformer',
                         'segformer_mit-b2_8xb1-160k_cityscapes-1024x1024'),
    'upernet_r101': ('upernet', 'upernet_r101_4xb2-80k_cityscapes-512x1024'),
}
DEEPLAB = {
    kind: osp.join(
        CONFIGS, kind.replace('-', '_'),
        f'deeplabv3plus_r101-d8_{kind}_4xb2-8k_cityscapes-coco-512x1024.py')
    for kind in ('balanced-energy', 'energy')
}


def finetune_leaves(name):
    folder = FAMILIES[name][0]
    return sorted(glob.glob(osp.join(CONFIGS, folder, name + '_*.py')))


def zoo_weights(folder, zoo_name):
    with open(osp.join(ZOO, folder, 'metafile.yaml')) as f:
        models = yaml.safe_load(f)['Models']
    (entry, ) = [m for m in models if m['Name'] == zoo_name]
    return entry['Weights']


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_model_base_is_the_zoo_model(name):
    folder, zoo_name = FAMILIES[name]
    zoo = Config.fromfile(osp.join(ZOO, folder, zoo_name + '.py')).model
    ours = Config.fromfile(
        osp.join(CONFIGS, '_base_', 'models', name + '.py')).model
    assert ours.pretrained is None
    assert without(ours.backbone, 'init_cfg') == without(
        zoo.backbone, 'init_cfg')
    heads = ['decode_head'] + (['auxiliary_head'] if 'auxiliary_head' in zoo
                               else [])
    assert ('auxiliary_head' in ours) == ('auxiliary_head' in zoo)
    for head in heads:
        assert without(ours[head], 'loss_decode') == without(
            zoo[head], 'loss_decode')
        # Same loss weight as the zoo, but a CE that skips label 254.
        assert ours[head].loss_decode.type == 'OODCrossEntropyLoss'
        assert ours[head].loss_decode.loss_weight == \
            zoo[head].loss_decode.loss_weight
    assert ours.data_preprocessor == zoo.data_preprocessor
    assert ours.test_cfg == zoo.test_cfg


@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_finetune_configs(name):
    folder, zoo_name = FAMILIES[name]
    leaves = finetune_leaves(name)
    kinds = {osp.basename(p).split('_')[2]: p for p in leaves}
    assert sorted(kinds) == ['balanced-energy', 'energy']
    for kind, path in kinds.items():
        cfg = Config.fromfile(path)
        assert cfg.load_from == zoo_weights(folder, zoo_name)
        losses = cfg.model.decode_head.loss_decode
        assert [loss.type for loss in losses] == [
            'OODCrossEntropyLoss',
            'BalancedEnergyLoss' if kind == 'balanced-energy' else
            'EnergyLoss'
        ]
        assert losses[1].loss_weight == 0.1
        if kind == 'balanced-energy':
            # A prior of its own, estimated with this model's checkpoint.
            assert losses[1].prior == \
                f'work_dirs/priors/{name}_cityscapes-coco.json'
        if 'auxiliary_head' in cfg.model:
            # Energy losses on the main head only; the auxiliary head never
            # sees label 254 through MMSeg's CrossEntropyLoss.
            aux = cfg.model.auxiliary_head.loss_decode
            assert aux.type == 'OODCrossEntropyLoss' and aux.loss_weight == 0.4
        # The train crop is the size the model's preprocessor pads to.
        crop = [s for s in cfg.train_pipeline if s.type == 'RandomCrop']
        assert tuple(crop[0].crop_size) == tuple(
            cfg.model.data_preprocessor.size)
        assert [s.type for s in cfg.train_dataloader.dataset.pipeline
                ].count('PasteOutliers') == 1
        # A total batch of 8, which the 8k-iteration schedule (20 released
        # epochs) is counted in.
        gpus, per_gpu = osp.basename(path).split('_')[3].split('-')[0].split(
            'xb')
        assert int(gpus) * int(per_gpu) == 8
        assert cfg.train_dataloader.batch_size == int(per_gpu)
        # The released score, as the DeepLabV3+ configs.
        reference = Config.fromfile(DEEPLAB[kind])
        assert cfg.anomaly_score == reference.anomaly_score


def test_benchmark_configs_mirror_the_deeplabv3plus_ones():
    bench = osp.join(CONFIGS, 'benchmarks')
    reference = sorted(glob.glob(osp.join(bench, 'deeplabv3plus_r101-d8_*')))
    assert len(reference) == 7
    models = {
        name: Config.fromfile(
            osp.join(CONFIGS, '_base_', 'models', name + '.py')).model
        for name in FAMILIES
    }
    for ref_path in reference:
        ref = Config.fromfile(ref_path)
        suffix = osp.basename(ref_path)[len('deeplabv3plus_r101-d8'):]
        for name in FAMILIES:
            cfg = Config.fromfile(osp.join(bench, name + suffix))
            assert cfg.model == models[name]
            for key in ('test_dataloader', 'test_evaluator', 'test_cfg',
                        'anomaly_score', 'custom_hooks', 'visualizer',
                        'default_hooks'):
                assert cfg.get(key) == ref.get(key), (name + suffix, key)
