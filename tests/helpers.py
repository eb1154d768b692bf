"""Shared test helpers: tiny generated data and a CPU-sized config."""
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config

from tests.toy_data import write_toy_seg_dataset

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(REPO, 'configs', 'smoke', 'toy_deeplabv3plus_r18.py')

__all__ = ['REPO', 'TOY_CONFIG', 'tiny_cfg', 'train_on_toy',
           'write_toy_ood_checkpoint', 'write_toy_seg_dataset',
           'point_cfg_at']


def read_tree(root: str) -> dict:
    """Every file under ``root``: relative path -> bytes."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def point_cfg_at(cfg: Config, data_root: str, work_dir: str) -> Config:
    """Point every dataloader of a config at ``data_root``."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            cfg[key]['dataset']['data_root'] = data_root
    cfg.work_dir = work_dir
    return cfg


def tiny_cfg(data_root: str,
             work_dir: str,
             num_classes: int = 4,
             decode_loss: Optional[dict] = None,
             aux_loss: Optional[dict] = None,
             max_iters: int = 2) -> Config:
    """The toy DeepLabV3+ R-18 config, shortened to ``max_iters`` iterations.

    Args:
        data_root: A folder written by :func:`write_toy_seg_dataset`.
        work_dir: Runner work dir.
        num_classes: Classes of the decode and auxiliary heads.
        decode_loss: Replaces ``model.decode_head.loss_decode`` if given
            (a dict or a list of dicts).
        aux_loss: Replaces ``model.auxiliary_head.loss_decode`` if given.
        max_iters: Training iterations (validation and a checkpoint at the end).
    """
    cfg = Config.fromfile(TOY_CONFIG)
    point_cfg_at(cfg, data_root, work_dir)
    cfg.model.decode_head.num_classes = num_classes
    cfg.model.auxiliary_head.num_classes = num_classes
    if decode_loss is not None:
        cfg.model.decode_head.loss_decode = decode_loss
    if aux_loss is not None:
        cfg.model.auxiliary_head.loss_decode = aux_loss
    classes = tuple(f'class{i}' for i in range(num_classes))
    palette = [[(40 + 60 * i) % 256, 100, (200 + 40 * i) % 256]
               for i in range(num_classes)]
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key]['dataset']['metainfo'] = dict(classes=classes,
                                               palette=palette)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler[0]['end'] = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    return cfg


def train_on_toy(cfg: Config, toy: Config, work_dir: str,
                 iters: int = 2) -> Config:
    """A training config run for ``iters`` iterations on the toy data of
    ``toy`` (a :func:`tiny_cfg`): its train dataloader, hooks and
    environment; no validation, test or checkpoint."""
    cfg.train_dataloader = toy.train_dataloader
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=100)
    cfg.param_scheduler[0]['end'] = iters
    cfg.default_hooks = toy.default_hooks
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.env_cfg = toy.env_cfg
    cfg.work_dir = work_dir
    return cfg


def write_toy_ood_checkpoint(root: str,
                             anomaly_score: Optional[dict] = None) -> dict:
    """Toy data with OOD val labels, a test config and a random checkpoint.

    Val labels become 0 inlier / 1 anomaly / 255; the config evaluates
    ``PixelOODMetric`` with one top-level ``anomaly_score`` (handed over by
    ``AnomalyScoreHook``), draws with ``AnomalyVisualizer`` and has the
    visualization hook MMSeg's ``--show-dir`` needs. The checkpoint is a
    freshly initialised model in mmengine's format.

    Returns:
        dict: ``root``, ``config``, ``checkpoint``, ``images``, ``labels``.
    """
    import glob

    import cv2
    import numpy as np
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    write_toy_seg_dataset(root, num_images=4, ood_value=254)
    for path in glob.glob(osp.join(root, 'ann_dir', 'val', '*.png')):
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        ood = np.where(label == 255, 255, (label == 254).astype(np.uint8))
        cv2.imwrite(path, ood.astype(np.uint8))
    # Trainable on the train split's pasted-254 pixels, as the project's
    # fine-tuning configs.
    cfg = tiny_cfg(
        root, osp.join(root, 'work'),
        decode_loss=[
            dict(type='OODCrossEntropyLoss', loss_weight=1.0),
            dict(type='BalancedEnergyLoss', prior=[0.4, 0.3, 0.2, 0.1],
                 loss_weight=0.1)
        ],
        aux_loss=dict(type='OODCrossEntropyLoss', loss_weight=0.4))
    cfg.test_dataloader.dataset.metainfo = dict(
        classes=('inlier', 'anomaly'), palette=[[0, 160, 0], [255, 0, 0]])
    cfg.test_evaluator = dict(type='PixelOODMetric')
    cfg.anomaly_score = dict(anomaly_score or dict(name='energy'))
    cfg.custom_hooks = [dict(type='AnomalyScoreHook')]
    cfg.visualizer = dict(type='AnomalyVisualizer', name='visualizer',
                          vis_backends=[dict(type='LocalVisBackend')])
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook',
                                           interval=1)
    config = osp.join(root, 'toy_config.py')
    cfg.dump(config)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    # A freshly initialised classifier gives nearly constant logits; widen
    # them so anomaly maps vary across the image as a trained model's do.
    torch.nn.init.normal_(model.decode_head.conv_seg.weight, std=100.0)
    checkpoint = osp.join(root, 'toy.pth')
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': dict(
                    classes=tuple(f'class{i}' for i in range(4)),
                    palette=[[60 * i, 100, 200] for i in range(4)])}},
               checkpoint)
    return dict(root=root, config=config, checkpoint=checkpoint,
                images=osp.join(root, 'img_dir', 'val'),
                labels=osp.join(root, 'ann_dir', 'val'))
