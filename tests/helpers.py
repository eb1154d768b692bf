"""Shared test helpers: tiny generated data and a CPU-sized config."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from mmseg_be.utils.toy_data import write_toy_seg_dataset

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(REPO, 'configs', 'smoke', 'toy_deeplabv3plus_r18.py')

__all__ = ['REPO', 'TOY_CONFIG', 'tiny_cfg', 'write_toy_seg_dataset',
           'point_cfg_at']


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
