# The demo's fine-tuning data: the generated street scenes with objects of the
# synthetic outlier bank pasted (label 254), the demo's stand-in for
# Cityscapes + COCO (configs/_base_/datasets/cityscapes_coco_outliers.py).
# Evaluation: the anomaly split in the Fishyscapes layout.
# Deviation from the released 1/11 paste probability: the demo fine-tunes for
# a few hundred iterations only, so every sample carries one or two outliers
# (with half of them, 300 iterations left the models short of converging).
demo_data_root = 'work_dirs/demo/data'
demo_classes = ('road', 'sidewalk', 'building', 'pole', 'vegetation', 'sky',
                'person', 'car')
demo_palette = [[128, 64, 128], [244, 35, 232], [70, 70, 70],
                [153, 153, 153], [107, 142, 35], [70, 130, 180],
                [220, 20, 60], [0, 0, 142]]
demo_outlier_paste = dict(
    type='PasteOutliers',
    bank_root=demo_data_root + '/outlier_bank',
    prob=1.0,
    num_objects=(1, 2),
    scale_range=(0.5, 1.2),
    placement='uniform',
    ood_index=254)
demo_train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    demo_outlier_paste,
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
demo_anomaly_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadOODAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='BaseSegDataset',
        data_root=demo_data_root + '/scenes',
        metainfo=dict(classes=demo_classes, palette=demo_palette),
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train',
                         seg_map_path='ann_dir/train'),
        pipeline=demo_train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        # Read in the Fishyscapes layout; named as what it is in figures
        # and summaries.
        type='FishyscapesLostAndFoundDataset',
        metainfo=dict(benchmark_name='synthetic anomaly split'),
        data_root=demo_data_root + '/anomaly',
        # Generated data: no official release to check it against.
        release_check='off',
        pipeline=demo_anomaly_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PixelOODMetric')
test_evaluator = val_evaluator
# The one anomaly-score setting of a run: the metric, the heat maps
# (--show-dir) and the submission export all use it (AnomalyScoreHook hands
# it over). Override with --score/--score-options, or --cfg-options
# anomaly_score.smooth_kernel=None with MMSeg's own tools. Smoothed as the
# released inference does (Gaussian, kernel 7, sigma 1).
anomaly_score = dict(name='energy', temperature=1.0, smooth_kernel=7,
                     smooth_sigma=1.0)
custom_hooks = [dict(type='AnomalyScoreHook')]
