"""SegFormer and UPerNet through the whole project, on CPU-sized variants.

Each family's real balanced-energy fine-tuning config is shrunk (few
channels and layers, plain BN, random init, 64x64 crops; the SegFormer keeps
its sliding-window inference, two overlapping windows per image), pointed at
generated data (toy scenes, a synthetic outlier bank, a validation split in
the Fishyscapes layout) and run as a user would: a "zoo" checkpoint, the
prior tool on it, 2 training iterations from it with the estimated prior,
validation and test with PixelOODMetric, then heat maps and export.
"""
import copy
import glob
import json
import math
import os
import os.path as osp

import cv2
import h5py
import numpy as np
import pytest
import torch
from mmengine.config import Config
from sklearn.metrics import average_precision_score, roc_auc_score

import mmseg_be  # noqa: F401
from mmseg_be.outliers.synthetic import write_synthetic_bank
from tests.helpers import REPO, write_toy_seg_dataset

H, W = 64, 96
CROP = (64, 64)
NUM_CLASSES = 4
FORCED_CLASS = 2  # the "zoo" model's classifier bias makes it predict this
LEAVES = {
    'segformer': 'configs/segformer/segformer_mit-b2_balanced-energy_'
    '8xb1-8k_cityscapes-coco-1024x1024.py',
    'upernet': 'configs/upernet/upernet_r101_balanced-energy_'
    '4xb2-8k_cityscapes-coco-512x1024.py',
}


def shrink_model(model: dict) -> None:
    """The same architecture at a CPU-sized width and depth."""
    bn = dict(type='BN', requires_grad=True)
    backbone = model['backbone']
    if backbone['type'] == 'MixVisionTransformer':
        backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1])
        widths = [8 * heads for heads in backbone['num_heads']]
        # Sliding windows as the zoo's: here 2 overlapping ones per image.
        model['test_cfg'].update(crop_size=CROP, stride=(48, 48))
    else:
        backbone.update(depth=18, base_channels=16, stem_channels=16,
                        norm_cfg=bn)
        widths = [16, 32, 64, 128]
        model['auxiliary_head'].update(in_channels=widths[2], channels=16,
                                       norm_cfg=bn, num_classes=NUM_CLASSES)
    model['decode_head'].update(in_channels=widths, channels=16, norm_cfg=bn,
                                num_classes=NUM_CLASSES)
    model['data_preprocessor']['size'] = CROP


def write_fishyscapes_split(root: str, source: str) -> str:
    """Toy val images with 0 inlier / 1 anomaly / 255 labels, in the
    Fishyscapes ``original/`` + ``labels/`` layout."""
    for path in sorted(glob.glob(osp.join(source, 'img_dir', 'val', '*'))):
        name = osp.basename(path)
        label = cv2.imread(osp.join(source, 'ann_dir', 'val', name),
                           cv2.IMREAD_UNCHANGED)
        ood = np.where(label == 255, 255, (label == 254).astype(np.uint8))
        for folder, array in (('original', cv2.imread(path)),
                              ('labels', ood.astype(np.uint8))):
            os.makedirs(osp.join(root, folder), exist_ok=True)
            cv2.imwrite(osp.join(root, folder, name), array)
    return root


@pytest.fixture(scope='module', autouse=True)
def small_model_cpu_settings():
    """oneDNN builds a kernel per convolution shape on first use, seconds
    on these tiny models, where PyTorch's own CPU kernels start at once; and
    one thread (as the subprocess tests' OMP_NUM_THREADS=1) keeps many tiny
    ops from waiting on each other on a shared machine."""
    previous = torch.backends.mkldnn.enabled, torch.get_num_threads()
    torch.backends.mkldnn.enabled = False
    torch.set_num_threads(1)
    yield
    torch.backends.mkldnn.enabled = previous[0]
    torch.set_num_threads(previous[1])


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('families')
    scenes = write_toy_seg_dataset(str(root / 'scenes'), num_images=4)
    with_ood = write_toy_seg_dataset(str(root / 'ood'), num_images=2,
                                     ood_value=254, seed=1)
    bank = str(root / 'bank')
    write_synthetic_bank(bank, 4, max_side=24, seed=0)
    val = write_fishyscapes_split(str(root / 'fishyscapes'), with_ood)
    return dict(root=root, scenes=scenes, bank=bank, val=val)


def tiny_variant(family: str, data: dict) -> Config:
    """The family's balanced-energy config, CPU-sized, on the toy data."""
    cfg = Config.fromfile(osp.join(REPO, LEAVES[family]))
    work = str(data['root'] / family)
    shrink_model(cfg.model)
    metainfo = dict(classes=tuple(f'class{i}' for i in range(NUM_CLASSES)),
                    palette=[[60 * i, 100, 200] for i in range(NUM_CLASSES)])
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        if step.type == 'PasteOutliers':
            step.update(bank_root=data['bank'], prob=1.0)
        elif step.type == 'RandomResize':
            step.scale = (W, H)
        elif step.type == 'RandomCrop':
            step.crop_size = CROP
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    cfg.train_dataloader.dataset = dict(
        type='BaseSegDataset', data_root=data['scenes'], metainfo=metainfo,
        img_suffix='.png', seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train',
                         seg_map_path='ann_dir/train'),
        pipeline=pipeline)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.data_root = data['val']
    cfg.model.decode_head.loss_decode[1].prior = osp.join(work, 'prior.json')
    cfg.load_from = osp.join(work, 'zoo.pth')
    cfg.work_dir = work
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
    return cfg


def save_zoo_checkpoint(cfg: Config, path: str) -> None:
    """A random-init model whose classifier bias makes every pixel
    ``FORCED_CLASS`` (it stands in for the zoo checkpoint)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmseg_be.apis import without_missing_prior_files
    init_default_scope('mmseg')
    model_cfg = copy.deepcopy(cfg.model)
    without_missing_prior_files(model_cfg)  # not estimated yet
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    with torch.no_grad():
        model.decode_head.conv_seg.bias[FORCED_CLASS] += 100.0
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


def estimate_prior_tool(argv: list) -> None:
    from mmseg_be.cli.estimate_prior import main
    main(argv)


def oracle_metrics(runner, settings: dict) -> dict:
    """AUROC / AP of the runner's model on its validation split, by
    scikit-learn."""
    from mmseg_be.scoring import compute_anomaly_score
    scores, labels = [], []
    runner.model.eval()
    with torch.no_grad():
        for batch in runner.val_dataloader:
            for sample in runner.model.test_step(batch):
                score = compute_anomaly_score(sample.seg_logits.data[None],
                                              **settings)[0]
                label = sample.gt_sem_seg.data[0]
                keep = label != 255
                scores.append(score[keep].double().numpy())
                labels.append(label[keep].numpy())
    scores, labels = np.concatenate(scores), np.concatenate(labels)
    return dict(AUROC=100 * roc_auc_score(labels, scores),
                AP=100 * average_precision_score(labels, scores))


@pytest.fixture(scope='module', params=sorted(LEAVES))
def trained(request, data):
    """Prior tool on the "zoo" checkpoint, then 2 training iterations from
    it and a validation."""
    from mmengine.runner import Runner
    family = request.param
    cfg = tiny_variant(family, data)
    config = osp.join(cfg.work_dir, 'tiny_config.py')
    save_zoo_checkpoint(cfg, cfg.load_from)
    cfg.dump(config)
    prior_path = cfg.model.decode_head.loss_decode[1].prior
    estimate_prior_tool([config, cfg.load_from, '--prior-file', prior_path,
                         '--num-samples', '4', '--batch-size', '2'])
    runner = Runner.from_cfg(Config.fromfile(config))
    runner.train()
    losses = {key[len('train/'):]:
              runner.message_hub.get_scalar(key).current()
              for key in runner.message_hub.log_scalars
              if key.startswith(('train/decode.loss', 'train/aux.loss'))}
    # The validation at iteration 2 (Fishyscapes-layout split).
    metrics = {key[len('val/'):]: runner.message_hub.get_scalar(key).current()
               for key in runner.message_hub.log_scalars
               if key.startswith('val/')}
    with open(prior_path) as f:
        prior = json.load(f)
    return dict(family=family, config=config, cfg=cfg, runner=runner,
                prior=prior, losses=losses,
                metrics=metrics,
                checkpoint=osp.join(cfg.work_dir, 'iter_2.pth'))


def test_prior_tool_sees_the_forced_class(trained):
    prior = trained['prior']
    # Every pasted pixel is predicted FORCED_CLASS: a one-hot prior.
    assert prior['prior'] == [float(c == FORCED_CLASS)
                              for c in range(NUM_CLASSES)]
    assert prior['counts'][FORCED_CLASS] == prior['num_pixels'] > 0
    assert prior['class_names'] == [f'class{i}' for i in range(NUM_CLASSES)]


def test_trains_with_the_balanced_loss_on_the_main_head(trained):
    losses = trained['losses']
    assert trained['runner'].iter == 2
    assert math.isfinite(losses['decode.loss_balanced_energy'])
    assert losses['decode.loss_balanced_energy'] > 0
    assert losses['decode.loss_ce'] > 0
    if trained['family'] == 'upernet':
        # The auxiliary FCN head: cross-entropy only, no energy loss.
        assert sorted(k for k in losses if k.startswith('aux.')) == [
            'aux.loss_ce']
    else:
        assert not any(k.startswith('aux.') for k in losses)
    assert osp.isfile(trained['checkpoint'])


def test_evaluates_with_the_config_score(trained):
    from mmseg_be.scoring import anomaly_score_settings
    settings = anomaly_score_settings(trained['cfg'].anomaly_score)
    assert settings['smooth_kernel'] == 7  # the released score, smoothed
    expected = oracle_metrics(trained['runner'], settings)
    metrics = trained['metrics']
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
    assert 0.0 <= metrics['FPR95'] <= 100.0


def test_heat_maps_and_export(trained, tmp_path, capsys):
    from mmseg.apis import inference_model
    from mmseg_be.cli.export import main as export_main
    from mmseg_be.apis import AnomalyInferencer
    from mmseg_be.scoring import anomaly_score_settings, compute_anomaly_score
    from mmseg_be.cli.visualize import main as visualize_main
    images = osp.join(trained['cfg'].test_dataloader.dataset.data_root,
                      'original')
    config, checkpoint = trained['config'], trained['checkpoint']
    out = str(tmp_path / 'vis')
    assert visualize_main([config, checkpoint, images, '--show-dir', out,
                           '--save-scores', '--device', 'cpu',
                           '--no-progress']) == 0
    assert len(glob.glob(osp.join(out, '*.png'))) == 2
    model = AnomalyInferencer(config, checkpoint, 'cpu').model
    first = sorted(glob.glob(osp.join(images, '*.png')))[0]
    logits = inference_model(model, first).seg_logits.data[None]
    settings = anomaly_score_settings(trained['cfg'].anomaly_score)
    expected = compute_anomaly_score(logits, **settings)[0].numpy()
    saved = np.load(osp.join(out, osp.basename(first)[:-4] + '.npy'))
    np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-5)
    submission = str(tmp_path / 'submission')
    assert export_main([config, checkpoint, '--images', images,
                        '--submission', submission, '--method', trained['family'],
                        '--dataset-name', 'AnomalyTrack-all', '--device',
                        'cpu', '--no-progress', '--mapping', 'minmax',
                        '--low', '-110', '--high', '-90']) == 0
    files = glob.glob(osp.join(submission, 'anomaly_p', trained['family'],
                               'AnomalyTrack-all', '*.hdf5'))
    assert len(files) == 2
    with h5py.File(files[0], 'r') as f:
        assert f['value'].shape == (H, W)
