"""The seed study's statistics against hand-computed values, and the study
command end to end in its tiny mode."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from demo import study
from tests.helpers import REPO


def test_mean_sd_hand_computed():
    out = study.mean_sd([1, 2, 3, 4])
    assert out['mean'] == 2.5 and out['n'] == 4
    assert out['sd'] == pytest.approx(math.sqrt(5 / 3))  # ddof 1
    assert math.isnan(study.mean_sd([7.0])['sd'])


def test_paired_difference_t_interval_hand_computed():
    # d = (2, 3, 4): mean 3, sd 1; t(0.975, 2 df) = 4.302653 (table)
    out = study.paired_difference([3, 5, 7], [1, 2, 3])
    assert out['mean'] == pytest.approx(3.0)
    assert out['sd'] == pytest.approx(1.0)
    half = 4.302653 / math.sqrt(3)
    assert out['low'] == pytest.approx(3 - half, abs=1e-5)
    assert out['high'] == pytest.approx(3 + half, abs=1e-5)
    assert out['wins'] == 3 and out['n'] == 3
    with pytest.raises(ValueError):
        study.paired_difference([1, 2], [1])


def test_summarize_pairs_by_seeds():
    def rec(d, s, m, ap):
        return dict(data_seed=d, ft_seed=s, method=m,
                    final=dict(AUROC=90.0, AP=ap, FPR95=10.0), curve=[
                        dict(step=10, AP=ap - 1), dict(step=20, AP=ap)])

    records = [rec(0, 0, 'energy', 10), rec(0, 0, 'balanced', 12),
               rec(1, 0, 'energy', 20), rec(1, 0, 'balanced', 19),
               rec(1, 1, 'balanced', 50)]  # no partner: not paired
    out = study.summarize(records, ['energy', 'balanced'], 'energy',
                          ['balanced'])
    d = out['differences']['balanced']
    assert d['n'] == 2 and d['mean'] == pytest.approx(0.5)  # (2 - 1) / 2
    assert d['sd'] == pytest.approx(math.sqrt(4.5))
    assert out['methods']['balanced']['AP']['n'] == 3
    curve = study.convergence(records, 'energy')
    assert curve[10]['mean'] == pytest.approx(14.0)
    assert curve[20]['mean'] == pytest.approx(15.0)
    table = study.markdown_summary(out, {'energy': 'vanilla'})
    assert '| balanced - vanilla | 2 | +0.50 |' in table


def test_differences_at_a_curve_step_pair_the_same_runs():
    def rec(d, m, at10, final):
        return dict(data_seed=d, ft_seed=0, method=m,
                    final=dict(AUROC=90.0, AP=final, FPR95=10.0),
                    curve=[dict(step=10, AP=at10), dict(step=20, AP=final)])

    records = [rec(0, 'energy', 1.0, 10.0), rec(0, 'balanced', 4.0, 9.0),
               rec(1, 'energy', 2.0, 20.0), rec(1, 'balanced', 3.0, 25.0),
               # a run without the step-10 point is left out of that pair
               dict(data_seed=2, ft_seed=0, method='balanced', curve=[],
                    final=dict(AUROC=0.0, AP=0.0, FPR95=0.0))]
    out = study.summarize(records, ['energy', 'balanced'], 'energy',
                          ['balanced'])
    at10 = out['differences_by_step']['balanced']['10']
    # differences at step 10: 4 - 1 = 3 and 3 - 2 = 1 -> mean 2, sd sqrt(2)
    assert at10['n'] == 2 and at10['mean'] == pytest.approx(2.0)
    assert at10['sd'] == pytest.approx(math.sqrt(2.0))
    at20 = out['differences_by_step']['balanced']['20']
    assert at20['mean'] == pytest.approx((-1.0 + 5.0) / 2)
    assert out['differences']['balanced']['mean'] == pytest.approx(2.0)


def test_spread_note_compares_at_the_run_length(tmp_path):
    from demo.report import spread_note
    summary = dict(finetune_iters=300, differences=dict(balanced_energy=dict(
        mean=-0.78, sd=3.29, n=6, low=-4.23, high=2.67)),
        differences_by_step=dict(balanced_energy={'100': dict(
            mean=-0.13, sd=0.49, n=6, low=-0.64, high=0.38)}))
    path = str(tmp_path / 'study.json')
    with open(path, 'w') as f:
        json.dump(summary, f)
    rows = {'b': dict(AP=5.0), 'v': dict(AP=6.5)}
    note = spread_note(rows, 'b', 'v', 100, path)
    assert 'AP = -1.50 points after 100 fine-tuning iterations' in note
    assert 'at fine-tuning iteration 100 of its 300-iteration runs' in note
    assert '-0.13 +- 0.49' in note
    # |-1.50 - (-0.13)| = 1.37 > 2 x 0.49: outside two sd
    assert 'more than two sd' in note
    note = spread_note(rows, 'b', 'v', 250, path)  # no such point
    assert 'at the end of its 300-iteration runs' in note
    assert '-0.78 +- 3.29' in note and 'within two sd' in note


def test_prior_diagnostics_words():
    diag = study.prior_diagnostics([0.5, 0.3, 0.2, 0, 0, 0, 0, 0], 3.0,
                                   -7.0, -3.0, 0.25)
    assert diag['alpha'] == pytest.approx(1.28)
    assert diag['max_shift'] == pytest.approx(1.0)  # 0.25 x gap 4
    assert diag['effective_classes'] == pytest.approx(1 / 0.38)
    assert 'road 50%' in study.describe(diag)


def test_tiny_study_runs_and_resumes(tmp_path):
    work = str(tmp_path / 'study')
    cmd = [sys.executable, 'tools/demo_study.py', '--tiny', '--work-dir',
           work, '--data-seeds', '0', '--ft-seeds', '0']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = study.read_records(osp.join(work, 'results.jsonl'))
    assert sorted(r['method'] for r in records) == [
        'balanced_energy', 'energy', 'inlier', 'uniform_prior']
    for r in records:
        assert 0 <= r['final']['AP'] <= 100
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['differences']['balanced_energy']['n'] == 1
    assert osp.isfile(osp.join(work, 'study.png'))
    with open(osp.join(work, 'data_seed_0', 'diagnostics.json')) as f:
        diag = json.load(f)
    assert sum(diag['test_anomaly']['fractions']) == pytest.approx(1.0)
    # Re-running finds every run recorded and adds none.
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0
    assert len(study.read_records(osp.join(work, 'results.jsonl'))) == 4


def test_anomaly_class_fractions_count_mmseg_segmentation(tmp_path):
    import glob

    import cv2
    from mmseg.apis import inference_model, init_model

    from mmseg_be.apis import AnomalyInferencer
    from tests.helpers import write_toy_ood_checkpoint
    toy = write_toy_ood_checkpoint(str(tmp_path))
    # Oracle: MMSeg's own inference, argmax of its logits, counted by hand
    # over the anomaly pixels (label 1).
    model = init_model(toy['config'], toy['checkpoint'], device='cpu')
    counts = np.zeros(4, dtype=np.int64)
    for path in sorted(glob.glob(osp.join(toy['images'], '*.png'))):
        label = cv2.imread(osp.join(toy['labels'], osp.basename(path)),
                           cv2.IMREAD_UNCHANGED)
        pred = inference_model(model, path).seg_logits.data.argmax(0)
        for c in range(4):
            counts[c] += int(((pred.numpy() == c) & (label == 1)).sum())
    assert counts.sum() > 0
    out = study.anomaly_class_fractions(
        AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu'),
        toy['images'], toy['labels'], 4)
    assert out['num_pixels'] == counts.sum()
    assert out['fractions'] == pytest.approx((counts / counts.sum()).tolist())


def test_the_demo_finds_the_seed_study_of_the_checkout():
    from demo.report import STUDY_JSON
    assert osp.samefile(STUDY_JSON, osp.join(REPO, 'docs', 'demo_study.json'))


def test_report_checks_the_targets_of_each_finetuned_model():
    from demo.report import checks
    rows = {'base': dict(AUROC=70.0, AP=20.0, FPR95=80.0),
            'good': dict(AUROC=95.0, AP=40.0, FPR95=30.0),  # on the targets
            'short': dict(AUROC=94.99, AP=60.0, FPR95=30.0)}
    lines = checks(rows, ['good', 'short'], 'base')
    assert lines[0] == 'PASS: every metric is finite'
    assert lines[1].startswith('PASS: good: AUROC 95.00%')
    assert lines[2] == 'PASS: good: AP 40.00% > in-distribution max-logit ' \
        'AP 20.00%'
    assert lines[3].startswith('FAIL: short: AUROC 94.99%')
    assert lines[4].startswith('PASS: short: AP 60.00%')
    rows['good']['AP'] = float('nan')
    assert checks(rows, ['good'], 'base')[0].startswith('FAIL')
