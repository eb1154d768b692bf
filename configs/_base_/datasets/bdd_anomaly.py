# BDD-Anomaly test frames (Hendrycks et al.; the 810 frames of the BDD100K
# segmentation set that hold train, motorcycle or bicycle): trainIds 16, 17,
# 18 -> 1, every other value (255 "other" included) -> 0, as the authors
# evaluate (docs/benchmarks.md). Full resolution (1280x720), single scale.
# PixelOODMetric pools the pixels of all test frames; the authors'
# eval_ood.py averages per-image values instead.
dataset_type = 'BDDAnomalyDataset'
data_root = 'data/bdd100k/seg'
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
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=None,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]
