"""The demo's stages: the whole method end to end on a CPU, on data
generated here (``tools/demo.py``; the stages are listed in
:mod:`mmseg_be.cli.demo`).

Each stage is skipped when its output exists (``--force`` redoes them) and
runs the project's own tools (``tools/train.py``, ``tools/test.py``,
``tools/estimate_prior.py``) as subprocesses, as a user would.
"""
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from argparse import Namespace

from tqdm import tqdm

from . import report, study
from .scenes import generate_demo_data
from .settings import (BALANCED_CFG, ENERGY_CFG, FULL, GAMMA, INLIER_CFG,
                       M_IN, M_OUT, QUICK, TOOLS)


class Demo:
    """Runs the stages as subprocesses of the project's own tools.

    Args:
        args: ``work_dir``, ``quick``, ``force`` and ``seed``, as parsed by
            :mod:`mmseg_be.cli.demo`.
    """

    def __init__(self, args: Namespace) -> None:
        self.args = args
        self.s = QUICK if args.quick else FULL
        self.work = osp.abspath(args.work_dir)
        self.data = osp.join(self.work, 'data')
        self.timings = {}
        os.makedirs(self.work, exist_ok=True)

    def done(self, path: str) -> bool:
        return osp.exists(path) and not self.args.force

    def run(self, name: str, cmd: list, total: int = 0) -> str:
        """Run a tool, log its output, drive a progress bar from it."""
        log_path = osp.join(self.work, 'logs', f'{name}.log')
        os.makedirs(osp.dirname(log_path), exist_ok=True)
        start = time.time()
        bar = tqdm(total=total or None, desc=f'{name:<18}', unit='it',
                   leave=True, dynamic_ncols=True)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        with open(log_path, 'w') as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    env=env)
            for line in proc.stdout:
                log.write(line)
                m = re.search(r'Iter\((?:train|test)\)\s*\[\s*(\d+)/(\d+)\]',
                              line) or re.search(r'(\d+)/(\d+) \[', line)
                if m:
                    bar.total = int(m.group(2))
                    bar.n = int(m.group(1))
                    bar.refresh()
            code = proc.wait()
        if code == 0 and bar.total:
            bar.n = bar.total
            bar.refresh()
        bar.close()
        self.timings[name] = time.time() - start
        if code != 0:
            with open(log_path) as f:
                tail = f.read()[-3000:]
            sys.exit(f'[demo] stage {name} failed (exit {code}); end of '
                     f'{log_path}:\n{tail}')
        return log_path

    def data_options(self, finetune: bool) -> list:
        opts = [f'train_dataloader.dataset.data_root={self.data}/scenes',
                f'val_dataloader.dataset.data_root={self.data}/anomaly',
                f'test_dataloader.dataset.data_root={self.data}/anomaly',
                f'randomness.seed={self.args.seed}']
        if finetune:
            opts.append('train_dataloader.dataset.pipeline.2.bank_root='
                        f'{self.data}/outlier_bank')
        return opts

    def schedule_options(self, iters: int) -> list:
        return [f'train_cfg.max_iters={iters}',
                f'train_cfg.val_interval={iters}',
                f'param_scheduler.0.end={iters}',
                f'default_hooks.checkpoint.interval={iters}',
                f'default_hooks.logger.interval={max(1, min(25, iters))}']

    def stage_data(self) -> None:
        marker = osp.join(self.data, '.complete')
        if self.done(marker):
            return
        start = time.time()
        print('[demo] generating scenes, outlier bank and anomaly split',
              flush=True)
        if self.args.force and osp.isdir(self.data):
            shutil.rmtree(self.data)
        s = self.s
        generate_demo_data(self.data, s['num_train'], s['num_val'],
                           s['num_anomaly'], s['num_outliers'], s['size'],
                           seed=self.args.seed)
        open(marker, 'w').close()
        self.timings['data'] = time.time() - start

    def train(self, name: str, config: str, iters: int, extra: list) -> str:
        work = osp.join(self.work, name)
        ckpt = osp.join(work, f'iter_{iters}.pth')
        if not self.done(ckpt):
            self.run(f'train {name}', [
                sys.executable, osp.join(TOOLS, 'train.py'), config,
                '--work-dir', work, '--cfg-options'
            ] + extra + self.schedule_options(iters), total=iters)
        return ckpt

    def stage_prior(self, inlier_ckpt: str) -> str:
        out = osp.join(self.work, 'prior.json')
        if not self.done(out):
            self.run('estimate prior', [
                sys.executable, osp.join(TOOLS, 'estimate_prior.py'),
                BALANCED_CFG, inlier_ckpt, '--out', out, '--num-samples',
                str(self.s['prior_samples']), '--batch-size', '4', '--seed',
                str(self.args.seed), '--cfg-options'
            ] + self.data_options(True), total=self.s['prior_samples'])
        return out

    def stage_diagnostics(self, inlier_ckpt: str, prior: str) -> dict:
        """The prior as the loss uses it and how the in-distribution model
        classifies the test anomalies (:mod:`mmseg_be.demo.study`)."""
        out = osp.join(self.work, 'diagnostics.json')
        if not self.done(out):
            from mmseg.apis import init_model

            with open(prior) as f:
                values = json.load(f)['prior']
            diag = study.prior_diagnostics(values, GAMMA, M_IN, M_OUT)
            diag['test_anomaly'] = study.anomaly_class_fractions(
                init_model(INLIER_CFG, inlier_ckpt, device='cpu'),
                osp.join(self.data, 'anomaly', 'original'),
                osp.join(self.data, 'anomaly', 'labels'), len(values))
            with open(out, 'w') as f:
                json.dump(diag, f, indent=1)
        return study.read_diagnostics(out)

    def evaluate(self, name: str, config: str, ckpt: str, score: str,
                 extra: tuple = ()) -> str:
        out = osp.join(self.work, 'eval', name)
        if not self.done(osp.join(out, 'metrics_summary.json')):
            self.run(f'eval {name}', [
                sys.executable, osp.join(TOOLS, 'test.py'), config, ckpt,
                '--work-dir', osp.join(self.work, 'test_runs', name),
                '--figures', out, '--method', name, '--cfg-options',
                f'anomaly_score.name={score}'
            ] + self.data_options(False) + list(extra),
                     total=self.s['num_anomaly'])
        return out

    def heatmaps(self, ckpt: str, prior: str, results_dir: str,
                 heat_dir: str) -> None:
        """Heat maps of the balanced model with its final prediction at the
        95%-TPR threshold of its evaluation, enlarged to a readable size."""
        if self.done(heat_dir):
            return
        self.run('heat maps', [
            sys.executable, osp.join(TOOLS, 'test.py'), BALANCED_CFG, ckpt,
            '--work-dir', osp.join(self.work, 'test_runs', 'heatmaps'),
            '--show-dir', heat_dir, '--cfg-options',
            'anomaly_score.name=energy',
            f'model.decode_head.loss_decode.1.prior={prior}',
            f'visualizer.anomaly_threshold=tpr95:{results_dir}',
            'visualizer.min_height=256', 'visualizer.columns=2',
            'visualizer.colorbar_width=72'
        ] + self.data_options(False), total=self.s['num_anomaly'])

    def main(self) -> None:
        """Run every stage, then print the results and write report.md."""
        s = self.s
        self.stage_data()
        inlier = self.train('inlier', INLIER_CFG, s['inlier_iters'],
                            self.data_options(False))
        prior = self.stage_prior(inlier)
        diagnostics = self.stage_diagnostics(inlier, prior)
        finetune = self.data_options(True) + [f'load_from={inlier}']
        balanced = self.train(
            'balanced_energy', BALANCED_CFG, s['finetune_iters'],
            finetune + [f'model.decode_head.loss_decode.1.prior={prior}'])
        energy = self.train('energy', ENERGY_CFG, s['finetune_iters'],
                            finetune)
        heat_dir = osp.join(self.work, 'heatmaps')
        export_dir = osp.join(self.work, 'submission')
        results_dir = osp.join(self.work, 'results', 'balanced_energy')
        evals = {
            'in-distribution / max logit':
            self.evaluate('inlier_max_logit', INLIER_CFG, inlier,
                          'max_logit'),
            'in-distribution / energy':
            self.evaluate('inlier_energy', INLIER_CFG, inlier, 'energy'),
            'vanilla energy fine-tuned / energy':
            self.evaluate('energy', ENERGY_CFG, energy, 'energy'),
            'balanced energy fine-tuned / energy':
            self.evaluate('balanced_energy', BALANCED_CFG, balanced,
                          'energy', (f'model.decode_head.loss_decode.1.prior='
                                     f'{prior}', '--out', results_dir,
                                     '--submission', export_dir,
                                     '--dataset-name',
                                     'SyntheticAnomaly-demo', '--overwrite')),
        }
        self.heatmaps(balanced, prior, results_dir, heat_dir)
        rows = report.collect(evals)
        figure = report.combined_figure(evals, self.work,
                                        'synthetic anomaly split')
        heatmaps = sorted(
            os.path.join(d, f) for d, _, files in os.walk(heat_dir)
            for f in files if f.endswith('.png'))[:3]
        checks = report.checks(rows, 'balanced energy fine-tuned / energy',
                               'in-distribution / max logit')
        notes = [diagnostics['text'], report.spread_note(
            rows, 'balanced energy fine-tuned / energy',
            'vanilla energy fine-tuned / energy')]
        settings = ('quick (CI sizes: numbers not meaningful)'
                    if self.args.quick else 'full') + (
                        f', {s["num_train"]} training scenes of '
                        f'{s["size"][0]}x{s["size"][1]}, '
                        f'{s["inlier_iters"]} + {s["finetune_iters"]} '
                        f'iterations, {s["num_anomaly"]} anomaly scenes, '
                        f'seed {self.args.seed}')
        path = report.write_report(
            osp.join(self.work, 'report.md'), rows, figure, heatmaps,
            self.timings, checks, export_dir, settings, notes)
        print()
        print(report.terminal_table(rows))
        print()
        for line in checks + [''] + notes:
            print(line)
        print(f'\nreport: {path}')
        print(f'stage times (s): ' + ', '.join(
            f'{k} {v:.0f}' for k, v in self.timings.items()) +
              f'; total {sum(self.timings.values()):.0f}')
