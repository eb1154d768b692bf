# StreetHazards training split (hendrycks/anomaly-seg, streethazards_train.tar)
# for an MMSeg model: 13 classes (raw labels 1..13 -> 0..12 by
# reduce_zero_label, as the authors subtract one). Labels and layout:
# docs/benchmarks.md. Validation is the leaf's (the in-distribution model
# validates mIoU on the validation town; the fine-tuning has none).
# Two training pipelines: `train_pipeline` (in-distribution) and
# `outlier_train_pipeline` (COCO objects pasted with label 254, for the
# energy fine-tuning configs, which select it). Leaves inherit this file
# beside an mmseg:: model base and import the plugin:
#   custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)
street_hazards_root = 'data/streethazards'
outlier_bank_root = 'data/coco_outliers'
crop_size = (512, 1024)
# The release's images are 1280x720.
street_hazards_scale = (1280, 720)
# The geometric part both pipelines share.
street_hazards_geometric = [
    dict(
        type='RandomResize',
        scale=street_hazards_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
] + street_hazards_geometric + [
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
# Pasting as in _base_/datasets/cityscapes_coco_outliers.py (one COCO object
# in 1/11 of the samples, native scale, before the geometric transforms).
outlier_train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    dict(
        type='PasteOutliers',
        bank_root=outlier_bank_root,
        prob=1 / 11,
        num_objects=1,
        scale_range=(1.0, 1.0),
        placement='uniform',
        blend=False,
        ood_index=254),
] + street_hazards_geometric + [dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='StreetHazardsDataset',
        data_root=street_hazards_root,
        split='training',
        pipeline=train_pipeline))
