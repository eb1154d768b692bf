# SegmentMeIfYouCan (docs/benchmarks.md): what its two tracks share. Not a
# config to use alone: smiyc_anomaly_track.py and smiyc_obstacle_track.py
# inherit it and set the dataset type, the data root and the track of the
# component metrics.
# Full-resolution, single-scale inference (as the released evaluation): the
# test pipeline has no Resize. Labels reach the model as 0 inlier, 1 anomaly,
# 255 ignore (LoadOODAnnotations converts raw values and checks them).
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
    dataset=dict(pipeline=test_pipeline))
val_dataloader = test_dataloader
# Pixel metrics plus the SMIYC component metrics (the track sets their
# rules).
test_evaluator = dict(type='PixelOODMetric', component_metrics=True)
val_evaluator = test_evaluator
# The one anomaly-score setting of a run: the metric, the heat maps
# (--show-dir) and the submission export all use it (AnomalyScoreHook hands
# it over). Override with --score/--score-options, or --cfg-options
# anomaly_score.smooth_kernel=None with MMSeg's own tools.
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=None,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]

# Test images without public labels (every frame of the release), for the
# submission exporter: no label loading.
export_pipeline = [dict(type='LoadImageStoredOrientation'), dict(type='PackSegInputs')]
export_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(with_labels=False, pipeline=export_pipeline))
