"""The prepared GPU measurement runs end to end in its small CPU mode."""
import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_gpu_bench_small_cpu_mode(tmp_path):
    out = tmp_path / 'gpu.json'
    proc = subprocess.run(
        [sys.executable, '-W', 'ignore',
         osp.join(ROOT, 'benchmarks', 'gpu', 'bench_gpu.py'), '--device',
         'cpu', '--small', '--out', str(out)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    # every part ran and reported its ratio against the same-run baseline
    # (each ratio is the quotient of the two times it reports)
    assert [row['amp'] for row in res['loss']] == [False]
    loss = res['loss'][0]
    assert loss['ratio'] == pytest.approx(loss['bal_ms'] / loss['ce_ms'],
                                          rel=1e-9)
    times = res['train']['times_ms']
    assert set(times) == {'CE only', 'CE + balanced energy'}
    assert res['train']['ratio'] == pytest.approx(
        times['CE + balanced energy'] / times['CE only'], rel=1e-9)
    # the tensor-fed evaluator equals the numpy path on the same frames
    assert res['eval']['equal'] is True
    assert 0.5 < res['eval']['AUROC'] < 1
    # the released recipe: both batch sizes trained, a frame inferred
    recipe = res['released_recipe']
    assert sorted(recipe) == ['inference', 'train_batch2', 'train_batch4']
    for key in ('train_batch2', 'train_batch4'):
        row = recipe[key]
        assert row['ratio'] == pytest.approx(
            row['train_ms'] / row['forward_ms'], rel=1e-9)
    assert recipe['inference']['hw'] == [64, 128]
