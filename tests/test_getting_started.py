"""docs/getting_started.md, run as written on miniature data.

Every ``bash`` block of the page is read and every command run in a folder
that holds miniature copies of the datasets in their official download
layouts (Cityscapes leftImg8bit/gtFine, COCO 2017 annotations and images,
Fishyscapes Lost & Found and Static, Road Anomaly, both SMIYC tracks,
LostAndFound) under ``data/``, and ``configs/`` and ``tools/`` of this
checkout. Only sizes and iteration counts are overridden: appended
``--cfg-options`` that shrink the training crops and the schedule, the
number of prior samples, and the iteration in the checkpoint's name. The
install lines and the download are not run; MMSeg's zoo checkpoint is
replaced by the zoo config's model, saved under the name the page uses.

The page's claims are checked against what the commands leave on disk:
the bank, the prior file, the best checkpoints of both selection splits,
the metrics of all six benchmarks and one HDF5 file per SMIYC test frame.
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import cv2
import h5py
import mmseg
import numpy as np
import pytest
from mmengine.config import Config

from tests.helpers import REPO

DOC = osp.join(REPO, 'docs', 'getting_started.md')
H, W = 32, 64  # every miniature frame
ITERS = 2
ZOO_CONFIG = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                      'deeplabv3plus',
                      'deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
NOT_RUN = (
    'git clone',                # the checkout is this one
    'make venv',                # the environment is this one
    '. .venv/bin/activate',
    'mkdir -p checkpoints && wget',  # written below from the zoo config
)
SIZES = [
    '--cfg-options', f'model.data_preprocessor.size=({H},{W})',
    f'train_dataloader.dataset.pipeline.3.scale=({W},{H})',
    f'train_dataloader.dataset.pipeline.4.crop_size=({H},{W})'
]
SCHEDULE = [
    f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
    f'param_scheduler.0.end={ITERS}',
    f'default_hooks.checkpoint.interval={ITERS}',
    'default_hooks.logger.interval=1'
]


def doc_commands(path: str) -> list:
    """The command lines of the page's bash blocks (continuations joined,
    comments dropped)."""
    with open(path) as f:
        blocks = re.findall(r'```bash\n(.*?)```', f.read(), re.S)
    lines = []
    for block in blocks:
        for line in block.replace('\\\n', ' ').splitlines():
            line = re.sub(r'\s+#.*$', '', line).strip()
            if line:
                lines.append(' '.join(line.split()))
    return lines


def rng_image(seed: int, h: int = H, w: int = W) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3),
                                                dtype=np.uint8)


def write(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array), path


def label(values, seed: int) -> np.ndarray:
    """A frame-sized label map: a block of the last value (the anomaly) on
    random other values, every value present."""
    rng = np.random.default_rng(seed)
    out = rng.choice(values[:-1], (H, W)).astype(np.uint8)
    out[8:20, 20:40] = values[-1]
    out.flat[:len(values)] = values
    return out


def write_datasets(data: str) -> None:
    """Two or three frames of every dataset, in the release layouts."""
    for i, city in enumerate(['aachen', 'bochum']):
        stem = f'{city}_000000_0000{19 + i}'
        write(osp.join(data, 'cityscapes', 'leftImg8bit', 'train', city,
                       f'{stem}_leftImg8bit.png'), rng_image(i))
        gt = osp.join(data, 'cityscapes', 'gtFine', 'train', city, stem)
        write(gt + '_gtFine_labelTrainIds.png',
              label(list(range(19)) + [255], 100 + i))
    # COCO: two 480x640 images (the bank's minimum side) with one small
    # object each, of classes Cityscapes does not have (dog, bottle).
    coco = osp.join(data, 'coco')
    images, annotations = [], []
    for i, cat in enumerate([18, 44]):
        file_name = f'{i + 1:012d}.jpg'
        write(osp.join(coco, 'train2017', file_name),
              rng_image(200 + i, 480, 640))
        images.append(dict(id=i + 1, file_name=file_name, height=480,
                           width=640))
        x, y = 100 + 50 * i, 200
        annotations.append(dict(
            id=10 + i, image_id=i + 1, category_id=cat, iscrowd=0,
            segmentation=[[x, y, x + 16, y, x + 16, y + 12, x, y + 12]],
            area=192, bbox=[x, y, 16, 12]))
    os.makedirs(osp.join(coco, 'annotations'))
    with open(osp.join(coco, 'annotations', 'instances_train2017.json'),
              'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=[dict(id=18, name='dog'),
                                   dict(id=44, name='bottle')]), f)
    for split, seed in (('LostAndFound', 300), ('Static', 310)):
        for i in range(2):
            root = osp.join(data, 'fishyscapes', split)
            write(osp.join(root, 'original', f'{i}.png'), rng_image(seed + i))
            write(osp.join(root, 'labels', f'{i}.png'),
                  label([0, 255, 1], seed + i))
    for i, name in enumerate(['animals01_Guiyang_2', 'cones03_road_works']):
        frames = osp.join(data, 'RoadAnomaly_jpg', 'frames')
        write(osp.join(frames, name + '.jpg'), rng_image(320 + i))
        write(osp.join(frames, name + '.labels', 'labels_semantic.png'),
              label([0, 2], 320 + i))
    for track, ext in (('AnomalyTrack', 'jpg'), ('ObstacleTrack', 'webp')):
        root = osp.join(data, 'smiyc', f'dataset_{track}')
        frames = [f'validation_{i}' for i in range(2)] + ['test_0', 'test_1']
        for i, fid in enumerate(frames):
            write(osp.join(root, 'images', f'{fid}.{ext}'), rng_image(330 + i))
            if fid.startswith('validation'):
                write(osp.join(root, 'labels_masks',
                               f'{fid}_labels_semantic.png'),
                      label([0, 255, 1], 330 + i))
    for i, (seq, fid) in enumerate([
            ('04_Maurener_Weg_8', '04_Maurener_Weg_8_000000_000030'),
            ('13_Elly_Beinhorn_Str', '13_Elly_Beinhorn_Str_000000_000050')]):
        laf = osp.join(data, 'lost_and_found')
        write(osp.join(laf, 'leftImg8bit', 'test', seq,
                       f'{fid}_leftImg8bit.png'), rng_image(340 + i))
        write(osp.join(laf, 'gtCoarse', 'test', seq,
                       f'{fid}_gtCoarse_labelIds.png'),
              label([0, 1, 2 + 40 * i], 340 + i))


WRITE_ZOO_CHECKPOINT = """
import sys
import torch
import mmseg_be  # registers MMSeg's models (and the mmcv-lite stand-in)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
init_default_scope('mmseg')
torch.manual_seed(0)
model = MODELS.build(Config.fromfile(sys.argv[1]).model)
torch.save({'state_dict': model.state_dict(), 'meta': {}}, sys.argv[2])
"""


def write_zoo_checkpoint(root: str, commands: list) -> None:
    """The zoo config's model under the name the page downloads (built in a
    process of its own: the R-101 does not stay in the test's memory)."""
    (download, ) = [c for c in commands if c.startswith('mkdir -p checkpoints')]
    name = osp.basename(download.split()[-1])
    os.makedirs(osp.join(root, 'checkpoints'))
    proc = subprocess.run(
        [sys.executable, '-c', WRITE_ZOO_CHECKPOINT, ZOO_CONFIG,
         osp.join(root, 'checkpoints', name)], capture_output=True, text=True,
        timeout=600, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]


def miniature(argv: list) -> list:
    """The command with sizes and iteration counts overridden."""
    argv = [a.replace('iter_8180', f'iter_{ITERS}') for a in argv]
    tool = osp.basename(argv[1])
    if tool == 'estimate_prior.py':
        return argv + ['--num-samples', '2', '--batch-size', '1'] + SIZES
    if tool == 'train.py':
        return argv + SIZES + SCHEDULE
    return argv


@pytest.fixture(scope='module')
def walked(tmp_path_factory):
    """Run the page; return the folder and each command's output."""
    root = str(tmp_path_factory.mktemp('getting_started'))
    for name in ('configs', 'tools'):
        os.symlink(osp.join(REPO, name), osp.join(root, name))
    write_datasets(osp.join(root, 'data'))
    commands = doc_commands(DOC)
    write_zoo_checkpoint(root, commands)
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONPATH=REPO)
    outputs = []
    for command in commands:
        if command.startswith(NOT_RUN):
            continue
        argv = shlex.split(command)
        assert argv[0] == 'python' and argv[1].startswith('tools/'), command
        argv = miniature([sys.executable] + argv[1:])
        proc = subprocess.run(argv, cwd=root, env=env, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, (
            f'{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
        outputs.append((command, proc.stdout + proc.stderr))
    return root, outputs


def test_every_command_of_the_page_is_run_or_named():
    commands = doc_commands(DOC)
    skipped = [c for c in commands if c.startswith(NOT_RUN)]
    assert len(skipped) == len(NOT_RUN)
    tools = [shlex.split(c)[1] for c in commands if c not in skipped]
    assert tools == ['tools/prepare_coco_outliers.py',
                     'tools/estimate_prior.py', 'tools/train.py',
                     'tools/train.py', 'tools/test.py', 'tools/export.py',
                     'tools/export.py']


def test_the_page_walks_from_data_to_submission(walked):
    root, outputs = walked
    work = osp.join(root, 'work_dirs')
    # 3. Both COCO objects are in the bank.
    with open(osp.join(root, 'data', 'coco_outliers', 'bank_info.json')) as f:
        assert json.load(f)
    assert 'bank entries: 2' in outputs[0][1]
    # 4. A prior over the 19 Cityscapes classes, summing to 1.
    with open(osp.join(work, 'priors',
                       'deeplabv3plus_r101-d8_cityscapes-coco.json')) as f:
        prior = json.load(f)['prior']
    assert len(prior) == 19 and abs(sum(prior) - 1) < 1e-6
    # 5. Both runs validated (on their own split) and kept a best checkpoint.
    for run, split in (('balanced_energy_r101', 'LostAndFound'),
                       ('balanced_energy_r101_static', 'Static')):
        assert osp.isfile(osp.join(work, run, f'best_AP_iter_{ITERS}.pth'))
        (config, ) = [p for p in os.listdir(osp.join(work, run))
                      if p.endswith('.py')]
        val = Config.fromfile(osp.join(work, run, config)).val_dataloader
        assert val.dataset.data_root == f'data/fishyscapes/{split}'
        assert val.dataset.type == f'Fishyscapes{split}Dataset'
        assert f'{ITERS}/{ITERS}' in outputs[2 if split == 'LostAndFound'
                                             else 3][1]
    # 6. All six benchmarks in one table, with finite metrics.
    test_log = outputs[4][1]
    for name in ('fs_lost_and_found', 'fs_static', 'road_anomaly',
                 'smiyc_anomaly_track', 'smiyc_obstacle_track',
                 'lost_and_found'):
        found = re.search(rf'{name}/AP: ([0-9.]+)', test_log)
        assert found and 0 <= float(found.group(1)) <= 100, name
    summary = osp.join(work, 'balanced_energy_r101_static', 'figures',
                       'metrics_summary.json')
    assert osp.isfile(summary)
    # 7. One HDF5 file per SMIYC frame (labelled or not), values in [0, 1].
    for track in ('AnomalyTrack-all', 'ObstacleTrack-all'):
        folder = osp.join(work, 'submission', 'anomaly_p', 'balanced_energy',
                          track)
        files = sorted(p for p in os.listdir(folder) if p.endswith('.hdf5'))
        assert files == ['test_0.hdf5', 'test_1.hdf5', 'validation_0.hdf5',
                         'validation_1.hdf5'], files
        with h5py.File(osp.join(folder, files[0]), 'r') as f:
            value = f['value'][()]
        assert value.shape == (H, W) and value.dtype == np.float16
        assert 0 <= value.min() and value.max() <= 1
