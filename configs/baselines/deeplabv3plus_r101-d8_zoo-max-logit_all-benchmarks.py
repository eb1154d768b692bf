# Baseline without OOD fine-tuning: MMSeg's Cityscapes model-zoo DeepLabV3+
# R-101-D8 evaluated as it is on every benchmark with the max-logit anomaly score.
# Download the checkpoint, then:
#   python tools/test.py configs/baselines/deeplabv3plus_r101-d8_zoo-max-logit_all-benchmarks.py \
#       checkpoints/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth
# (https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x1024_80k_cityscapes/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth)
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/all_benchmarks.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

model = dict(pretrained=None, backbone=dict(depth=101))
anomaly_score = dict(name='max_logit', smooth_kernel=None)
