# A CPU-sized DeepLabV3+: ResNet-18 (V1c stem), output stride 16, plain BN,
# trained from scratch (pretrained=None: no download). About 3x cheaper than
# MMSeg's R-18-D8 at the same crop. Standalone (no _base_), so leaves combine
# it with mmseg::_base_/default_runtime.py and a dataset base.
demo_num_classes = 8
# The demo's generated scenes are 64x128 (demo/settings.py).
demo_crop_size = (64, 128)
demo_norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=demo_crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 2),
        strides=(1, 2, 2, 1),
        norm_cfg=demo_norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        in_channels=512,
        in_index=3,
        channels=128,
        dilations=(1, 6, 12, 18),
        c1_in_channels=64,
        c1_channels=12,
        dropout_ratio=0.1,
        num_classes=demo_num_classes,
        norm_cfg=demo_norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='OODCrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=256,
        in_index=2,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=demo_num_classes,
        norm_cfg=demo_norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='OODCrossEntropyLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
