# Stage 1 of the demo: the in-distribution model, trained from scratch on the
# generated street scenes with a plain (OOD-aware) cross-entropy. Evaluated on
# the anomaly split with the max-logit score (no OOD training yet).
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '../_base_/models/demo_deeplabv3plus_r18-d16.py',
    '../_base_/datasets/demo_synthetic.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)

iters = 250
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=1e-4, begin=0, end=iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                 val_interval=iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    visualization=dict(type='SegVisualizationHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=iters))
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
