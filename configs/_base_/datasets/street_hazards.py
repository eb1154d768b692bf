# StreetHazards test split (streethazards_test.tar of hendrycks/anomaly-seg),
# the anomaly benchmark of a model trained on the StreetHazards training
# split: raw label 14 (the anomaly class) -> 1, raw 1..13 -> 0, no ignore
# region, as the authors evaluate (docs/benchmarks.md). Full resolution
# (1280x720), single scale. PixelOODMetric pools the pixels of all test
# frames; the authors' eval_ood.py averages per-image values instead.
dataset_type = 'StreetHazardsAnomalyDataset'
data_root = 'data/streethazards'
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
# it over).
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=None,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]
