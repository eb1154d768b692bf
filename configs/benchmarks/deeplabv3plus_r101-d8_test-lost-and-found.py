# Evaluate a DeepLabV3+ R-101-D8 checkpoint (e.g. one trained with
# configs/balanced_energy/ or configs/energy/) on lost and found with the released
# anomaly score (energy, 7x7 Gaussian smoothing, sigma 1), full resolution:
#   python tools/test.py configs/benchmarks/deeplabv3plus_r101-d8_test-lost-and-found.py CHECKPOINT
# Layout of the data: docs/benchmarks.md. Another score: --score max_logit
# (or --cfg-options anomaly_score.name=max_logit with MMSeg's tools/test.py).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/lost_and_found.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

model = dict(pretrained=None, backbone=dict(depth=101))
anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
# The loops MMSeg's schedule bases define (a test config has no schedule);
# mmengine's Runner needs them beside the dataloaders and evaluators.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
