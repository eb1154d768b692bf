"""The demo over several seeds: is balanced energy better than vanilla energy
on the demo's synthetic setting, beyond the seed spread?

For every data seed: generate the data, train the in-distribution model
(evaluated with the energy score), estimate the outlier prior, print its
diagnostics (sharpened prior, effective number of classes, scaled alpha) and
how the in-distribution model classifies the test anomalies. Then, for every
fine-tuning seed, fine-tune with vanilla energy, balanced energy (estimated
prior, alpha='scaled') and the uniform-prior control (the balanced loss with
prior=None: class-independent margin and weights, the same largest shift),
validating every --val-interval iterations to see where AP stops moving.

Everything runs in this one process (the project's train and prior tools
called as functions: no start-up per run). The study's scenes are 64x128
(the default demo's are 128x256) so that 3 data seeds x 2 fine-tuning seeds
x 3 methods fit in about an hour on 2 heavily shared CPU cores.

Several workers may share one work dir (``--order reverse`` for a second
one): each run is claimed first, so none is done twice.

Each finished run is appended to results.jsonl at once (a partial study is
usable; re-running skips what is there); summary.md and study.png are
rewritten after every run: mean +- sd per method and the paired difference
balanced - vanilla with a 95% t-interval.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from demo import (BALANCED_CFG, ENERGY_CFG, INLIER_CFG, QUICK,  # noqa
                  Demo)

from mmseg_be.apis import demo_study as study  # noqa: E402

METHODS = ('inlier', 'energy', 'balanced_energy', 'uniform_prior')
LABELS = {'inlier': 'in-distribution / energy',
          'energy': 'vanilla energy',
          'balanced_energy': 'balanced energy',
          'uniform_prior': 'uniform-prior control'}
BASELINE = 'energy'
CONTRASTS = ('balanced_energy', 'uniform_prior')
# The demo configs' margins (the alpha rule uses them for the diagnostics).
M_IN, M_OUT, GAMMA = -7.0, -3.0, 3.0
STUDY = dict(num_train=160, num_val=10, num_anomaly=30, num_outliers=100,
             size=(64, 128), inlier_iters=250, prior_samples=100)


class InProcessDemo(Demo):
    """The demo's stages, with its tools called in this process."""

    def run(self, name: str, cmd: list, total: int = 0) -> str:
        import estimate_prior

        from mmseg_be.cli import train
        start = time.time()
        tool = {'train.py': train.main, 'estimate_prior.py':
                estimate_prior.main}[osp.basename(cmd[1])]
        print(f'[study] {name}', flush=True)
        args = cmd[2:]
        if tool is train.main:
            # MMEngine keeps one visualizer per name per process: a fresh
            # name per run, or every run's scalars go to the first run's dir.
            args = args + [f'visualizer.name=study_{time.time_ns()}']
        tool(args)
        self.timings[name] = time.time() - start
        return ''

    def schedule_options(self, iters: int) -> list:
        # Fine-tuning validates every val_interval iterations (the
        # convergence curve); the in-distribution model once, at its end.
        if iters == self.s['inlier_iters']:
            return super().schedule_options(iters)
        return super().schedule_options(iters) + [
            f'train_cfg.val_interval={min(self.val_interval, iters)}']

    def data_options(self, finetune: bool) -> list:
        h, w = self.s['size']
        return super().data_options(finetune) + [
            f'model.data_preprocessor.size=({h},{w})']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo_study')
    parser.add_argument('--data-seeds', type=int, nargs='+',
                        default=[0, 1, 2])
    parser.add_argument('--ft-seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--inlier-iters', type=int, default=250)
    parser.add_argument('--finetune-iters', type=int, default=300)
    parser.add_argument('--val-interval', type=int, default=100,
                        help='fine-tuning iterations between evaluations '
                        '(the convergence curve)')
    parser.add_argument('--order', choices=['forward', 'reverse'],
                        default='forward', help='a second worker on the '
                        'same work dir takes the runs from the other end')
    parser.add_argument('--tiny', action='store_true',
                        help='the demo\'s --quick sizes and 2 fine-tuning '
                        'iterations (tests); numbers meaningless')
    return parser.parse_args(argv)


class Study:

    def __init__(self, args):
        self.args = args
        self.work = osp.abspath(args.work_dir)
        os.makedirs(self.work, exist_ok=True)
        self.results = osp.join(self.work, 'results.jsonl')
        self.sizes = dict(QUICK if args.tiny else dict(
            STUDY, inlier_iters=args.inlier_iters))
        self.iters = 2 if args.tiny else args.finetune_iters
        self.val_interval = 1 if args.tiny else args.val_interval

    def demo(self, data_seed: int) -> Demo:
        demo = InProcessDemo(SimpleNamespace(
            work_dir=osp.join(self.work, f'data_seed_{data_seed}'),
            quick=self.args.tiny, force=False, seed=data_seed))
        demo.s = self.sizes
        demo.val_interval = self.val_interval
        return demo

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
        from mmseg.apis import init_model

        import mmseg_be  # noqa: F401  (registers the models for init_model)
        with open(prior) as f:
            values = json.load(f)['prior']
        out = study.prior_diagnostics(values, GAMMA, M_IN, M_OUT)
        model = init_model(INLIER_CFG, inlier_ckpt, device='cpu')
        out['test_anomaly'] = study.anomaly_class_fractions(
            model, osp.join(demo.data, 'anomaly', 'original'),
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
                for d in self.args.data_seeds for m in METHODS[1:]]
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
                           osp.join(self.work, 'study.png'))
        print(table, flush=True)


def main(argv=None):
    Study(parse_args(argv)).run()


if __name__ == '__main__':
    main()
