# DeepLabV3+ R-50-D8: the R-101-D8 recipe of this folder (same data,
# schedule, losses and score) on MMSeg's R-50-D8 Cityscapes model-zoo
# checkpoint. Download it first:
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r50-d8_512x1024_80k_cityscapes/deeplabv3plus_r50-d8_512x1024_80k_cityscapes_20200606_114049-f9fb496d.pth
# Only the depth and the starting weights differ (as in MMSeg's own R-50 /
# R-101 pairs; tests/test_configs.py compares the two resolved configs).
_base_ = './deeplabv3plus_r101-d8_energy_4xb2-8k_cityscapes-coco-512x1024.py'

load_from = 'checkpoints/deeplabv3plus_r50-d8_512x1024_80k_cityscapes_20200606_114049-f9fb496d.pth'  # noqa
model = dict(backbone=dict(depth=50))
