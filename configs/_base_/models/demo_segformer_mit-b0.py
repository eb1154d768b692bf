# A CPU-sized SegFormer for the demo (tools/demo.py --model segformer): MMSeg's
# MiT-B0 backbone and SegFormer head (mmseg::_base_/models/segformer_mit-b0.py)
# at the demo's 64x128 scenes, trained from scratch (pretrained=None: no
# download), plain BN instead of SyncBN (one CPU process), whole-image
# inference. About half the cost of the demo's DeepLabV3+ R-18 per iteration
# on a 2-core CPU. Standalone (no _base_), so leaves combine it with
# mmseg::_base_/default_runtime.py and a dataset base. SegFormer has no
# auxiliary head: the losses are on its decode head.
demo_num_classes = 8
demo_crop_size = (64, 128)
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
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=32,
        num_stages=4,
        num_layers=[2, 2, 2, 2],
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
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=demo_num_classes,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
