# OOD fine-tuning schedule shared by the Cityscapes + COCO-outlier configs:
# 8180 iterations ("8k" in the config names, as MMSeg names its iteration
# schedules), i.e. 20 released epochs at a total batch of 8 (4 GPUs x 2).
# A released epoch is the 2975 Cityscapes images plus 10% as many outlier
# samples (3272 samples); our PasteOutliers pastes into 1/11 of the draws
# instead, so the same number of samples is 20 * 3272 // 8 = 8180
# iterations. The poly schedule is sized for exactly these iterations (the
# release sized it for another count).
# Adam, lr 1e-5 (released).
# Validation on Fishyscapes Lost&Found val with PixelOODMetric; the best
# checkpoint by AP is kept.
finetune_iters = 8180
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-5, betas=(0.9, 0.999), weight_decay=0))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=finetune_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=finetune_iters,
                 val_interval=818)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=818,
                    max_keep_ckpts=2, save_best='AP', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=666)
