# The demo's fine-tuning schedule (tools/demo.py sets the iterations it
# runs): SGD at half the in-distribution rate, poly decay, one
# validation at the end, the checkpoint with the best AP kept. Shared by the
# demo's models (DeepLabV3+ R-18, SegFormer MiT-B0) and both losses.
iters = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=1e-5, begin=0, end=iters,
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
                    interval=iters, save_best='AP', rule='greater'))
randomness = dict(seed=0)
