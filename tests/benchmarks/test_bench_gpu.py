"""The prepared GPU measurement runs end to end in its small CPU mode."""
import json
import os.path as osp
import subprocess
import sys

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
    assert [row['amp'] for row in res['loss']] == [False]
    assert res['loss'][0]['ratio'] > 0
    assert set(res['train']['times_ms']) == {'CE only',
                                            'CE + balanced energy'}
    assert res['train']['ratio'] > 0
    # the tensor-fed evaluator equals the numpy path on the same frames
    assert res['eval']['equal'] is True
    assert 0.5 < res['eval']['AUROC'] < 1
    # the released recipe: both batch sizes trained, a frame inferred
    recipe = res['released_recipe']
    assert sorted(recipe) == ['inference', 'train_batch2', 'train_batch4']
    for key in ('train_batch2', 'train_batch4'):
        row = recipe[key]
        assert row['ratio'] == row['train_ms'] / row['forward_ms']
    assert recipe['inference']['hw'] == [64, 128]
