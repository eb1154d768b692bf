# SegFormer MiT-B2 exactly as MMSeg's Cityscapes model zoo builds it
# (mmseg::segformer/segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py), so
# its checkpoint loads every weight (tests/test_segmentor_configs.py compares
# the two configs). Standalone (no _base_), so leaves combine it with
# mmseg::_base_/default_runtime.py and our dataset bases.
# Differences from the zoo config, all deliberate:
# - no ImageNet init of the backbone (weights come from the leaf's load_from
#   or the checkpoint given to tools/test.py);
# - the decode head's loss is the OOD-aware cross-entropy (pixels labelled 254
#   are skipped; MMSeg's CrossEntropyLoss would take them for a class);
# - inference stays the zoo's sliding window (1024x1024, stride 768), with
#   which the checkpoint's Cityscapes mIoU was measured; whole-image
#   inference: --cfg-options model.test_cfg.mode=whole.
# No compiled mmcv op is used (MixVisionTransformer, SegformerHead).
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(1024, 1024)),
    pretrained=None,
    backbone=dict(
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=64,
        num_stages=4,
        num_layers=[3, 4, 6, 3],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(768, 768)))
