"""The demo over several seeds (``tools/demo_study.py``; the question and
the plan are in :mod:`demo.study_cli`): the runs, their records and
the summary.

Everything runs in one process (the project's train and prior tools called
as functions: no start-up per run). Several workers may share one work dir:
each run is claimed first, so none is done twice. Each finished run is
appended to results.jsonl at once (a partial study is usable; re-running
skips what is there); summary.md and study.png are rewritten after every run.
"""
import json
import os
import os.path as osp
import shutil
import time
from argparse import Namespace
from typing import Mapping

from . import study
from .settings import (BALANCED_CFG, COLORS, ENERGY_CFG, GAMMA, INLIER_CFG,
                       M_IN, M_OUT, QUICK, STUDY)
from .stages import Demo


METHODS = ('inlier', 'energy', 'balanced_energy', 'uniform_prior')
LABELS = {'inlier': 'in-distribution / energy',
          'energy': 'vanilla energy',
          'balanced_energy': 'balanced energy',
          'uniform_prior': 'uniform-prior control'}
BASELINE = 'energy'
CONTRASTS = ('balanced_energy', 'uniform_prior')


class StudyDemo(Demo):
    """The demo's stages as the study runs them: its sizes, and fine-tunes
    validated every ``val_interval`` iterations (the convergence curve).

    Args:
        args: As for :class:`~demo.stages.Demo`.
        settings: The study's sizes and in-distribution schedule.
        val_interval: Fine-tuning iterations between evaluations.
    """

    def __init__(self, args: Namespace, settings: Mapping,
                 val_interval: int) -> None:
        super().__init__(args, settings)
        self.val_interval = val_interval

    def schedule_options(self, iters: int) -> list:
        # Fine-tuning validates every val_interval iterations (the
        # convergence curve); the in-distribution model once, at its end.
        if iters == self.s['inlier_iters']:
            return super().schedule_options(iters)
        return super().schedule_options(iters) + [
            f'train_cfg.val_interval={min(self.val_interval, iters)}']


class Study:
    """The seed study: every (data seed, fine-tuning seed, method) run.

    Args:
        args: The options of :mod:`demo.study_cli`.
    """

    def __init__(self, args: Namespace) -> None:
        self.args = args
        self.work = osp.abspath(args.work_dir)
        os.makedirs(self.work, exist_ok=True)
        self.results = osp.join(self.work, 'results.jsonl')
        self.sizes = dict(QUICK if args.tiny else dict(
            STUDY, inlier_iters=args.inlier_iters))
        self.iters = 2 if args.tiny else args.finetune_iters
        self.val_interval = 1 if args.tiny else args.val_interval

    def demo(self, data_seed: int) -> Demo:
        return StudyDemo(
            Namespace(work_dir=osp.join(self.work, f'data_seed_{data_seed}'),
                      quick=self.args.tiny, force=False, seed=data_seed),
            self.sizes, self.val_interval)

    def have(self, data_seed: int, ft_seed, method: str) -> bool:
        """Whether the run is recorded (fine-tunes: with this many
        iterations; records of another length are not mixed in)."""
        iters = self.sizes['inlier_iters'] if ft_seed is None else self.iters
        return any(r['data_seed'] == data_seed and r['ft_seed'] == ft_seed
                   and r['method'] == method and r['iters'] == iters
                   for r in study.read_records(self.results))

    def claim(self, key: str) -> bool:
        """Take ``key`` for this process (several workers may share a work
        dir): False when a live process holds it. A holder that died leaves
        its claim to be taken again."""
        folder = osp.join(self.work, 'claims')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, key)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    with open(path) as f:
                        pid = int(f.read() or 0)
                    os.kill(pid, 0)
                    return pid == os.getpid()
                except (ValueError, ProcessLookupError):
                    os.remove(path)  # its holder died
                    continue
            with os.fdopen(fd, 'w') as f:
                f.write(str(os.getpid()))
            return True
        return False

    def record(self, **kwargs) -> None:
        study.append_record(self.results, kwargs)
        self.write_summary()

    def diagnostics(self, demo: Demo, inlier_ckpt: str, prior: str) -> dict:
        path = osp.join(demo.work, 'diagnostics.json')
        if osp.isfile(path):
            with open(path) as f:
                return json.load(f)
        from mmseg_be.apis import AnomalyInferencer

        with open(prior) as f:
            values = json.load(f)['prior']
        out = study.prior_diagnostics(values, GAMMA, M_IN, M_OUT)
        out['test_anomaly'] = study.anomaly_class_fractions(
            AnomalyInferencer(INLIER_CFG, inlier_ckpt, device='cpu'),
            osp.join(demo.data, 'anomaly', 'original'),
            osp.join(demo.data, 'anomaly', 'labels'), len(values))
        with open(path, 'w') as f:
            json.dump(out, f, indent=1)
        return out

    def finetune(self, demo: Demo, data_seed: int, ft_seed: int, method: str,
                 inlier: str, prior: str) -> None:
        if self.have(data_seed, ft_seed, method) or not self.claim(
                f'{data_seed}_{ft_seed}_{method}_{self.iters}'):
            return
        config = ENERGY_CFG if method == 'energy' else BALANCED_CFG
        extra = demo.data_options(True) + [f'load_from={inlier}']
        if method == 'balanced_energy':
            extra.append(f'model.decode_head.loss_decode.1.prior={prior}')
        elif method == 'uniform_prior':
            extra.append('model.decode_head.loss_decode.1.prior=None')
        name = f'ft{ft_seed}_{method}'
        start = time.time()
        shutil.rmtree(osp.join(demo.work, name), ignore_errors=True)
        ckpt = demo.train(name, config, self.iters, extra + [
            f'randomness.seed={ft_seed}',
            'default_hooks.checkpoint.save_best=None'])
        curve = study.read_val_scalars(osp.join(demo.work, name))
        os.remove(ckpt)  # only the metrics are kept (disk)
        self.record(data_seed=data_seed, ft_seed=ft_seed, method=method,
                    iters=self.iters, curve=curve, final=curve[-1],
                    seconds=time.time() - start)

    def inlier_and_prior(self, demo: Demo, d: int) -> tuple:
        """Data, in-distribution model, prior and diagnostics of seed d
        (another worker holding them: wait for its diagnostics)."""
        done = osp.join(demo.work, 'diagnostics.json')
        while not osp.isfile(done) and not self.claim(f'setup_{d}'):
            time.sleep(10)
        demo.stage_data()
        ckpt = demo.train('inlier', INLIER_CFG, self.sizes['inlier_iters'],
                          demo.data_options(False) +
                          ['anomaly_score.name=energy'])
        if not self.have(d, None, 'inlier'):
            curve = study.read_val_scalars(osp.join(demo.work, 'inlier'))
            self.record(data_seed=d, ft_seed=None, method='inlier',
                        iters=self.sizes['inlier_iters'], curve=[],
                        final=curve[-1],
                        seconds=demo.timings.get('train inlier', 0.0))
        prior = demo.stage_prior(ckpt)
        diag = self.diagnostics(demo, ckpt, prior)
        print(f'[study] data seed {d}: ' + study.describe(diag), flush=True)
        return ckpt, prior

    def run(self) -> None:
        t0 = time.time()
        # Fine-tuning seeds outer: a partial study covers every data seed.
        plan = [(s, d, m) for s in self.args.ft_seeds
                for d in self.args.data_seeds for m in self.args.methods]
        if self.args.order == 'reverse':
            plan = plan[::-1]
        for s, d, m in plan:
            demo = self.demo(d)
            ckpt, prior = self.inlier_and_prior(demo, d)
            self.finetune(demo, d, s, m, ckpt, prior)
        self.write_summary()
        print(f'[study] done in {time.time() - t0:.0f} s; '
              f'{osp.join(self.work, "summary.md")}')

    def write_summary(self) -> None:
        records = study.read_records(self.results)
        if not records:
            return
        summary = study.summarize(records, METHODS, BASELINE, CONTRASTS)
        table = study.markdown_summary(summary, LABELS)
        lines = ['# Demo seed study', '', table, '',
                 '## AP during fine-tuning (mean +- sd over runs)', '']
        for m in METHODS[1:]:
            curve = study.convergence(records, m)
            if curve:
                lines.append(f'- {LABELS[m]}: ' + ', '.join(
                    f'{s}: {c["mean"]:.1f} +- {c["sd"]:.1f}'
                    for s, c in curve.items()))
        lines += ['', '## Prior and test anomalies, per data seed', '']
        for d in sorted({r['data_seed'] for r in records}):
            path = osp.join(self.work, f'data_seed_{d}', 'diagnostics.json')
            if osp.isfile(path):
                with open(path) as f:
                    lines.append(f'- data seed {d}: ' +
                                 study.describe(json.load(f)))
        seconds = sum(r['seconds'] for r in records)
        lines += ['', f'Runs: {len(records)}; training time recorded '
                  f'{seconds / 60:.1f} min.', '', '![study](study.png)', '']
        with open(osp.join(self.work, 'summary.md'), 'w') as f:
            f.write('\n'.join(lines))
        with open(osp.join(self.work, 'summary.json'), 'w') as f:
            json.dump(dict(summary, runs=len(records),
                           finetune_iters=self.iters,
                           data_seeds=sorted({r['data_seed']
                                              for r in records}),
                           ft_seeds=sorted({r['ft_seed'] for r in records
                                            if r['ft_seed'] is not None})),
                      f, indent=1)
        study.study_figure(records, METHODS, LABELS, BASELINE, CONTRASTS,
                           osp.join(self.work, 'study.png'), COLORS)
        print(table, flush=True)
