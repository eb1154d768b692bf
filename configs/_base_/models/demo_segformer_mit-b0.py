# A CPU-sized SegFormer for the demo (tools/demo.py --model segformer): the
# MiT-B0 of MMSeg's mmseg::_base_/models/segformer_mit-b0.py (B5 with 32-dim
# embeddings and two layers per stage, as MMSeg's own B0/B5 configs differ)
# at the demo's 64x128 scenes, trained from scratch, plain BN instead of
# SyncBN (one CPU process), whole-image inference. About half the cost of the
# demo's DeepLabV3+ R-18 per iteration on a 2-core CPU. SegFormer has no
# auxiliary head: the losses are on its decode head.
_base_ = ['./segformer_mit-b5.py']

demo_num_classes = 8
demo_crop_size = (64, 128)
model = dict(
    data_preprocessor=dict(size=demo_crop_size),
    backbone=dict(embed_dims=32, num_layers=[2, 2, 2, 2]),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        num_classes=demo_num_classes,
        norm_cfg=dict(type='BN', requires_grad=True)),
    test_cfg=dict(_delete_=True, mode='whole'))
