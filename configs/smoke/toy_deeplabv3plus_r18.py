# A CPU-sized DeepLabV3+ R-18 on the generated toy dataset
# (tests/toy_data.py). Used by the smoke run and the tests; trains from
# scratch (pretrained=None: no download on a machine without network).
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

num_classes = 4
crop_size = (64, 96)
data_root = 'data/toy'
norm_cfg = dict(type='BN', requires_grad=True)  # SyncBN needs a GPU
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=num_classes, norm_cfg=norm_cfg))

train_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageStoredOrientation'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
toy_metainfo = dict(
    classes=tuple(f'class{i}' for i in range(num_classes)),
    palette=[[40 + 60 * i, 100, 200 - 40 * i] for i in range(num_classes)])
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=toy_metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=toy_metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=20, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=20)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5, log_metric_by_epoch=False),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=20))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
