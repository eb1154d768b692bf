# SegFormer MiT-B2 fine-tuned on Cityscapes + pasted COCO outliers with the
# OOD-aware cross-entropy + 0.1 x the balanced energy loss: the MiT-B5 recipe
# of this folder (same data, crop, schedule, losses, released settings and
# score) on MMSeg's Cityscapes model-zoo checkpoint
# segformer_mit-b2_8xb1-160k_cityscapes-1024x1024
# (load_from below; mmengine downloads it on first use).
# Only the layers per stage, the starting weights and the prior file (the
# prior belongs to the model that sees the outliers) differ, as in MMSeg's
# own B2/B5 configs (tests/test_configs.py compares the resolved configs).
# Estimate the prior with this model's zoo checkpoint before training
# (docs/models.md):
#   python tools/estimate_prior.py configs/segformer/segformer_mit-b2_balanced-energy_8xb1-8k_cityscapes-coco-1024x1024.py \
#       https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_8x1_1024x1024_160k_cityscapes/segformer_mit-b2_8x1_1024x1024_160k_cityscapes_20211207_134205-6096669a.pth \
#       --prior-file work_dirs/priors/segformer_mit-b2_cityscapes-coco.json \
#       --device cuda:0
_base_ = './segformer_mit-b5_balanced-energy_8xb1-8k_cityscapes-coco-1024x1024.py'

load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_8x1_1024x1024_160k_cityscapes/segformer_mit-b2_8x1_1024x1024_160k_cityscapes_20211207_134205-6096669a.pth'  # noqa
prior_file = 'work_dirs/priors/segformer_mit-b2_cityscapes-coco.json'
model = dict(
    backbone=dict(num_layers=[3, 4, 6, 3]),
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='BalancedEnergyLoss', prior=prior_file, loss_weight=0.1),
    ]))
