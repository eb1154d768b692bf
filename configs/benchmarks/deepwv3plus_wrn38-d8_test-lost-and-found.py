# Evaluate the released WideResNet38 DeepLabV3+ with 19 outputs (NVIDIA's
# Cityscapes checkpoint, or a 19-output Balanced Energy one, converted with
# tools/convert_checkpoint.py) on lost and found with the released anomaly score
# (energy of the 19 class logits, 7x7 Gaussian smoothing, sigma 1), full
# resolution, single scale, as the released evaluation (docs/reproduce.md):
#   python tools/test.py configs/benchmarks/deepwv3plus_wrn38-d8_test-lost-and-found.py CHECKPOINT
_base_ = [
    '../_base_/models/deepwv3plus_wrn38-d8.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/lost_and_found.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
# The loops MMSeg's schedule bases define (a test config has no schedule);
# mmengine's Runner needs them beside the dataloaders and evaluators.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
