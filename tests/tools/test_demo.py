"""tools/demo.py --quick end to end: every stage writes its outputs."""
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

from tests.helpers import REPO


def run_demo(work, *extra):
    proc = subprocess.run(
        [sys.executable, 'tools/demo.py', '--quick', '--work-dir', work,
         *extra],
        cwd=REPO, capture_output=True, text=True, timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='2'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_quick_demo_produces_every_stage(tmp_path):
    work = str(tmp_path / 'demo')
    out = run_demo(work)
    expected = ['data/.complete', 'inlier/iter_4.pth', 'prior.json',
                'diagnostics.json',
                'balanced_energy/iter_2.pth', 'energy/iter_2.pth',
                'report.md', 'roc_pr_synthetic_anomaly_split.png']
    for rel in expected:
        assert osp.isfile(osp.join(work, rel)), rel
    with open(osp.join(work, 'prior.json')) as f:
        prior = json.load(f)
    assert len(prior['prior']) == 8 and prior['num_pixels'] > 0
    assert math.isclose(sum(prior['prior']), 1.0, rel_tol=1e-9)
    evals = sorted(os.listdir(osp.join(work, 'eval')))
    assert evals == ['balanced_energy', 'energy', 'inlier_energy',
                     'inlier_max_logit']
    num_anomaly = len(os.listdir(osp.join(work, 'data', 'anomaly',
                                          'labels')))
    heatmaps = glob.glob(osp.join(work, 'heatmaps', '**', '*.png'),
                         recursive=True)
    assert len(heatmaps) == num_anomaly
    frames = glob.glob(osp.join(work, 'submission', 'anomaly_p', '*', '*',
                                '*.hdf5'))
    assert len(frames) == num_anomaly
    # The terminal table: four rows of three finite numbers, in percent.
    rows = re.findall(r'^(.+?/ (?:max logit|energy))\s+\|\s+([-\d.na]+)\s+'
                      r'\|\s+([-\d.na]+)\s+\|\s+([-\d.na]+)$', out, re.M)
    assert len(rows) == 4
    for _, *values in rows:
        assert all(0.0 <= float(v) <= 100.0 for v in values)
    with open(osp.join(work, 'report.md')) as f:
        report = f.read()
    assert 'roc_pr_synthetic_anomaly_split.png' in report
    assert report.count('![heat map]') == min(3, num_anomaly)
    # The prior diagnostics and the single run set against the seed spread.
    assert 'effective classes (1/sum p^2)' in report
    assert 'test-anomaly pixels as the in-distribution model' in report
    assert 'This run: balanced - vanilla energy AP =' in report
    with open(osp.join(work, 'diagnostics.json')) as f:
        diag = json.load(f)
    assert math.isclose(sum(diag['sharpened']), 1.0, rel_tol=1e-9)
    # 1 / sum p^2 of the sharpened prior, recomputed here
    assert math.isclose(diag['effective_classes_sharpened'],
                        1.0 / sum(p * p for p in diag['sharpened']),
                        rel_tol=1e-9)

    # Each stage's output went to its log, not the terminal, and no log
    # holds a logging error (a handler of an earlier stage writing to its
    # closed log).
    for stage in ('train_inlier', 'estimate_prior', 'eval_balanced_energy',
                  'heat_maps', 'diagnostics'):
        assert osp.getsize(osp.join(work, 'logs', f'{stage}.log')) > 0
    logs = glob.glob(osp.join(work, 'logs', '*.log'))
    assert len(logs) == 10
    for path in logs:
        with open(path) as f:
            text = f.read()
        assert 'Logging error' not in text and 'closed file' not in text, \
            path
    assert 'Iter(train)' not in out
    # The evaluations name the synthetic split as such.
    with open(osp.join(work, 'eval', 'energy', 'metrics_summary.json')) as f:
        assert list(json.load(f)) == ['synthetic anomaly split']

    # A second run reuses every stage: no checkpoint is rewritten.
    ckpt = osp.join(work, 'balanced_energy', 'iter_2.pth')
    before = os.stat(ckpt).st_mtime_ns
    run_demo(work)
    assert os.stat(ckpt).st_mtime_ns == before

    # Everything redone from scratch elsewhere gives the same numbers: the
    # demo is reproducible run to run.
    again = str(tmp_path / 'again')
    run_demo(again, '--force')
    for name in evals:
        paths = [osp.join(w, 'eval', name, 'metrics_summary.json')
                 for w in (work, again)]
        first, second = (json.load(open(p)) for p in paths)
        assert first == second, name
    with open(osp.join(again, 'prior.json')) as f:
        assert json.load(f)['prior'] == prior['prior']


def test_quick_demo_with_segformer(tmp_path):
    import torch
    work = str(tmp_path / 'segformer')
    out = run_demo(work, '--model', 'segformer')
    assert sorted(os.listdir(osp.join(work, 'eval'))) == [
        'balanced_energy', 'energy', 'inlier_energy', 'inlier_max_logit']
    # The stages trained a SegFormer: MiT patch embeddings and the SegFormer
    # head's fusion layer, no ResNet stem, no auxiliary head.
    state = torch.load(osp.join(work, 'balanced_energy', 'iter_2.pth'),
                       map_location='cpu', weights_only=False)['state_dict']
    assert any(k.startswith('backbone.layers.0.0.projection') for k in state)
    assert any(k.startswith('decode_head.fusion_conv') for k in state)
    assert not any(k.startswith(('backbone.stem', 'auxiliary_head'))
                   for k in state)
    with open(osp.join(work, 'report.md')) as f:
        report = f.read()
    assert 'model segformer' in report
    assert 'this run used segformer' in out
