"""The released network's configs: the fine-tuning recipe trains exactly
the parameters the release trains, from a converted checkpoint; every test
config builds and runs one frame of its benchmark(s) with converted weights.

The checkpoints are generated with the released names and shapes
(``released_wrn38.py``) in the layout of NVIDIA's file and converted by
``tools/convert_checkpoint.py``, as a user would.
"""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmseg_be  # noqa: F401
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from mmseg_be.cli.convert_checkpoint import main as convert
from mmseg_be.engine.checkpoint_fit import check_checkpoint_fits
from tests.datasets.ood_fixtures import (write_fishyscapes,
                                         write_lost_and_found,
                                         write_road_anomaly, write_smiyc)
from tests.helpers import (REPO, tiny_cfg, train_on_toy,
                           write_toy_seg_dataset)
from tests.models import released_wrn38 as rw
from tests.models.test_deepwv3plus import nvidia_file

# One pytest-xdist worker runs the released-network tests (make test uses
# --dist loadgroup), so the generated 137M-weight checkpoints are built once.
pytestmark = pytest.mark.xdist_group('wrn38')
CONFIGS = osp.join(REPO, 'configs')
MODEL_BASE = osp.join(CONFIGS, '_base_', 'models', 'deepwv3plus_wrn38-d8.py')
RECIPE = osp.join(
    CONFIGS, 'balanced_energy',
    'deepwv3plus_wrn38-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-'
    '900x900.py')
R101_RECIPE = RECIPE.replace('deepwv3plus_wrn38-d8', 'deeplabv3plus_r101-d8')
# The release trains model.module.branch1.final.*: the two 3x3 conv blocks
# and the classifier.
TRAINABLE = ('decode_head.final.', 'decode_head.conv_seg.')
TEST_CONFIGS = sorted(
    glob.glob(osp.join(CONFIGS, 'benchmarks', 'deepwv3plus*_test-*.py')))
BENCHMARKS = {
    'fishyscapes-lost-and-found': ('fs_lost_and_found', write_fishyscapes),
    'fishyscapes-static': ('fs_static', write_fishyscapes),
    'road-anomaly': ('road_anomaly', write_road_anomaly),
    'smiyc-anomaly-track': (
        'smiyc_anomaly_track',
        lambda root: write_smiyc(root, 'jpg', ['validation0000'], [])),
    'smiyc-obstacle-track': (
        'smiyc_obstacle_track',
        lambda root: write_smiyc(root, 'webp', ['validation_1'], [])),
    'lost-and-found': ('lost_and_found', write_lost_and_found),
}


def released_nvidia_file(path: str) -> None:
    """NVIDIA's cityscapes_best.pth layout, float32, generated weights."""
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in rw.released_state_dict(19).items()}
    torch.save(nvidia_file(state), path)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Converted checkpoints: 19 outputs, and 20 with the abstention
    channel added (the recipe's start)."""
    root = tmp_path_factory.mktemp('wrn38')
    src = str(root / 'cityscapes_best.pth')
    released_nvidia_file(src)
    out = {19: str(root / 'wrn38_19.pth'), 20: str(root / 'wrn38_20.pth')}
    assert convert([src, out[19]]) == 0
    assert convert([src, out[20], '--add-abstention']) == 0
    return out


def base_model(abstention: bool) -> dict:
    model = copy.deepcopy(Config.fromfile(MODEL_BASE).model)
    if abstention:
        model.decode_head.type = 'AbstentionDeepWV3PlusHead'
    return model


class SnapshotParams(Hook):
    """Copies the weights once the checkpoint is loaded."""

    def before_train(self, runner) -> None:
        self.state = {k: v.detach().clone()
                      for k, v in runner.model.state_dict().items()}


def test_recipe_is_the_released_recipe_on_the_base_model():
    cfg = Config.fromfile(RECIPE)
    expected = base_model(abstention=True)
    expected.data_preprocessor.size = (900, 900)
    expected.backbone.frozen = True
    expected.decode_head.frozen = True
    expected.decode_head.loss_decode = [
        dict(type='PALLoss', num_classes=19, loss_weight=1.0),
        dict(type='BalancedEnergyLoss', num_classes=19,
             prior='cityscapes-coco-released', alpha=5.0, gamma1=3.0,
             gamma2=3.0, m_in=-12.0, m_out=-6.0, loss_weight=0.1)]
    assert cfg.model == expected
    assert cfg.partial_load == []
    assert cfg.load_from.endswith('_abstention.pth')
    assert cfg.optim_wrapper == dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-5, betas=(0.9, 0.999),
                       weight_decay=0))
    # The data, augmentation, schedule, seed and score of the R-101 recipe
    # (whose values tests/models/test_pal_recipe.py checks).
    reference = Config.fromfile(R101_RECIPE)
    for key in ('train_dataloader', 'train_pipeline', 'param_scheduler',
                'train_cfg', 'val_dataloader', 'val_evaluator', 'randomness',
                'anomaly_score', 'default_hooks', 'crop_size'):
        assert cfg[key] == reference[key], key
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.train_cfg.max_iters == 20 * (2975 + 297) // 8


def test_recipe_trains_only_the_last_block(tmp_path, converted):
    data_root = write_toy_seg_dataset(
        str(tmp_path / 'toy'), num_images=2, num_classes=4, ood_value=254)
    toy = tiny_cfg(data_root, str(tmp_path / 'work'), num_classes=4,
                   max_iters=2)
    cfg = Config.fromfile(RECIPE)
    cfg.load_from = converted[20]
    cfg.model.data_preprocessor.size = toy.crop_size
    train_on_toy(cfg, toy, str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    snapshot = SnapshotParams()
    runner.register_hook(snapshot, priority='VERY_LOW')
    runner.train()

    # The converted checkpoint fits the recipe's model key for key (the
    # check tools/train.py makes of load_from with the config's
    # partial_load), and was loaded whole.
    fit = check_checkpoint_fits(runner.model, converted[20],
                                partial_load=cfg.partial_load)
    assert fit.exact
    start = torch.load(converted[20], weights_only=True)['state_dict']
    assert set(snapshot.state) == set(start)
    for key, value in start.items():
        assert torch.equal(snapshot.state[key], value), key
    params = dict(runner.model.named_parameters())
    trainable = [k for k in params if k.startswith(TRAINABLE)]
    assert len(trainable) == 7  # 2 x (conv, BN weight, BN bias) + classifier
    for key, param in params.items():
        assert param.requires_grad == key.startswith(TRAINABLE), key
        changed = not torch.equal(param, snapshot.state[key])
        assert changed == key.startswith(TRAINABLE), key
    # As in the release, the frozen trunk's BN statistics follow the data.
    stat = 'backbone.mod2.0.norm1.running_mean'
    assert not torch.equal(runner.model.state_dict()[stat],
                           snapshot.state[stat])
    losses = [runner.message_hub.get_scalar(f'train/decode.{k}').current()
              for k in ('loss_pal', 'loss_balanced_energy')]
    assert all(math.isfinite(v) for v in losses)


@pytest.fixture(scope='module')
def models(converted):
    """The base model of each head, with the converted weights (strict)."""
    register_all_modules(init_default_scope=True)
    out = {}
    for outputs, abstention in ((19, False), (20, True)):
        cfg = base_model(abstention)
        cfg.backbone.norm_cfg = cfg.decode_head.norm_cfg = dict(type='BN')
        model = MODELS.build(cfg)
        state = torch.load(converted[outputs], weights_only=True)
        model.load_state_dict(state['state_dict'], strict=True)
        out[outputs] = model.eval()
    return out


def one_frame_loader(loader: dict, root: str) -> dict:
    loader = copy.deepcopy(loader)
    loader.update(num_workers=0, persistent_workers=False)
    loader.dataset.data_root = root
    loader.dataset.indices = 1
    return loader


@pytest.mark.parametrize('path', TEST_CONFIGS, ids=osp.basename)
def test_test_config_runs_one_frame(tmp_path, models, path):
    name = osp.basename(path)
    cfg = Config.fromfile(path)
    abstention = name.startswith('deepwv3plus-pal_')
    assert cfg.model == base_model(abstention)
    assert cfg.anomaly_score == dict(name='energy', temperature=1.0,
                                     smooth_kernel=7, smooth_sigma=1.0)
    bench = name.split('_test-')[1][:-len('.py')]
    if bench == 'all-benchmarks':
        for entry in cfg.test_cfg.benchmarks:
            (kind, (_, writer)), = [(k, v) for k, v in BENCHMARKS.items()
                                    if v[0] == entry.name]
            root = str(tmp_path / kind)
            writer(root)
            entry.dataloader = one_frame_loader(entry.dataloader, root)
        expected = [entry.name + '/AP' for entry in cfg.test_cfg.benchmarks]
    else:
        BENCHMARKS[bench][1](str(tmp_path))
        cfg.test_dataloader = one_frame_loader(cfg.test_dataloader,
                                               str(tmp_path))
        expected = ['AP']
    runner = Runner(
        model=models[20 if abstention else 19], work_dir=str(tmp_path),
        test_dataloader=cfg.test_dataloader, test_cfg=cfg.test_cfg,
        test_evaluator=cfg.test_evaluator, default_hooks=cfg.default_hooks,
        custom_hooks=cfg.custom_hooks, visualizer=cfg.visualizer,
        default_scope='mmseg', env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING', cfg=cfg)
    metrics = runner.test()
    for key in expected:
        assert math.isfinite(metrics[key]), (key, metrics)


@pytest.mark.parametrize(
    'path', sorted(glob.glob(osp.join(CONFIGS, 'benchmarks', '*.py'))),
    ids=osp.basename)
def test_every_benchmark_config_has_what_the_runner_needs(path):
    """mmengine's Runner refuses a config whose test (or val) dataloader,
    loop and evaluator are not all set or all unset: a single-benchmark
    config has no schedule base to give it the loops."""
    cfg = Config.fromfile(path)
    for split in ('test', 'val'):
        parts = [cfg.get(f'{split}_{key}') is not None
                 for key in ('dataloader', 'cfg', 'evaluator')]
        assert all(parts) or (split == 'val' and not any(parts)), (split,
                                                                   parts)
    assert cfg.get('test_cfg') is not None
