# Evaluate a SegFormer MiT-B2 checkpoint (e.g. one fine-tuned with
# configs/segformer/) on Fishyscapes Lost & Found with the released anomaly
# score (full resolution, sliding window as the zoo model):
#   python tools/test.py configs/benchmarks/segformer_mit-b2_test-fishyscapes-lost-and-found.py CHECKPOINT
# Layout of the data: docs/benchmarks.md; the models: docs/models.md.
# Another score: --score max_logit (or --cfg-options
# anomaly_score.name=max_logit with MMSeg's tools/test.py).
_base_ = [
    '../_base_/models/segformer_mit-b2.py',
    '../_base_/ood_test_runtime.py',
    '../_base_/datasets/fishyscapes_lost_and_found.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

anomaly_score = dict(name='energy', smooth_kernel=7, smooth_sigma=1.0)
# The loops MMSeg's schedule bases define (a test config has no schedule);
# mmengine's Runner needs them beside the dataloaders and evaluators.
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
