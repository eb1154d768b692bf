# DeepLabV3+ R-101-D8 trained on the StreetHazards training split (13 classes,
# 512x1024 crops, MMSeg's 80k schedule and ImageNet R-101), the
# in-distribution model the energy fine-tuning configs of this folder start
# from. Validation: mIoU on the validation town.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/datasets/street_hazards_train.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    data_preprocessor=dict(size=(512, 1024)),
    backbone=dict(depth=101),
    decode_head=dict(num_classes=13),
    auxiliary_head=dict(num_classes=13))
# Checkpoints written atomically, as every training config of the project
# (a run killed while saving leaves the previous checkpoint intact).
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))

# mIoU on the validation town, full resolution.
val_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='StreetHazardsDataset',
        data_root={{_base_.street_hazards_root}},
        split='validation',
        pipeline=val_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
