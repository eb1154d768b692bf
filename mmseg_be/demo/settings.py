"""Sizes and schedules of the demo and its seed study, and their configs.

``FULL`` is the default demo (``tools/demo.py``), ``QUICK`` its ``--quick``
mode (CI sizes: the numbers are meaningless, the pipeline is not), ``STUDY``
the seed study's (``tools/demo_study.py``; 64x128 scenes so that its 18
fine-tuning runs fit in about an hour on 2 shared CPU cores).
"""
import os.path as osp

from mmseg_be.utils.paths import package_root

FULL = dict(num_train=160, num_val=10, num_anomaly=30, num_outliers=100,
            size=(128, 256), inlier_iters=250, finetune_iters=100,
            prior_samples=100)
QUICK = dict(num_train=8, num_val=2, num_anomaly=4, num_outliers=8,
             size=(64, 128), inlier_iters=4, finetune_iters=2,
             prior_samples=4)
STUDY = dict(num_train=160, num_val=10, num_anomaly=30, num_outliers=100,
             size=(64, 128), inlier_iters=250, prior_samples=100)

# The demo configs' prior sharpening and energy margins (the alpha rule of
# the diagnostics uses them).
GAMMA, M_IN, M_OUT = 3.0, -7.0, -3.0

#: The project's tools, run by the demo as subprocesses.
TOOLS = osp.join(package_root(), 'tools')
CONFIGS = osp.join(package_root(), 'configs', 'demo')
INLIER_CFG = osp.join(CONFIGS, 'deeplabv3plus_r18-d16_synthetic-inlier.py')
BALANCED_CFG = osp.join(CONFIGS,
                        'deeplabv3plus_r18-d16_synthetic-balanced-energy.py')
ENERGY_CFG = osp.join(CONFIGS, 'deeplabv3plus_r18-d16_synthetic-energy.py')
