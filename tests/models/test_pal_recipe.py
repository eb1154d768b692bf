"""The PAL recipe config: builds, and over 2 training iterations its frozen
parameters stay bit-identical while the last decoder block changes."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tests.helpers import (REPO, tiny_cfg, train_on_toy,
                           write_toy_seg_dataset)

RECIPE = osp.join(
    REPO, 'configs', 'balanced_energy',
    'deeplabv3plus_r101-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-'
    '900x900.py')
TRAINABLE = ('decode_head.sep_bottleneck.', 'decode_head.conv_seg.')


class SnapshotParams(Hook):
    """Copies the parameters once the weights are initialised."""

    def before_train(self, runner) -> None:
        self.params = {k: v.detach().clone()
                       for k, v in runner.model.named_parameters()}


def test_recipe_values():
    cfg = Config.fromfile(RECIPE)
    assert cfg.model.decode_head.type == 'AbstentionASPPHead'
    assert [loss['type'] for loss in cfg.model.decode_head.loss_decode] == [
        'PALLoss', 'BalancedEnergyLoss']
    assert cfg.model.decode_head.loss_decode[1]['loss_weight'] == 0.1
    assert cfg.model.auxiliary_head is None
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-5, betas=(0.9, 0.999), weight_decay=0)
    assert cfg.randomness.seed == 666
    assert cfg.param_scheduler[0]['end'] == cfg.train_cfg.max_iters == (
        20 * (2975 + 297) // 8)
    flip = [t for t in cfg.train_pipeline if t['type'] == 'RandomFlip'][0]
    crop = [t for t in cfg.train_pipeline if t['type'] == 'RandomCrop'][0]
    resize = [t for t in cfg.train_pipeline
              if t['type'] == 'RandomChoiceResize'][0]
    assert flip['prob'] == 0.5 and crop['crop_size'] == (900, 900)
    assert [w / 2048 for w, _ in resize['scales']] == [
        0.5, 0.75, 1.0, 1.5, 1.75, 2.0]
    assert cfg.custom_imports == dict(imports=['mmseg_be'],
                                      allow_failed_imports=False)


def test_recipe_freezes_all_but_the_last_decoder_block(tmp_path):
    data_root = write_toy_seg_dataset(
        str(tmp_path / 'toy'), num_images=2, num_classes=4, ood_value=254)
    toy = tiny_cfg(data_root, str(tmp_path / 'work'), num_classes=4,
                   max_iters=2)
    cfg = Config.fromfile(RECIPE)
    # Shrink: R-18 backbone, the toy data and its 4 classes, no validation.
    cfg.model.backbone = toy.model.backbone
    cfg.model.data_preprocessor = toy.model.data_preprocessor
    head = cfg.model.decode_head
    for key in ('in_channels', 'channels', 'c1_in_channels', 'c1_channels',
                'norm_cfg'):
        head[key] = toy.model.decode_head[key]
    head.num_classes = 4
    head.loss_decode[0]['num_classes'] = 4
    head.loss_decode[1]['num_classes'] = 4
    head.loss_decode[1]['prior'] = [0.4, 0.3, 0.2, 0.1]
    cfg.load_from = None
    train_on_toy(cfg, toy, str(tmp_path / 'work'))

    runner = Runner.from_cfg(cfg)
    snapshot = SnapshotParams()
    runner.register_hook(snapshot, priority='VERY_LOW')
    runner.train()
    after = dict(runner.model.named_parameters())
    trainable = [k for k in after if k.startswith(TRAINABLE)]
    frozen = [k for k in after if not k.startswith(TRAINABLE)]
    assert len(trainable) >= 4 and any(k.startswith('backbone.')
                                       for k in frozen)
    for key in frozen:
        assert torch.equal(after[key], snapshot.params[key]), key
    for key in trainable:
        assert not torch.equal(after[key], snapshot.params[key]), key
