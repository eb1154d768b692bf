# DeepLabV3+ R-50-D8: the R-101-D8 recipe of this folder (same data,
# schedule, losses and score) on MMSeg's R-50-D8 Cityscapes model-zoo
# checkpoint. Download it first:
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r50-d8_512x1024_80k_cityscapes/deeplabv3plus_r50-d8_512x1024_80k_cityscapes_20200606_114049-f9fb496d.pth
# Only the depth, the starting weights and the prior file (the prior belongs
# to the model that sees the outliers) differ, as in MMSeg's own R-50 /
# R-101 pairs (tests/test_configs.py compares the two resolved configs).
# Estimate the prior with this zoo checkpoint before training:
#   python tools/estimate_prior.py configs/balanced_energy/deeplabv3plus_r50-d8_balanced-energy_4xb2-8k_cityscapes-coco-512x1024.py \
#       checkpoints/deeplabv3plus_r50-d8_512x1024_80k_cityscapes_20200606_114049-f9fb496d.pth \
#       --prior-file work_dirs/priors/deeplabv3plus_r50-d8_cityscapes-coco.json
_base_ = './deeplabv3plus_r101-d8_balanced-energy_4xb2-8k_cityscapes-coco-512x1024.py'  # noqa

load_from = 'checkpoints/deeplabv3plus_r50-d8_512x1024_80k_cityscapes_20200606_114049-f9fb496d.pth'  # noqa
prior_file = 'work_dirs/priors/deeplabv3plus_r50-d8_cityscapes-coco.json'
model = dict(
    backbone=dict(depth=50),
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='BalancedEnergyLoss', prior=prior_file, loss_weight=0.1),
    ]))
