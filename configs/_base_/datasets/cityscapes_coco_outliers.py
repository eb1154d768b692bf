# Cityscapes train + COCO objects pasted as outliers (label 254), the training
# data of the balanced-energy / PEBAL recipe (docs/datasets.md).
# Labels: MMSeg's CityscapesDataset reads *_gtFine_labelTrainIds.png (trainIds
# 0-18, 255 void); PasteOutliers writes 254 under each pasted mask.
# Released settings: one COCO object (union mask of one COCO image) at native
# scale, uniform position, hard edges, in 1/11 of the samples (the release
# appends 10% as many outlier samples as Cityscapes images: 0.1 / 1.1).
# Pasting happens before the geometric transforms, as in the release.
# Leaves inherit this file beside an mmseg:: model base and must import the
# plugin:
#   custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)
# Names are prefixed (cityscapes_*, outlier_*) so this base combines with the
# benchmark bases, which define data_root / dataset_type themselves.
cityscapes_root = 'data/cityscapes/'
outlier_bank_root = 'data/coco_outliers'
crop_size = (512, 1024)
outlier_paste = dict(
    type='PasteOutliers',
    bank_root=outlier_bank_root,
    prob=1 / 11,
    num_objects=1,
    scale_range=(1.0, 1.0),
    placement='uniform',
    blend=False,
    ood_index=254)
# No PhotoMetricDistortion: the released recipe uses none.
train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    outlier_paste,
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    # cat_max_ratio ignores 255 only; 254 counts as a class, which is fine.
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CityscapesDataset',
        data_root=cityscapes_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
