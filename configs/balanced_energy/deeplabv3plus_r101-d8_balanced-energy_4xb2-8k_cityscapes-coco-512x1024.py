# DeepLabV3+ R-101-D8 fine-tuned on Cityscapes + pasted COCO outliers with the
# balanced energy loss (released segmentation settings: m_in -12, m_out -6,
# alpha 5, gamma 3, lambda_sparse 5e-4, lambda_smooth 3e-6, weight 0.1),
# starting from MMSeg's Cityscapes model-zoo checkpoint. Download it first:
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x1024_80k_cityscapes/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth
# The class prior belongs to the model that sees the outliers: estimate it
# with this zoo checkpoint before training (docs/getting_started.md; while
# the file is missing tools/train.py stops with this command):
#   python tools/estimate_prior.py configs/balanced_energy/deeplabv3plus_r101-d8_balanced-energy_4xb2-8k_cityscapes-coco-512x1024.py \
#       checkpoints/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth \
#       --prior-file work_dirs/priors/deeplabv3plus_r101-d8_cityscapes-coco.json
# The released prior ('cityscapes-coco-released') was estimated with the
# released WideResNet38 network (configs/balanced_energy/deepwv3plus_*).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/cityscapes_coco_outliers.py',
    '../_base_/datasets/fishyscapes_lost_and_found.py',
    '../_base_/schedules/ood_finetune_8k.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

load_from = 'checkpoints/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth'  # noqa
prior_file = 'work_dirs/priors/deeplabv3plus_r101-d8_cityscapes-coco.json'
model = dict(
    pretrained=None,  # weights come from load_from
    data_preprocessor=dict(size=(512, 1024)),
    backbone=dict(depth=101),
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='BalancedEnergyLoss', prior=prior_file, loss_weight=0.1),
    ]),
    auxiliary_head=dict(
        loss_decode=dict(
            _delete_=True, type='OODCrossEntropyLoss', loss_weight=0.4)))
# Released inference: energy smoothed by a 7x7 Gaussian (sigma 1), for
# validation, heat maps and export alike.
anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
