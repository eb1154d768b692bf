"""A DeepLabV3+ whose heads use the OOD losses trains on pasted-254 data."""
import math

import cv2
from mmengine.runner import Runner

from tests.helpers import tiny_cfg, write_toy_seg_dataset


def test_deeplabv3plus_trains_two_iterations_with_ood_losses(tmp_path):
    data_root = write_toy_seg_dataset(
        str(tmp_path / 'toy'), num_images=2, num_classes=4, ood_value=254)
    cfg = tiny_cfg(
        data_root, str(tmp_path / 'work'), num_classes=4,
        decode_loss=[
            dict(type='OODCrossEntropyLoss', loss_weight=1.0),
            dict(type='BalancedEnergyLoss', prior=[0.4, 0.3, 0.2, 0.1],
                 loss_weight=0.1),
        ],
        aux_loss=dict(type='OODCrossEntropyLoss', loss_weight=0.4),
        max_iters=2)
    # Labels 254 really are in the training data.
    ann = cv2.imread(f'{data_root}/ann_dir/train/0000.png',
                     cv2.IMREAD_UNCHANGED)
    assert (ann == 254).any()
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    assert runner.iter == 2
    for key in ('decode.loss_ce', 'decode.loss_balanced_energy',
                'aux.loss_ce'):
        value = hub.get_scalar(f'train/{key}').current()
        assert math.isfinite(value) and value > 0, key
