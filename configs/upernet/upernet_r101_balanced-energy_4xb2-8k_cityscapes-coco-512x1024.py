# UPerNet R-101 fine-tuned on Cityscapes + pasted COCO outliers with the
# OOD-aware cross-entropy + 0.1 x the balanced energy loss (released
# segmentation settings: m_in -12, m_out -6, alpha 5, gamma 3,
# lambda_sparse 5e-4, lambda_smooth 3e-6), starting from MMSeg's Cityscapes
# model-zoo checkpoint
# upernet_r101_4xb2-80k_cityscapes-512x1024
# (load_from below; mmengine downloads it on first use).
# Energy losses on the main (UPerHead) head only: the anomaly score is read
# from its logits, the auxiliary FCN head is dropped at inference. The
# auxiliary head keeps a cross-entropy that skips the pasted pixels (254).
# Crop 512x1024, total batch 8 (4 GPUs x 2), as the zoo model and the
# DeepLabV3+ configs; the schedule is theirs.
# The class prior belongs to the model that sees the outliers: estimate it
# with this model's zoo checkpoint before training (docs/models.md):
#   python tools/estimate_prior.py configs/upernet/upernet_r101_balanced-energy_4xb2-8k_cityscapes-coco-512x1024.py \
#       https://download.openmmlab.com/mmsegmentation/v0.5/upernet/upernet_r101_512x1024_80k_cityscapes/upernet_r101_512x1024_80k_cityscapes_20200607_002403-f05f2345.pth \
#       --prior-file work_dirs/priors/upernet_r101_cityscapes-coco.json \
#       --device cuda:0
_base_ = [
    '../_base_/models/upernet_r101.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/cityscapes_coco_outliers.py',
    '../_base_/datasets/fishyscapes_lost_and_found.py',
    '../_base_/schedules/ood_finetune_8k.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/upernet/upernet_r101_512x1024_80k_cityscapes/upernet_r101_512x1024_80k_cityscapes_20200607_002403-f05f2345.pth'  # noqa
prior_file = 'work_dirs/priors/upernet_r101_cityscapes-coco.json'
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='BalancedEnergyLoss', prior=prior_file, loss_weight=0.1),
    ]),
    # Deliberately no energy loss here (see above).
    auxiliary_head=dict(
        loss_decode=dict(type='OODCrossEntropyLoss', loss_weight=0.4)))
# Released inference: energy smoothed by a 7x7 Gaussian (sigma 1), for
# validation, heat maps and export alike.
anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
