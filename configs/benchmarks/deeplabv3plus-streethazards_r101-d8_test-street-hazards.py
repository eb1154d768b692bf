# Evaluate a DeepLabV3+ R-101-D8 trained on StreetHazards (13 classes:
# configs/street_hazards/) on the StreetHazards test split with the energy
# score, full resolution (1280x720):
#   python tools/test.py configs/benchmarks/deeplabv3plus-streethazards_r101-d8_test-street-hazards.py CHECKPOINT
# PixelOODMetric pools the pixels of all test frames; the authors average
# per-image values (docs/benchmarks.md says where the two differ).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/street_hazards.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

model = dict(
    pretrained=None,
    backbone=dict(depth=101),
    decode_head=dict(num_classes=13),
    auxiliary_head=dict(num_classes=13))
# The loops MMSeg's schedule bases define (a test config has no schedule);
# mmengine's Runner needs them beside the dataloaders and evaluators.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
