"""Estimate the class prior of the auxiliary outliers.

The balanced energy loss weights each pasted outlier pixel by how the
in-distribution model sees the outliers: the prior is the fraction of pasted
outlier pixels that the pretrained model assigns to each class (argmax; or the
mean softmax with ``mode='soft'``). This runs that model over samples of the
config's own training pipeline (with ``PasteOutliers``) and counts.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import nn
from tqdm import tqdm

from mmseg_be.constants import OUTLIER_LABEL
from mmseg_be.models.losses.prior import (names_a_prior_file,
                                          outlier_class_counts)
from mmseg_be.utils.atomic_io import atomic_write_bytes
from mmseg_be.utils.config_nodes import config_dicts


def _missing_prior_nodes(model_cfg, key: str = 'model'):
    """``(dotted key, dict)`` of every dict of ``model_cfg`` whose ``prior``
    names a file that does not exist (a prior named by
    :data:`~mmseg_be.models.losses.NAMED_PRIORS` and ``'online'`` are not
    files: :func:`~mmseg_be.models.losses.prior.names_a_prior_file`)."""
    for where, node in config_dicts(model_cfg, key):
        prior = node.get('prior')
        if names_a_prior_file(prior) and not osp.isfile(prior):
            yield where, node


def missing_prior_files(model_cfg, key: str = 'model') -> List[tuple]:
    """Where a loss names a prior file that does not exist.

    Args:
        model_cfg: A model config (``cfg.model``).
        key: Its dotted config key (``--cfg-options`` syntax).

    Returns:
        list[tuple[str, str]]: ``(key, path)`` per missing file, ``key``
        being the loss's ``prior`` entry, e.g.
        ``'model.decode_head.loss_decode.1.prior'``.
    """
    return [(f'{where}.prior', node['prior'])
            for where, node in _missing_prior_nodes(model_cfg, key)]


def without_missing_prior_files(model_cfg) -> list:
    """Set ``prior=None`` wherever a loss of ``model_cfg`` names a prior
    file not yet written.

    The usual flow estimates the prior with the fine-tuning config before
    its prior file exists; the losses play no part in the estimate, nor in
    a test.

    Returns:
        list: The paths that were dropped.
    """
    nodes = [node for _, node in _missing_prior_nodes(model_cfg)]
    dropped = [node['prior'] for node in nodes]
    for node in nodes:
        node['prior'] = None
    return dropped


def forced_paste_pipeline(pipeline: List[dict],
                           paste_prob: Optional[float]) -> List[dict]:
    """Copy of ``pipeline`` with every PasteOutliers' ``prob`` overridden."""
    out = []
    found = False
    for step in pipeline:
        step = dict(step)
        if step.get('type') == 'PasteOutliers':
            found = True
            if paste_prob is not None:
                step['prob'] = paste_prob
        out.append(step)
    if not found:
        raise ValueError(
            'The training pipeline of the config has no PasteOutliers step, '
            'so no pixel is labelled as a pasted outlier. Estimate the prior '
            'with the config used for fine-tuning (e.g. one over '
            'configs/_base_/datasets/cityscapes_coco_outliers.py).')
    return out


def build_pasting_dataset(cfg: Config, paste_prob: Optional[float] = 1.0):
    """The config's training dataset, its ``PasteOutliers`` forced to
    ``paste_prob`` (None keeps the config's)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.pipeline = forced_paste_pipeline(dataset_cfg.pipeline,
                                                 paste_prob)
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def estimate_prior(model: nn.Module,
                   dataset,
                   num_samples: int = 1000,
                   batch_size: int = 2,
                   seed: int = 0,
                   mode: str = 'argmax',
                   ood_index: int = OUTLIER_LABEL,
                   num_classes: Optional[int] = None,
                   progress: bool = True) -> Dict:
    """Count the classes the model predicts on pasted outlier pixels.

    Args:
        model: An MMSeg segmentor (``EncoderDecoder``-like: it must have
            ``data_preprocessor`` and ``encode_decode``), in any device.
        dataset: A built dataset whose pipeline pastes outliers labelled
            ``ood_index``.
        num_samples: Samples drawn (with replacement when the dataset is
            smaller).
        batch_size: Samples per forward pass.
        seed: Seeds the sample choice and the pipeline's randomness.
        mode: ``'argmax'`` counts the predicted class of each outlier pixel;
            ``'soft'`` sums the softmax probabilities.
        num_classes: In-distribution classes C; the model's channels beyond C
            (an abstention channel) are dropped. Default: all channels.
        progress: Show a progress bar.

    Returns:
        dict: ``prior`` (C fractions), ``counts``, ``num_samples``,
        ``num_pixels``, ``mode``, ``seed``.
    """
    from mmengine.runner import set_random_seed
    if mode not in ('argmax', 'soft'):
        raise ValueError(f"mode must be 'argmax' or 'soft', got {mode!r}")
    if num_samples < 1 or batch_size < 1:
        raise ValueError('num_samples and batch_size must be positive')
    set_random_seed(seed)
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(dataset), num_samples,
                         replace=num_samples > len(dataset))
    model.eval()
    counts: Optional[torch.Tensor] = None
    num_pixels = 0
    bar = tqdm(total=num_samples, desc='estimating prior', unit='img',
               disable=not progress)
    for start in range(0, num_samples, batch_size):
        batch = pseudo_collate(
            [dataset[int(i)] for i in indices[start:start + batch_size]])
        # training=True pads images and labels alike (labels with 255).
        data = model.data_preprocessor(batch, True)
        inputs, samples = data['inputs'], data['data_samples']
        logits = model.encode_decode(inputs, [s.metainfo for s in samples])
        c = logits.shape[1] if num_classes is None else num_classes
        if c > logits.shape[1]:
            raise ValueError(f'num_classes={c} but the model outputs only '
                             f'{logits.shape[1]} channels')
        logits = logits[:, :c].float()
        labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
        if labels.shape[-2:] != logits.shape[-2:]:
            logits = nn.functional.interpolate(
                logits, labels.shape[-2:], mode='bilinear',
                align_corners=False)
        batch_counts = outlier_class_counts(logits, labels, ood_index,
                                            mode=mode)
        counts = batch_counts if counts is None else counts + batch_counts
        num_pixels += int((labels == ood_index).sum())
        bar.update(len(samples))
    bar.close()
    if num_pixels == 0:
        raise RuntimeError(
            f'No pixel labelled {ood_index} in {num_samples} samples: check '
            'that the pipeline pastes outliers (PasteOutliers prob > 0) and '
            'that no later step crops them all away.')
    assert counts is not None
    prior = (counts / counts.sum()).tolist()
    return dict(prior=prior,
                counts=[int(round(v)) if mode == 'argmax' else float(v)
                        for v in counts.tolist()],
                num_samples=int(num_samples), num_pixels=num_pixels,
                mode=mode, seed=seed)


def write_prior_json(path: str, result: Dict,
                     class_names: Optional[Sequence[str]], config: str,
                     checkpoint: str) -> None:
    """Write a prior file (read back by ``BalancedEnergyLoss(prior=path)``).

    Written atomically (:mod:`mmseg_be.utils.atomic_io`), so a crash never
    leaves a truncated file.
    """
    record = dict(result)
    if class_names is not None and len(class_names) != len(result['prior']):
        raise ValueError(
            f'{len(class_names)} class names for a prior of '
            f'{len(result["prior"])} classes; pass --num-classes')
    record['class_names'] = None if class_names is None else list(
        class_names)
    record['config'] = config
    record['checkpoint'] = checkpoint
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())
