# Every benchmark in one test run with one results table
# (mmseg_be.engine.MultiDatasetTestLoop). Each benchmark keeps its own
# dataloader and evaluator; metric names are prefixed with the benchmark name
# (e.g. fs_lost_and_found/AP). The entries mirror the single-benchmark files
# of this folder (tests/datasets/test_benchmark_configs.py checks that they
# agree). Skip a benchmark you do not have on disk with, e.g.,
# --cfg-options "test_cfg.benchmarks=[...]" or by editing a leaf config.
test_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadOODAnnotations'),
    dict(type='PackSegInputs'),
]
pixel_metric = dict(type='PixelOODMetric')
# Each benchmark's dataloader is written out in full (no helper function:
# a config is data), the same batch size, workers and sampler for all.
benchmarks = [
    dict(
        name='fs_lost_and_found',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='FishyscapesLostAndFoundDataset',
                data_root='data/fishyscapes/LostAndFound',
                pipeline=test_pipeline)),
        evaluator=pixel_metric),
    dict(
        name='fs_static',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='FishyscapesStaticDataset',
                data_root='data/fishyscapes/Static',
                pipeline=test_pipeline)),
        evaluator=pixel_metric),
    dict(
        name='road_anomaly',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='RoadAnomalyDataset',
                data_root='data/RoadAnomaly_jpg',
                pipeline=test_pipeline)),
        evaluator=pixel_metric),
    dict(
        name='smiyc_anomaly_track',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='SMIYCAnomalyTrackDataset',
                data_root='data/smiyc/dataset_AnomalyTrack',
                pipeline=test_pipeline)),
        evaluator=dict(
            type='PixelOODMetric', component_metrics=True,
            track='anomaly')),
    dict(
        name='smiyc_obstacle_track',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='SMIYCObstacleTrackDataset',
                data_root='data/smiyc/dataset_ObstacleTrack',
                pipeline=test_pipeline)),
        evaluator=dict(
            type='PixelOODMetric', component_metrics=True,
            track='obstacle')),
    dict(
        name='lost_and_found',
        dataloader=dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='LostAndFoundDataset',
                data_root='data/lost_and_found',
                split='test',
                pipeline=test_pipeline)),
        evaluator=pixel_metric),
]
test_cfg = dict(type='MultiDatasetTestLoop', benchmarks=benchmarks)
# mmengine's Runner requires these whenever test_cfg is set; the loop above
# does not use them (it runs `benchmarks`).
test_dataloader = benchmarks[0]['dataloader']
test_evaluator = benchmarks[0]['evaluator']
# The one anomaly-score setting of a run: the metric, the heat maps
# (--show-dir) and the submission export all use it (AnomalyScoreHook hands
# it over). Override with --score/--score-options, or --cfg-options
# anomaly_score.smooth_kernel=None with MMSeg's own tools.
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=None,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]
