# DeepLabV3+ R-101-D8 fine-tuned on StreetHazards training + pasted COCO
# outliers with the balanced energy loss (the released segmentation settings
# of configs/balanced_energy/: m_in -12, m_out -6, alpha 5, gamma 3, weight
# 0.1) and the 8180-iteration schedule of the Cityscapes recipe (not tuned
# for StreetHazards), from the in-distribution model of
# deeplabv3plus_r101-d8_inlier_4xb2-80k_streethazards-512x1024.py.
# The prior is the StreetHazards one: estimate it with that model first
# (tools/estimate_prior.py on this config, saved as streethazards_prior.json;
# README.md of this folder, docs/method.md).
# StreetHazards has no split with anomalies besides the test split, so there
# is no validation: the last checkpoint is the result. Test with
# configs/benchmarks/
#   deeplabv3plus-streethazards_r101-d8_test-street-hazards.py
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/street_hazards_train.py',
    '../_base_/datasets/street_hazards.py',
    '../_base_/schedules/ood_finetune_8k.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

load_from = 'work_dirs/deeplabv3plus_r101-d8_inlier_4xb2-80k_streethazards-512x1024/iter_80000.pth'  # noqa
model = dict(
    pretrained=None,  # weights come from load_from
    data_preprocessor=dict(size=(512, 1024)),
    backbone=dict(depth=101),
    decode_head=dict(
        num_classes=13,
        loss_decode=[
            dict(type='OODCrossEntropyLoss', loss_weight=1.0),
            dict(type='BalancedEnergyLoss', prior='streethazards_prior.json',
                 loss_weight=0.1),
        ]),
    auxiliary_head=dict(
        num_classes=13,
        loss_decode=dict(
            _delete_=True, type='OODCrossEntropyLoss', loss_weight=0.4)))
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.outlier_train_pipeline}}))
val_dataloader = None
val_evaluator = None
val_cfg = None
default_hooks = dict(checkpoint=dict(save_best=None))
