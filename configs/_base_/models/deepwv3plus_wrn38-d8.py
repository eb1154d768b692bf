# The released network of the paper, PEBAL and Meta-OoD: NVIDIA's Cityscapes
# DeepLabV3+ with a WideResNet38 trunk (DeepWV3Plus, semantic-segmentation,
# sdcnet branch), as MMSeg modules: WiderResNetA2 (output stride 8) and
# DeepWV3PlusHead (docs/reproduce.md). With the weights of a converted
# released checkpoint (tools/convert_checkpoint.py) its logits equal the
# released network's (tests/models/test_deepwv3plus.py).
# Standalone (no _base_), so leaves combine it with
# mmseg::_base_/default_runtime.py and our dataset bases.
# - Normalisation as the release: ImageNet mean/std of RGB in [0, 1]
#   (the same numbers in MMSeg's 0-255 units); no padding at test time
#   (whole 1024x2048 frames, single scale).
# - SyncBN: plain BN on one GPU (mmengine reverts it), synchronised across
#   GPUs as the release's distributed mode.
# - No auxiliary head, no decoder dropout, classifier without bias,
#   align_corners=True everywhere: as the release.
# - The loss is the OOD-aware cross-entropy (label 254 skipped); the
#   fine-tuning recipe replaces it with PAL + balanced energy.
wrn38_norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    pretrained=None,
    backbone=dict(
        type='WiderResNetA2',
        depth=38,
        out_indices=(1, 6),
        dilated=True,
        norm_cfg=wrn38_norm_cfg),
    decode_head=dict(
        type='DeepWV3PlusHead',
        in_channels=4096,
        in_index=1,
        channels=256,
        dilations=(1, 12, 24, 36),
        c1_in_channels=128,
        c1_channels=48,
        dropout_ratio=0.0,
        num_classes=19,
        norm_cfg=wrn38_norm_cfg,
        align_corners=True,
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
