# SegFormer MiT-B5 fine-tuned on Cityscapes + pasted COCO outliers with the
# OOD-aware cross-entropy + 0.1 x vanilla energy regularization (Liu et al.;
# the paper's baseline: m_in -12, m_out -6, no class prior), starting from
# MMSeg's Cityscapes model-zoo checkpoint
# segformer_mit-b5_8xb1-160k_cityscapes-1024x1024
# (load_from below; mmengine downloads it on first use).
# SegFormer has no auxiliary head: both losses are on its decode head.
# Crop 1024x1024 and a total batch of 8 (8 GPUs x 1), as the zoo model was
# trained; the schedule (Adam 1e-5, 8180 iterations = 20 released epochs)
# is the DeepLabV3+ configs'.
_base_ = [
    '../_base_/models/segformer_mit-b5.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/cityscapes_coco_outliers.py',
    '../_base_/datasets/fishyscapes_lost_and_found.py',
    '../_base_/schedules/ood_finetune_8k.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b5_8x1_1024x1024_160k_cityscapes/segformer_mit-b5_8x1_1024x1024_160k_cityscapes_20211206_072934-87a052ec.pth'  # noqa
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='EnergyLoss', loss_weight=0.1),
    ]))
crop_size = (1024, 1024)
train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    {{_base_.outlier_paste}},
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
# Released inference: energy smoothed by a 7x7 Gaussian (sigma 1), for
# validation, heat maps and export alike.
anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
