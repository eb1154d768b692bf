"""One test run over several benchmarks, with one results table.

mmengine's ``TestLoop`` evaluates one dataloader with one evaluator. Here each
benchmark brings its own (dataloader, evaluator) pair, because datasets,
label conventions and metric options (e.g. SMIYC component metrics) differ;
the loop runs them in order, prefixes each metric with the benchmark's name
(``fs_lost_and_found/AP``) and prints one table with a row per benchmark.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner.amp import autocast
from mmengine.runner.loops import BaseLoop
from mmseg.registry import LOOPS
from torch.utils.data import DataLoader

from ..utils.table import format_table
from .anomaly_score_hook import apply_anomaly_score, settings_of_runner


def benchmark_table(rows: Dict[str, Dict[str, float]],
                    digits: int = 2) -> str:
    """The run's results, one row per benchmark, one column per metric, in
    the package's text layout (:func:`mmseg_be.utils.table.format_table`).

    Args:
        rows: Benchmark name -> {metric name: value}. A metric missing for a
            benchmark is shown as ``-``.
        digits: Decimals of float values.

    Returns:
        str: The table, lines joined by newlines.
    """
    columns: List[str] = []
    for metrics in rows.values():
        columns += [k for k in metrics if k not in columns]
    return format_table(
        ['benchmark'] + columns,
        [[name] + [metrics.get(c) for c in columns]
         for name, metrics in rows.items()],
        digits=digits)


@LOOPS.register_module()
class MultiDatasetTestLoop(BaseLoop):
    """Evaluate one model on several benchmarks in a single test run.

    Config (``test_cfg``)::

        test_cfg = dict(
            type='MultiDatasetTestLoop',
            benchmarks=[
                dict(name='fs_lost_and_found', dataloader=dict(...),
                     evaluator=dict(type='PixelOODMetric')),
                dict(name='road_anomaly', dataloader=..., evaluator=...),
            ])

    mmengine's Runner insists that ``test_dataloader`` and
    ``test_evaluator`` are set whenever ``test_cfg`` is; this loop does not
    use (nor build) them, so a config may point them at its first benchmark.
    While a benchmark runs, ``self.dataloader`` is that benchmark's loader,
    so the logger's progress (``[i/len]``) refers to it. Hooks see one test
    epoch; ``after_test_epoch`` receives all prefixed metrics at once.

    Args:
        runner: The runner.
        dataloader: The runner's ``test_dataloader`` (unused, see above).
        evaluator: The runner's ``test_evaluator`` (unused, see above).
        benchmarks: Dicts with ``name``, ``dataloader`` and ``evaluator``
            (configs or built objects), run in this order.
        fp16: Run the model under autocast.
        evaluator_overrides: Settings merged into every benchmark's
            evaluator config, e.g. ``dict(score='max_logit')`` to evaluate
            all benchmarks with another anomaly score.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 evaluator: Union[Evaluator, dict, list],
                 benchmarks: Sequence[dict] = (),
                 fp16: bool = False,
                 evaluator_overrides: Optional[dict] = None) -> None:
        self._runner = runner
        if not benchmarks:
            raise ValueError(
                'MultiDatasetTestLoop needs benchmarks=[dict(name=..., '
                'dataloader=..., evaluator=...), ...]; for a single dataset '
                "use mmengine's TestLoop (test_cfg=dict(type='TestLoop')).")
        names = [b.get('name') for b in benchmarks]
        if None in names or len(set(names)) != len(names):
            raise ValueError(
                'MultiDatasetTestLoop: every benchmark needs a unique '
                f'`name`, got {names}.')
        for bench in benchmarks:
            missing = {'dataloader', 'evaluator'} - set(bench)
            if missing:
                raise ValueError(
                    f'MultiDatasetTestLoop: benchmark {bench["name"]!r} '
                    f'lacks {sorted(missing)}.')
        self.benchmarks = [dict(b) for b in benchmarks]
        if evaluator_overrides:
            for bench in self.benchmarks:
                if not isinstance(bench['evaluator'], dict):
                    raise TypeError(
                        'evaluator_overrides needs evaluator configs (dicts), '
                        f'benchmark {bench["name"]!r} has a built evaluator.')
                bench['evaluator'] = dict(bench['evaluator'],
                                          **evaluator_overrides)
        self._keep_results_per_benchmark(runner)
        self.fp16 = fp16
        # Set while a benchmark runs (hooks and the log processor read it).
        self.dataloader = None
        self.evaluator = None

    def _keep_results_per_benchmark(self, runner) -> None:
        """Honour MMSeg's ``tools/test.py --out DIR`` (which sets
        ``test_evaluator.output_dir``): each benchmark keeps its results
        in ``DIR/<benchmark name>``."""
        cfg = getattr(runner, 'cfg', None)
        top = cfg.get('test_evaluator') if cfg is not None else None
        if not isinstance(top, dict) or not top.get('output_dir'):
            return
        for bench in self.benchmarks:
            evaluator = bench['evaluator']
            if isinstance(evaluator, dict) and not evaluator.get(
                    'output_dir'):
                bench['evaluator'] = dict(
                    evaluator, keep_results=top.get('keep_results', False),
                    output_dir=osp.join(top['output_dir'], bench['name']))

    def _build(self, bench: dict) -> None:
        """Build a benchmark's dataloader and evaluator on first use."""
        if isinstance(bench['dataloader'], dict):
            seed_cfg = self.runner._randomness_cfg
            bench['dataloader'] = self.runner.build_dataloader(
                bench['dataloader'],
                seed=self.runner.seed,
                diff_rank_seed=seed_cfg.get('diff_rank_seed', False))
        if isinstance(bench['evaluator'], (dict, list)):
            bench['evaluator'] = self.runner.build_evaluator(
                bench['evaluator'])
            # Built after AnomalyScoreHook.before_run: same setting here.
            settings = settings_of_runner(self.runner)
            if settings is not None:
                apply_anomaly_score([bench['evaluator']], settings)
        dataset = bench['dataloader'].dataset
        if hasattr(dataset, 'metainfo'):
            bench['evaluator'].dataset_meta = dataset.metainfo
            self.runner.visualizer.dataset_meta = dataset.metainfo

    def run(self) -> dict:
        """Run every benchmark and return the prefixed metrics.

        Returns:
            dict: ``{'<benchmark>/<metric>': value}`` over all benchmarks.
        """
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        all_metrics: Dict[str, float] = {}
        table: Dict[str, Dict[str, float]] = {}
        for bench in self.benchmarks:
            self._build(bench)
            self.dataloader = bench['dataloader']
            self.evaluator = bench['evaluator']
            print_log(
                f'Testing {bench["name"]} '
                f'({len(self.dataloader.dataset)} images)',
                logger='current')
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
            metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
            table[bench['name']] = dict(metrics)
            all_metrics.update({
                f'{bench["name"]}/{key}': value
                for key, value in metrics.items()
            })
        print_log(
            'Results over all benchmarks:\n' + benchmark_table(table),
            logger='current',
            level=logging.INFO)
        self.runner.call_hook('after_test_epoch', metrics=all_metrics)
        self.runner.call_hook('after_test')
        return all_metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Predict one batch and feed the current benchmark's evaluator.

        Args:
            idx: Batch index within the current benchmark.
            data_batch: A batch from the current dataloader.
        """
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.runner.model.test_step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
