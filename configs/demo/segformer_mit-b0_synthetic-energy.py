# The demo with a SegFormer MiT-B0 (tools/demo.py --model segformer); the
# same stage as deeplabv3plus_r18-d16_synthetic-energy.py, whose notes follow.
# Baseline of the demo: fine-tune the in-distribution model on scenes with
# pasted synthetic outliers, with the OOD-aware cross-entropy plus 0.25 x the
# vanilla energy loss (Liu et al.): no class prior, uniform weights,
# the same margins. Evaluated with the energy score.
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '../_base_/models/demo_segformer_mit-b0.py',
    '../_base_/datasets/demo_synthetic_outliers.py',
    '../_base_/schedules/demo_finetune_300it.py',
]
custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)
# Over mmseg's default runtime: iteration-based logs, gloo for CPU runs.
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))

load_from = 'work_dirs/demo/inlier/iter_400.pth'
# The released margins (m_in -12, m_out -6) assume the logit scale of a
# Cityscapes model; the small demo model's energies live around -8..-2, so
# the margins are scaled to that range (see docs/demo.md).
energy_margins = dict(m_in=-7.0, m_out=-3.0)
# Weight 0.25 instead of the released 0.1 (beside a plain cross-entropy, not
# PAL): the demo fine-tunes a small model for 300 iterations only.
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='OODCrossEntropyLoss', loss_weight=1.0),
        dict(type='EnergyLoss', loss_weight=0.25, **energy_margins),
    ]))
