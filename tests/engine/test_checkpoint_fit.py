"""The tools' strict checkpoint load (mmseg_be.engine.checkpoint_fit).

Hand-built modules whose mismatches are known by construction, and the
training configs against MMSeg's own zoo models: the checkpoint each config
starts from (``load_from``) is the model of the zoo config that MMSeg's
metafile lists for that file, so that model's state dict stands in for the
download.
"""
import glob
import os.path as osp

import mmseg
import pytest
import torch
import yaml
from mmengine.config import Config
from torch import nn

import mmseg_be  # noqa: F401
from mmseg_be.engine.checkpoint_fit import (CheckpointMismatchError,
                                            check_checkpoint_fits,
                                            compare_weights, under)
from mmseg_be.utils import SettingsError
from tests.helpers import REPO

ZOO = osp.join(osp.dirname(mmseg.__file__), '.mim')


class Head(nn.Module):

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.bottleneck = nn.Conv2d(4, 4, 1)
        self.conv_seg = nn.Conv2d(4, classes, 1)


class Net(nn.Module):

    def __init__(self, classes: int = 19, aux: bool = True) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
        self.decode_head = Head(classes)
        self.auxiliary_head = Head(classes) if aux else None


def test_under_is_a_module_path_prefix():
    assert under('decode_head.conv_seg.weight', ['decode_head'])
    assert under('decode_head.conv_seg.weight', ['decode_head.conv_seg'])
    assert under('backbone', ['backbone'])
    assert not under('decode_headx.weight', ['decode_head'])
    assert not under('decode_head.conv_seg.weight', ['decode_head.conv'])


def test_compare_weights_by_hand():
    model = {'a.w': torch.zeros(2, 3), 'a.b': torch.zeros(2),
             'c.w': torch.zeros(1), 'bn.num_batches_tracked': torch.zeros(())}
    ckpt = {'a.w': torch.zeros(2, 3), 'a.b': torch.zeros(3),
            'd.w': torch.zeros(1)}
    fit = compare_weights(model, ckpt)
    assert fit.missing == ['c.w']          # the BN counter is not a weight
    assert fit.unexpected == ['d.w']
    assert fit.mis_sized == [('a.b', (3, ), (2, ))]
    assert not fit.exact


def test_exact_checkpoint_and_wrapped_keys_fit():
    net = Net()
    assert check_checkpoint_fits(net, {'state_dict': net.state_dict()}).exact
    # Saved from a DDP wrapper: mmengine strips 'module.' when loading.
    wrapped = {f'module.{k}': v for k, v in net.state_dict().items()}
    assert check_checkpoint_fits(Net(), {'state_dict': wrapped}).exact


def test_twenty_output_head_into_a_nineteen_class_model_stops():
    pal = Net(classes=20).state_dict()
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_fits(Net(classes=19), {'state_dict': pal},
                              config='configs/x/test.py')
    message = str(info.value)
    assert isinstance(info.value, SettingsError)
    assert ('decode_head.conv_seg.weight (checkpoint (20, 4, 1, 1), model '
            '(19, 4, 1, 1))') in message
    assert 'test.py' in message
    # The fix: the modules holding the mis-sized weights, nothing more.
    assert ('--partial-load auxiliary_head.conv_seg decode_head.conv_seg'
            in message)


def test_backbone_only_checkpoint_needs_the_heads_named():
    backbone = {k: v for k, v in Net().state_dict().items()
                if k.startswith('backbone.')}
    with pytest.raises(CheckpointMismatchError,
                       match='--partial-load auxiliary_head decode_head'):
        check_checkpoint_fits(Net(), {'state_dict': backbone})
    fit = check_checkpoint_fits(Net(), {'state_dict': backbone},
                                ['decode_head', 'auxiliary_head'])
    # 2 weights x 2 convs x 2 heads stay as initialised, as named.
    assert len(fit.missing) == 8 and not fit.unexpected
    # Naming one head only leaves the other one an error.
    with pytest.raises(CheckpointMismatchError, match='auxiliary_head'):
        check_checkpoint_fits(Net(), {'state_dict': backbone},
                              ['decode_head'])


def test_left_over_weights_are_an_error_too():
    full = Net().state_dict()
    with pytest.raises(CheckpointMismatchError,
                       match='4 checkpoint weights the model does not have'):
        check_checkpoint_fits(Net(aux=False), {'state_dict': full})
    assert not check_checkpoint_fits(Net(aux=False), {'state_dict': full},
                                     ['auxiliary_head']).exact


def test_a_partial_load_name_that_matches_nothing_is_an_error():
    with pytest.raises(CheckpointMismatchError, match='decode_haed'):
        check_checkpoint_fits(Net(), {'state_dict': Net().state_dict()},
                              ['decode_haed'])


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        check_checkpoint_fits(Net(), str(tmp_path / 'none.pth'))


def zoo_config_of(weights_file: str):
    """The MMSeg zoo config whose checkpoint is ``weights_file``."""
    for meta in glob.glob(osp.join(ZOO, 'configs', '*', 'metafile.yaml')):
        with open(meta) as f:
            for model in yaml.safe_load(f).get('Models') or []:
                if osp.basename(model.get('Weights') or '') == weights_file:
                    return osp.join(ZOO, model['Config'])
    return None


def zoo_started_configs():
    paths = []
    for path in sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py'))):
        cfg = Config.fromfile(path)
        if cfg.get('load_from') and zoo_config_of(
                osp.basename(cfg.load_from)):
            paths.append(osp.relpath(path, REPO))
    return paths


def build(model_cfg):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmseg_be.apis import without_missing_prior_files
    init_default_scope('mmseg')
    list(without_missing_prior_files(model_cfg))  # a prior file not made yet
    return MODELS.build(model_cfg)


def zoo_checkpoint(weights_file: str) -> dict:
    """The zoo model's weights as its checkpoint holds them."""
    model_cfg = Config.fromfile(zoo_config_of(weights_file)).model
    return {'state_dict': build(model_cfg).state_dict()}


@pytest.mark.parametrize('path', zoo_started_configs())
def test_training_configs_take_their_zoo_checkpoint(path):
    cfg = Config.fromfile(osp.join(REPO, path))
    ours = build(cfg.model)
    checkpoint = zoo_checkpoint(osp.basename(cfg.load_from))
    partial = list(cfg.get('partial_load') or [])
    fit = check_checkpoint_fits(ours, checkpoint, partial)
    if 'pal' in path:
        # The 20-output classifier and the unused auxiliary head, no more.
        assert partial == ['decode_head.conv_seg', 'auxiliary_head']
        assert {k for k, _, _ in fit.mis_sized} == {
            'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'}
        assert fit.unexpected and all(
            k.startswith('auxiliary_head.') for k in fit.unexpected)
        assert not fit.missing
        with pytest.raises(CheckpointMismatchError):
            check_checkpoint_fits(ours, checkpoint)
    else:
        assert not partial and fit.exact


def test_pal_checkpoint_fits_only_the_pal_test_configs():
    bench = osp.join(REPO, 'configs', 'benchmarks')
    train = Config.fromfile(osp.join(
        REPO, 'configs', 'balanced_energy',
        'deeplabv3plus_r101-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-'
        '900x900.py'))
    pal_checkpoint = {'state_dict': build(train.model).state_dict()}
    pal_tests = sorted(glob.glob(osp.join(bench,
                                          'deeplabv3plus-pal_r101-d8_*.py')))
    assert len(pal_tests) == 7
    for path in pal_tests:
        plain = path.replace('deeplabv3plus-pal_', 'deeplabv3plus_')
        pal_cfg, plain_cfg = Config.fromfile(path), Config.fromfile(plain)
        # Everything but the head equals the 19-class test config.
        for key in ('test_dataloader', 'test_evaluator', 'test_cfg',
                    'anomaly_score', 'custom_hooks', 'visualizer'):
            assert pal_cfg.get(key) == plain_cfg.get(key), (path, key)
    pal_model = build(Config.fromfile(pal_tests[0]).model)
    plain_model = build(Config.fromfile(
        pal_tests[0].replace('deeplabv3plus-pal_', 'deeplabv3plus_')).model)
    assert check_checkpoint_fits(pal_model, pal_checkpoint).exact
    with pytest.raises(CheckpointMismatchError, match=r'\(20, 512, 1, 1\)'):
        check_checkpoint_fits(plain_model, pal_checkpoint)
