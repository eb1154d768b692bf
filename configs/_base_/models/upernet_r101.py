# UPerNet R-101 exactly as MMSeg's Cityscapes model zoo builds it
# (mmseg::upernet/upernet_r101_4xb2-80k_cityscapes-512x1024.py), so its
# checkpoint loads every weight (tests/test_segmentor_configs.py compares the
# two configs). Standalone (no _base_), so leaves combine it with
# mmseg::_base_/default_runtime.py and our dataset bases.
# Differences from the zoo config, all deliberate:
# - no ImageNet init of the backbone (weights come from the leaf's load_from
#   or the checkpoint given to tools/test.py);
# - both heads' losses are the OOD-aware cross-entropy: pasted outlier pixels
#   (label 254) reach the auxiliary FCN head too, and MMSeg's CrossEntropyLoss
#   would take 254 for a class index. The auxiliary head keeps the zoo's 0.4.
# The auxiliary head is dropped at inference (EncoderDecoder scores only the
# decode head's logits). No compiled mmcv op is used (ResNetV1c, UPerHead,
# FCNHead).
upernet_norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 1024)),
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=upernet_norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='UPerHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=upernet_norm_cfg,
        align_corners=False,
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=upernet_norm_cfg,
        align_corners=False,
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
