"""MultiDatasetTestLoop: two benchmarks, one run, one table."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import PixelData

import mmseg_be  # noqa: F401
from mmseg.registry import METRICS, MODELS
from mmseg_be.engine import benchmark_table
from tests.datasets.ood_fixtures import write_fishyscapes, write_road_anomaly


@MODELS.register_module(force=True)
class _RedIsAnomalyModel(BaseModel):
    """Scores each pixel by its first input channel; no weights to train."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outputs = []
        for image, sample in zip(inputs, data_samples):
            score = image[:1].float()
            sample.seg_logits = PixelData(data=torch.cat([-score, score]))
            outputs.append(sample)
        return outputs


@METRICS.register_module(force=True)
class _LabelCountMetric(BaseMetric):
    """Counts anomaly and inlier pixels and images seen (a test oracle)."""

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            label = sample['gt_sem_seg']['data']
            self.results.append(
                (int((label == 1).sum()), int((label == 0).sum())))

    def compute_metrics(self, results):
        return dict(
            anomaly_px=sum(r[0] for r in results),
            inlier_px=sum(r[1] for r in results),
            images=len(results))


def loader(dataset_type, root):
    return dict(
        batch_size=1,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type=dataset_type,
            data_root=root,
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadOODAnnotations'),
                dict(type='PackSegInputs')
            ]))


def test_two_benchmarks_one_table(tmp_path):
    fs_raw = write_fishyscapes(str(tmp_path / 'fs'))
    ra_raw = write_road_anomaly(str(tmp_path / 'ra'))
    benchmarks = [
        dict(name='fs_static',
             dataloader=loader('FishyscapesStaticDataset',
                               str(tmp_path / 'fs')),
             evaluator=dict(type='_LabelCountMetric')),
        dict(name='road_anomaly',
             dataloader=loader('RoadAnomalyDataset', str(tmp_path / 'ra')),
             evaluator=dict(type='_LabelCountMetric')),
    ]
    cfg = Config(
        dict(
            model=dict(type='_RedIsAnomalyModel'),
            work_dir=str(tmp_path / 'work'),
            default_scope='mmseg',
            test_dataloader=benchmarks[0]['dataloader'],
            test_evaluator=benchmarks[0]['evaluator'],
            test_cfg=dict(type='MultiDatasetTestLoop',
                          benchmarks=benchmarks),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
            env_cfg=dict(dist_cfg=dict(backend='gloo')),
            experiment_name='multi_loop_test'))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()

    # Oracle: pixel counts of the raw fixture labels (Fishyscapes labels are
    # already 0/1/255; Road Anomaly marks the anomaly with the raw value 2).
    expected = {
        'fs_static/anomaly_px': sum(int((r == 1).sum())
                                    for r in fs_raw.values()),
        'fs_static/inlier_px': sum(int((r == 0).sum())
                                   for r in fs_raw.values()),
        'fs_static/images': len(fs_raw),
        'road_anomaly/anomaly_px': sum(int((r == 2).sum())
                                       for r in ra_raw.values()),
        'road_anomaly/inlier_px': sum(int((r == 0).sum())
                                      for r in ra_raw.values()),
        'road_anomaly/images': len(ra_raw),
    }
    assert metrics == expected

    log = open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]).read()
    table = log[log.index('Results over all benchmarks'):]
    lines = table.splitlines()[1:5]
    assert [c.strip() for c in lines[0].split(' | ')] == [
        'benchmark', 'anomaly_px', 'inlier_px', 'images'
    ]
    assert lines[2].split(' | ')[0].strip() == 'fs_static'
    assert [c.strip() for c in lines[3].split(' | ')] == [
        'road_anomaly', str(expected['road_anomaly/anomaly_px']),
        str(expected['road_anomaly/inlier_px']), '2'
    ]
    # The logger hook's epoch line carries every prefixed metric once.
    assert 'road_anomaly/anomaly_px' in log and 'fs_static/images' in log


def test_benchmark_table_missing_metric_and_floats():
    text = benchmark_table({'a': {'AP': 0.5, 'FPR95': 0.25},
                            'b': {'AP': 1.0}})
    # The layout of mmseg_be.utils.table.format_table: numbers right-aligned.
    assert text.splitlines() == [
        'benchmark |   AP | FPR95', '----------+------+------',
        'a         | 0.50 |  0.25', 'b         | 1.00 |     -'
    ]


def test_benchmarks_need_unique_names():
    from mmseg_be.engine import MultiDatasetTestLoop
    with pytest.raises(ValueError, match='unique'):
        MultiDatasetTestLoop(
            runner=None, dataloader=None, evaluator=None,
            benchmarks=[dict(name='a', dataloader={}, evaluator={}),
                        dict(name='a', dataloader={}, evaluator={})])
    with pytest.raises(ValueError, match="TestLoop"):
        MultiDatasetTestLoop(runner=None, dataloader=None, evaluator=None)
    with pytest.raises(ValueError, match='evaluator'):
        MultiDatasetTestLoop(runner=None, dataloader=None, evaluator=None,
                             benchmarks=[dict(name='a', dataloader={})])


def test_table_values_from_numpy_are_printed():
    assert '0.12' in benchmark_table({'x': {'m': float(np.float32(0.123))}})


def test_evaluator_overrides_reach_every_benchmark():
    from mmseg_be.engine import MultiDatasetTestLoop
    benchmarks = [
        dict(name='a', dataloader=dict(), evaluator=dict(
            type='PixelOODMetric', score='energy', smooth_kernel=7)),
        dict(name='b', dataloader=dict(), evaluator=dict(
            type='PixelOODMetric', score='energy', component_metrics=True)),
    ]
    loop = MultiDatasetTestLoop(None, None, None, benchmarks=benchmarks,
                                evaluator_overrides=dict(score='max_logit'))
    assert [b['evaluator'] for b in loop.benchmarks] == [
        dict(type='PixelOODMetric', score='max_logit', smooth_kernel=7),
        dict(type='PixelOODMetric', score='max_logit',
             component_metrics=True),
    ]
    # The config's own lists are not modified in place.
    assert benchmarks[0]['evaluator']['score'] == 'energy'
    built = [dict(name='c', dataloader=dict(), evaluator=object())]
    with pytest.raises(TypeError, match='evaluator_overrides'):
        MultiDatasetTestLoop(None, None, None, benchmarks=built,
                             evaluator_overrides=dict(score='energy'))


def test_mmseg_out_flag_keeps_results_per_benchmark():
    """MMSeg's tools/test.py --out DIR sets test_evaluator.output_dir."""
    from types import SimpleNamespace

    from mmengine.config import Config

    from mmseg_be.engine import MultiDatasetTestLoop
    runner = SimpleNamespace(cfg=Config(dict(test_evaluator=dict(
        type='PixelOODMetric', output_dir='res', keep_results=True))))
    benchmarks = [
        dict(name='a', dataloader=dict(), evaluator=dict(
            type='PixelOODMetric')),
        dict(name='b', dataloader=dict(), evaluator=dict(
            type='PixelOODMetric', output_dir='mine')),
    ]
    loop = MultiDatasetTestLoop(runner, None, None, benchmarks=benchmarks)
    assert loop.benchmarks[0]['evaluator'] == dict(
        type='PixelOODMetric', output_dir='res/a', keep_results=True)
    # an explicit folder of the benchmark's own is kept
    assert loop.benchmarks[1]['evaluator']['output_dir'] == 'mine'
