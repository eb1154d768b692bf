# Stage 1 of the demo: the in-distribution model, trained from scratch on the
# generated street scenes with a plain (OOD-aware) cross-entropy. Evaluated on
# the anomaly split with the max-logit score (no OOD training yet).
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '../_base_/models/demo_deeplabv3plus_r18-d16.py',
    '../_base_/datasets/demo_synthetic.py',
    '../_base_/schedules/demo_inlier_400it.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)
# Over mmseg's default runtime: iteration-based logs, gloo for CPU runs.
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
