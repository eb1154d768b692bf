# Evaluate a DeepLabV3+ R-101-D8 trained on the in-distribution frames of
# BDD-Anomaly on its 810 test frames with the energy score, full resolution
# (1280x720):
#   python tools/test.py configs/benchmarks/deeplabv3plus-bdd-anomaly_r101-d8_test-bdd-anomaly.py CHECKPOINT
# 17 outputs: the authors train the 16 BDD100K classes that are not held out
# plus "other" (label 255) as a class (hendrycks/anomaly-seg issue #17); give
# model.decode_head.num_classes for a model trained otherwise.
# PixelOODMetric pools the pixels of all test frames; the authors average
# per-image values (docs/benchmarks.md says where the two differ).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/bdd_anomaly.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

model = dict(
    pretrained=None,
    backbone=dict(depth=101),
    decode_head=dict(num_classes=17),
    auxiliary_head=dict(num_classes=17))
# The loops MMSeg's schedule bases define (a test config has no schedule);
# mmengine's Runner needs them beside the dataloaders and evaluators.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
