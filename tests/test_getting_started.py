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

import h5py
import numpy as np
import pytest
from mmengine.config import Config

from tests.docs_miniature import (H, ITERS, PRIOR_SAMPLES, SCHEDULE, SIZES,
                                  W, ForkingPython, doc_commands,
                                  make_workspace, run_page, shrink,
                                  write_zoo_checkpoint)
from tests.helpers import REPO

# The worker of the released-network tests (make test runs two): the R-101
# runs of the docs modules (about 3.6 GB at their peak) never overlap those
# tests' large models, nor each other.
pytestmark = pytest.mark.xdist_group('wrn38')

DOC = osp.join(REPO, 'docs', 'getting_started.md')
NOT_RUN = (
    'git clone',                # the checkout is this one
    'make venv',                # the environment is this one
    '. .venv/bin/activate',
    'mkdir -p checkpoints && wget',  # written from the zoo config instead
)
EXTRA = {
    'estimate_prior.py': PRIOR_SAMPLES + ['--cfg-options'] + SIZES,
    'train.py': ['--cfg-options'] + SIZES + SCHEDULE,
}


def miniature(command: str) -> str:
    return shrink(command, EXTRA, [('iter_8180', f'iter_{ITERS}')])


@pytest.fixture(scope='module')
def walked(tmp_path_factory):
    """Run the page; return the folder and each command's output."""
    root = str(tmp_path_factory.mktemp('getting_started'))
    make_workspace(root)
    commands = doc_commands(DOC)
    write_zoo_checkpoint(root, commands)
    python = ForkingPython(root)
    outputs = run_page(root, commands, NOT_RUN, miniature, python=python)
    python.close()
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
