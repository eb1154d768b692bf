"""N processes give exactly the 1-process numbers (gloo, real collect path).

Each process is a real ``torch.distributed`` gloo rank that iterates
mmengine's ``DefaultSampler`` (``round_up=True``, MMSeg's default) over a
dataset of 5 frames and calls ``PixelOODMetric.evaluate``, i.e. mmengine's
``collect_results`` through its shared-folder CPU path. With 2 and 3
processes the sampler pads the dataset to 6 samples, so one frame is seen
twice; the metrics must still equal the 1-process run bit for bit, no
warning must be raised, and no rank may leave anything in its TMPDIR.
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from tests.helpers import REPO

WORKER = r'''
import json, os, sys, warnings
import torch
import torch.distributed as dist

rank, world, port, out = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                          sys.argv[4])
dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                        rank=rank, world_size=world)
import mmseg_be  # noqa: F401
from mmengine.dataset import DefaultSampler
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample


def frame(i):
    g = torch.Generator().manual_seed(100 + i)
    h, w = 40 + 4 * i, 52
    label = torch.zeros(1, h, w, dtype=torch.uint8)
    label[0, 6 + i:16 + i, 10:24 - i] = 1
    label[0, 30:33, 30:34] = 1          # a second, small anomaly
    label[0, :2] = 255
    logits = torch.randn(5, h, w, generator=g) * 2
    logits[:, label[0] == 1] *= 0.3
    s = SegDataSample(metainfo=dict(img_path=f'frame_{i}.png'))
    s.seg_logits = PixelData(data=logits)
    s.gt_sem_seg = PixelData(data=label)
    return s.to_dict()


frames = [frame(i) for i in range(5)]
sampler = DefaultSampler(list(range(5)), shuffle=False, round_up=True)
metric = METRICS.build(dict(
    type='PixelOODMetric', binned=True, component_metrics=True,
    track='obstacle', tprs=(0.9,), pebal_compat=True,
    anomaly_score=dict(name='energy', smooth_kernel=3, smooth_sigma=1.0)))
seen = []
with warnings.catch_warnings():
    warnings.simplefilter('error')    # "no warning needed"
    for i in sampler:
        seen.append(i)
        metric.process({}, [frames[i]])
    result = metric.evaluate(5)
with open(f'{out}.rank{rank}.json', 'w') as f:
    json.dump(dict(metrics=result, seen=seen), f)
dist.destroy_process_group()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_ranks(world: int, tmp_path) -> dict:
    script = tmp_path / 'worker.py'
    script.write_text(WORKER)
    port = str(free_port())
    out = str(tmp_path / f'world{world}')
    procs = []
    tmpdirs = []
    for rank in range(world):
        tmpdir = tmp_path / f'tmp_w{world}_r{rank}'
        tmpdir.mkdir()
        tmpdirs.append(tmpdir)
        env = dict(os.environ, TMPDIR=str(tmpdir), OMP_NUM_THREADS='1',
                   PYTHONPATH=REPO)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), str(rank), str(world), port, out],
            cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    logs = [p.communicate(timeout=300)[0] for p in procs]
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    ranks = [json.loads(open(f'{out}.rank{r}.json').read())
             for r in range(world)]
    for tmpdir in tmpdirs:
        assert os.listdir(tmpdir) == [], f'left in TMPDIR: {tmpdir}'
    return ranks


def test_one_two_three_processes_give_equal_numbers(tmp_path):
    one = run_ranks(1, tmp_path)[0]
    assert one['seen'] == [0, 1, 2, 3, 4]
    metrics = one['metrics']
    for key in ('AUROC', 'AP', 'FPR95', 'FPR90', 'FPR95_pebal', 'best_F1',
                'SMIYC_AUROC', 'SMIYC_AP', 'sIoU', 'PPV', 'mean_F1'):
        assert key in metrics
    for world in (2, 3):
        ranks = run_ranks(world, tmp_path)
        seen = sorted(i for r in ranks for i in r['seen'])
        # the padding this test is about: 6 samples for 5 frames
        assert len(seen) == 6 and seen.count(0) == 2
        # every rank gets the broadcast result, equal to one process
        for r in ranks:
            assert r['metrics'].keys() == metrics.keys()
            for key, value in metrics.items():
                assert r['metrics'][key] == value, (world, key)


def test_padded_repeat_would_change_the_numbers():
    """The property the fix relies on: counting frame 0 twice differs."""
    pytest.importorskip('sklearn')
    import numpy as np
    from sklearn.metrics import average_precision_score
    rng = np.random.default_rng(0)
    y = [(rng.random(500) < 0.1).astype(int) for _ in range(5)]
    s = [rng.random(500) + 0.5 * t for t in y]
    once = average_precision_score(np.concatenate(y), np.concatenate(s))
    twice = average_precision_score(np.concatenate(y + y[:1]),
                                    np.concatenate(s + s[:1]))
    assert once != twice
    assert osp.isdir(REPO)
