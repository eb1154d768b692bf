"""The demo's stages: the whole method end to end on a CPU, on data
generated here (``tools/demo.py``; the stages are listed in
:mod:`demo.cli`).

Each stage is skipped when its output exists and was made with the same
settings (``--force`` redoes them all). The stages call the project's own
tools (``tools/train.py``, ``tools/test.py``, ``tools/estimate_prior.py``)
with the command lines a user would type, in this one process: starting a
Python with torch and MMSeg costs 6-8 s, nine times over, a fifth of the
demo's time on 2 cores.
"""
import contextlib
import importlib
import io
import json
import os
import os.path as osp
import re
import shutil
import sys
import time
from argparse import Namespace
from typing import Dict, List, Mapping, Optional, TextIO

from tqdm import tqdm

from . import report, study
from .scenes import CLASSES, PALETTE, generate_demo_data
from .settings import (COLORS, DEFAULT_MODEL, FULL, GAMMA, LABELS, M_IN,
                       M_OUT, MODELS, QUICK)

#: The settings a work dir's stages were made with.
STAMP = 'demo_settings.json'
#: "[12/250]" of MMEngine's iteration logs and "12/250 [" of tqdm's bars.
PROGRESS = re.compile(r'Iter\((?:train|test|val)\)\s*\[\s*(\d+)/(\d+)\]'
                      r'|(\d+)/(\d+) \[')


class StageOutput(io.TextIOBase):
    """The stdout and stderr of the stages: everything to the current
    stage's log file, and the progress it reports to its progress bar.

    One stream for the whole process, pointed at each stage in turn: a
    logging handler keeps the stream it was made with (MMEngine's logger
    takes ``sys.stdout`` when a tool first builds it), so a stream per stage
    would leave later stages' messages going to an earlier stage's closed
    file ("--- Logging error --- ValueError: I/O operation on closed
    file"). Between stages it writes to the terminal's stderr.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log: Optional[TextIO] = None
        self.bar: Optional[tqdm] = None

    @contextlib.contextmanager
    def to(self, log: TextIO, bar: Optional[tqdm] = None):
        """Send stdout and stderr to ``log`` (and progress to ``bar``) for
        the ``with`` block."""
        previous = self.log, self.bar
        self.log, self.bar = log, bar
        try:
            with contextlib.redirect_stdout(self), \
                    contextlib.redirect_stderr(self):
                yield self
        finally:
            self.flush()
            self.log, self.bar = previous

    def write(self, text: str) -> int:
        (self.log or sys.__stderr__).write(text)
        if self.bar is None:
            return len(text)
        for match in PROGRESS.finditer(text):
            done, total = (int(g) for g in match.groups() if g is not None)
            if 'Iter(val)' not in match.group(0):  # not train's last eval
                self.bar.total = total
                self.bar.n = done
                self.bar.refresh()
        return len(text)

    def flush(self) -> None:
        (self.log or sys.__stderr__).flush()


#: The one stream of every stage of this process (see StageOutput).
STAGE_OUTPUT = StageOutput()


class Demo:
    """Runs the stages, calling the project's tools in this process.

    Args:
        args: ``work_dir``, ``quick``, ``force``, ``seed`` and (optional)
            ``model``, as parsed by :mod:`demo.cli`.
        settings: Sizes and schedules; default ``FULL`` (``QUICK`` with
            ``args.quick``).
    """

    def __init__(self, args: Namespace,
                 settings: Optional[Mapping] = None) -> None:
        self.args = args
        self.s = dict(settings or (QUICK if args.quick else FULL))
        self.model = getattr(args, 'model', None) or DEFAULT_MODEL
        self.inlier_cfg, self.balanced_cfg, self.energy_cfg = MODELS[
            self.model]
        self.work = osp.abspath(args.work_dir)
        self.data = osp.join(self.work, 'data')
        self.timings: Dict[str, float] = {}
        os.makedirs(self.work, exist_ok=True)
        self.force = args.force or not self._same_settings()

    def _settings_record(self) -> dict:
        record = dict(self.s, size=list(self.s['size']), seed=self.args.seed)
        if self.model != DEFAULT_MODEL:  # work dirs of the default unchanged
            record['model'] = self.model
        return record

    def _same_settings(self) -> bool:
        """Whether the work dir's stages were made with this run's settings
        (sizes, iterations, seed, model). Stages of other settings are
        redone rather than mixed into this run; the record changes only when
        a run completes (:meth:`record_settings`), so an interrupted redo is
        redone again, never half reused."""
        path = osp.join(self.work, STAMP)
        if not osp.isfile(path):
            self.record_settings()
            return True
        with open(path) as f:
            same = json.load(f) == self._settings_record()
        if not same:
            print(f'[demo] {self.work} holds stages made with other '
                  'settings; redoing every stage', flush=True)
        return same

    def record_settings(self) -> None:
        """Record this run's settings as those of the work dir's stages."""
        with open(osp.join(self.work, STAMP), 'w') as f:
            json.dump(self._settings_record(), f, indent=1)

    def done(self, path: str) -> bool:
        return osp.exists(path) and not self.force

    def run(self, name: str, cmd: list) -> None:
        """Run one tool (``cmd[0]``, e.g. ``'train.py'``: the ``main`` of
        ``mmseg_be.cli.train``) on the command line ``cmd[1:]``, its output into ``logs/<stage>.log`` and a progress bar
        on the terminal, and time it.

        Raises:
            SystemExit: The tool exited with a non-zero status; the message
                names the stage and its log.
        """
        start = time.time()
        argv = list(cmd[1:])
        if '--cfg-options' in argv:
            # MMEngine keeps one visualizer per name per process: a fresh
            # name per run, or every run's pictures and scalars go to the
            # first run's folder.
            argv.insert(argv.index('--cfg-options') + 1,
                        f'visualizer.name=demo_{time.time_ns()}')
        log_path = osp.join(self.work, 'logs',
                            name.replace(' ', '_') + '.log')
        os.makedirs(osp.dirname(log_path), exist_ok=True)
        bar = tqdm(desc=f'{name:<24}', unit='it', file=sys.stderr,
                   dynamic_ncols=True)
        failure = None
        with open(log_path, 'w') as log, STAGE_OUTPUT.to(log, bar):
            try:
                tool = importlib.import_module(
                    'mmseg_be.cli.' + cmd[0][:-len('.py')])
                tool.main(argv)
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    failure = exc.code
        bar.close()
        self.timings[name] = time.time() - start
        if failure is not None:
            with open(log_path) as f:
                tail = f.read()[-3000:]
            sys.exit(f'[demo] stage {name} failed ({failure}); end of '
                     f'{log_path}:\n{tail}')

    def data_options(self, finetune: bool) -> list:
        opts = [f'train_dataloader.dataset.data_root={self.data}/scenes',
                f'val_dataloader.dataset.data_root={self.data}/anomaly',
                f'test_dataloader.dataset.data_root={self.data}/anomaly',
                f'randomness.seed={self.args.seed}',
                'model.data_preprocessor.size=({},{})'.format(
                    *self.s['size'])]
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
        if osp.isdir(self.data):
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
                'train.py', config, '--work-dir', work, '--cfg-options'
            ] + extra + self.schedule_options(iters))
        return ckpt

    def stage_prior(self, inlier_ckpt: str) -> str:
        out = osp.join(self.work, 'prior.json')
        if not self.done(out):
            self.run('estimate prior', [
                'estimate_prior.py', self.balanced_cfg, inlier_ckpt, '--out',
                out, '--num-samples', str(self.s['prior_samples']),
                '--batch-size', '4', '--seed',
                str(self.args.seed), '--cfg-options'
            ] + self.data_options(True))
        return out

    def stage_diagnostics(self, inlier_ckpt: str, prior: str) -> dict:
        """The prior as the loss uses it and how the in-distribution model
        classifies the test anomalies (:mod:`demo.study`)."""
        out = osp.join(self.work, 'diagnostics.json')
        if not self.done(out):
            from mmseg_be.apis import AnomalyInferencer

            with open(prior) as f:
                values = json.load(f)['prior']
            diag = study.prior_diagnostics(values, GAMMA, M_IN, M_OUT)
            log_path = osp.join(self.work, 'logs', 'diagnostics.log')
            os.makedirs(osp.dirname(log_path), exist_ok=True)
            with open(log_path, 'w') as log, STAGE_OUTPUT.to(log):
                diag['test_anomaly'] = study.anomaly_class_fractions(
                    AnomalyInferencer(self.inlier_cfg, inlier_ckpt,
                                      device='cpu'),
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
                'test.py', config, ckpt,
                '--work-dir', osp.join(self.work, 'test_runs', name),
                '--figures', out, '--method', name, '--cfg-options',
                f'anomaly_score.name={score}'
            ] + self.data_options(False) + list(extra))
        return out

    def heatmaps(self, ckpt: str, prior: str, results_dir: str,
                 heat_dir: str) -> None:
        """Heat maps of the balanced model with its final prediction at the
        95%-TPR threshold of its evaluation in the scene classes' colours
        (with their legend), enlarged to a readable size."""
        if self.done(heat_dir):
            return
        self.run('heat maps', [
            'test.py', self.balanced_cfg, ckpt,
            '--work-dir', osp.join(self.work, 'test_runs', 'heatmaps'),
            '--show-dir', heat_dir, '--cfg-options',
            'anomaly_score.name=energy',
            f'model.decode_head.loss_decode.1.prior={prior}',
            f'visualizer.anomaly_threshold=tpr95:{results_dir}',
            'visualizer.min_height=256', 'visualizer.columns=2',
            'visualizer.colorbar_width=72',
            f'visualizer.seg_classes=[{",".join(CLASSES)}]',
            'visualizer.seg_palette=' + str(PALETTE).replace(' ', '')
        ] + self.data_options(False))

    def main(self) -> None:
        """Run every stage, then print the results and write report.md."""
        s = self.s
        self.stage_data()
        inlier = self.train('inlier', self.inlier_cfg, s['inlier_iters'],
                            self.data_options(False))
        prior = self.stage_prior(inlier)
        diagnostics = self.stage_diagnostics(inlier, prior)
        finetune = self.data_options(True) + [f'load_from={inlier}']
        balanced = self.train(
            'balanced_energy', self.balanced_cfg, s['finetune_iters'],
            finetune + [f'model.decode_head.loss_decode.1.prior={prior}'])
        energy = self.train('energy', self.energy_cfg, s['finetune_iters'],
                            finetune)
        heat_dir = osp.join(self.work, 'heatmaps')
        export_dir = osp.join(self.work, 'submission')
        results_dir = osp.join(self.work, 'results', 'balanced_energy')
        evals = {
            LABELS['inlier_max_logit']:
            self.evaluate('inlier_max_logit', self.inlier_cfg, inlier,
                          'max_logit'),
            LABELS['inlier']:
            self.evaluate('inlier_energy', self.inlier_cfg, inlier, 'energy'),
            LABELS['energy']:
            self.evaluate('energy', self.energy_cfg, energy, 'energy'),
            LABELS['balanced_energy']:
            self.evaluate('balanced_energy', self.balanced_cfg, balanced,
                          'energy', (f'model.decode_head.loss_decode.1.prior='
                                     f'{prior}', '--out', results_dir,
                                     '--submission', export_dir,
                                     '--dataset-name',
                                     'SyntheticAnomaly-demo', '--overwrite')),
        }
        self.heatmaps(balanced, prior, results_dir, heat_dir)
        rows = report.collect(evals)
        figure = report.combined_figure(
            evals, self.work, 'synthetic anomaly split',
            {LABELS[k]: c for k, c in COLORS.items() if k in LABELS})
        heatmaps = sorted(
            os.path.join(d, f) for d, _, files in os.walk(heat_dir)
            for f in files if f.endswith('.png'))[:3]
        checks = report.checks(
            rows, [LABELS['balanced_energy'], LABELS['energy']],
            LABELS['inlier_max_logit'])
        notes = [diagnostics['text'], report.spread_note(
            rows, LABELS['balanced_energy'], LABELS['energy'],
            s['finetune_iters'])]
        if self.model != DEFAULT_MODEL:
            notes.append(f'The seed study used the default model '
                         f'({DEFAULT_MODEL}); this run used {self.model}, so '
                         'its spread is a reference, not a measurement of '
                         'this model.')
        settings = ('quick (CI sizes: numbers not meaningful)'
                    if self.args.quick else 'full') + (
                        f', {s["num_train"]} training scenes of '
                        f'{s["size"][0]}x{s["size"][1]}, '
                        f'{s["inlier_iters"]} + {s["finetune_iters"]} '
                        f'iterations, {s["num_anomaly"]} anomaly scenes, '
                        f'seed {self.args.seed}, model {self.model}')
        path = report.write_report(
            osp.join(self.work, 'report.md'), rows, figure, heatmaps,
            self.timings, checks, export_dir, settings, notes)
        self.record_settings()
        print()
        print(report.terminal_table(rows))
        print()
        for line in checks + [''] + notes:
            print(line)
        print(f'\nreport: {path}')
        print('stage times (s): ' + ', '.join(
            f'{k} {v:.0f}' for k, v in self.timings.items()) +
              f'; total {sum(self.timings.values()):.0f}')
