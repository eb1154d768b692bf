"""tools/train.py, --resume, tools/test.py and tools/dist_train.sh end to end.

These run the real command-line tools in subprocesses on the generated toy
dataset with the CPU-sized DeepLabV3+ R-18 config.
"""
import glob
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO, TOY_CONFIG, write_toy_seg_dataset


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def data_options(data_root: str, iters: int) -> list:
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1', **kwargs.pop('env', {}))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=600, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def toy_data(tmp_path_factory):
    return write_toy_seg_dataset(str(tmp_path_factory.mktemp('toy')),
                                 num_images=4)


def test_train_resume_test_roundtrip(toy_data, tmp_path):
    work = str(tmp_path / 'work')
    run([sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir', work] +
        data_options(toy_data, 2))
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    first = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                       weights_only=False)
    assert first['meta']['iter'] == 2

    proc = run([sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir',
                work, '--resume'] + data_options(toy_data, 4))
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    # Training went on from iteration 3, not from scratch.
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    assert osp.isfile(osp.join(work, 'iter_4.pth'))

    show = str(tmp_path / 'show')
    proc = run([sys.executable, 'tools/test.py', TOY_CONFIG,
                osp.join(work, 'iter_4.pth'), '--work-dir',
                str(tmp_path / 'test'), '--show-dir', show] +
               data_options(toy_data, 4))
    log = proc.stdout + proc.stderr
    match = re.search(r'Iter\(test\) \[4/4\].*mIoU: ([0-9.]+)', log)
    assert match and 0.0 <= float(match.group(1)) <= 100.0
    # One painted prediction per test image, not every 50th.
    painted = glob.glob(osp.join(tmp_path, 'test', '*', show.lstrip('/'),
                                 '**', '*.png'), recursive=True) or glob.glob(
                                     osp.join(show, '**', '*.png'),
                                     recursive=True)
    assert len(painted) == 4


def test_dist_train_two_cpu_processes(toy_data, tmp_path):
    work = str(tmp_path / 'dist')
    proc = run(['bash', 'tools/dist_train.sh', TOY_CONFIG, '2', '--work-dir',
                work] + data_options(toy_data, 2),
               env=dict(PYTHON=sys.executable, PORT=str(free_port())))
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    assert log.count('Iter(train) [2/2]') >= 1
    assert osp.isfile(osp.join(work, 'iter_2.pth'))


def test_tools_have_help():
    for tool in ('train.py', 'test.py'):
        proc = run([sys.executable, osp.join('tools', tool), '--help'])
        for flag in ('--work-dir', '--cfg-options', '--launcher'):
            assert flag in proc.stdout
    assert '--resume' in run([sys.executable, 'tools/train.py', '--help'
                              ]).stdout
    out = run([sys.executable, 'tools/test.py', '--help']).stdout
    assert '--out' in out and '--show-dir' in out
