# Fishyscapes Lost & Found validation: 100 frames, 1024x2048
# (docs/benchmarks.md).
# Full-resolution, single-scale inference (as the released evaluation): the
# test pipeline has no Resize. Labels reach the model as 0 inlier, 1 anomaly,
# 255 ignore (LoadOODAnnotations converts raw values and checks them).
dataset_type = 'FishyscapesLostAndFoundDataset'
data_root = 'data/fishyscapes/LostAndFound'
test_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadOODAnnotations'),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(type='PixelOODMetric')
val_evaluator = test_evaluator
# The one anomaly-score setting of a run: the metric, the heat maps
# (--show-dir) and the submission export all use it (AnomalyScoreHook hands
# it over). Override with --score/--score-options, or --cfg-options
# anomaly_score.smooth_kernel=None with MMSeg's own tools.
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=None,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]
