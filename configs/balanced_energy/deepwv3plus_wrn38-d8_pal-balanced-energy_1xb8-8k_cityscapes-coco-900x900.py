# The paper's segmentation recipe on the paper's own network: NVIDIA's
# Cityscapes DeepLabV3+ with a WideResNet38 trunk (DeepWV3Plus), PEBAL
# abstention learning (PAL) + 0.1 x balanced energy loss (alpha 5,
# gamma 3, m_in -12, m_out -6, the released prior), fine-tuning only the
# last decoder block (docs/reproduce.md).
#
# Start: NVIDIA's checkpoint (semantic-segmentation, sdcnet branch,
# cityscapes_best.pth) converted with the abstention channel added:
#   python tools/convert_checkpoint.py cityscapes_best.pth \
#       checkpoints/deepwv3plus_wrn38-d8_nvidia-cityscapes_abstention.pth \
#       --source nvidia --add-abstention
#
# Everything but the model, the start checkpoint and the freezing comes from
# the R-101-D8 recipe beside this file (data, pipeline: scales 0.5-2.0 of
# 2048x1024, crop 900, flip; Adam lr 1e-5, poly 0.9, 20 released epochs at
# batch 8, seed 666; the released score), with the same deliberate
# deviations from the released code listed there.
#
# Frozen as the release: every parameter but the last block (decode_head.
# final and decode_head.conv_seg) has requires_grad=False, so no gradient is
# computed for them (the release sets requires_grad the same way); their BN
# statistics still update because the model trains in train mode, and the
# trunk's channel dropout (mod6, mod7) is active, as in the release.
_base_ = [
    './deeplabv3plus_r101-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-'
    '900x900.py',
]
load_from = 'checkpoints/deepwv3plus_wrn38-d8_nvidia-cityscapes_abstention.pth'  # noqa
# The converted checkpoint fits this model key for key: nothing may be
# left out or initialised anew at load time.
partial_load = []
# The model is the one of _base_/models/deepwv3plus_wrn38-d8.py (written out:
# mmengine allows one base per top-level key), with the 900x900 training
# crop, the frozen parts, the abstention head and the recipe's losses
# (tests/models/test_deepwv3plus_configs.py checks it against the base).
wrn38_norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    _delete_=True,
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(900, 900)),
    pretrained=None,
    backbone=dict(
        type='WiderResNetA2',
        depth=38,
        out_indices=(1, 6),
        dilated=True,
        frozen=True,
        norm_cfg=wrn38_norm_cfg),
    decode_head=dict(
        type='AbstentionDeepWV3PlusHead',  # 20 outputs, abstention last
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
        frozen=True,
        loss_decode=[
            dict(type='PALLoss', num_classes=19, loss_weight=1.0),
            dict(type='BalancedEnergyLoss', num_classes=19,
                 prior='cityscapes-coco-released', alpha=5.0, gamma1=3.0,
                 gamma2=3.0, m_in=-12.0, m_out=-6.0, loss_weight=0.1),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# Frozen parameters get no gradient: no learning-rate multipliers needed.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-5, betas=(0.9, 0.999), weight_decay=0))
