"""Sizes and schedules of the demo and its seed study, and their configs.

``FULL`` is the default demo (``tools/demo.py``), ``QUICK`` its ``--quick``
mode (CI sizes: the numbers are meaningless, the pipeline is not), ``STUDY``
the seed study's (``tools/demo_study.py``). The demo and the study share
their data and schedules: 64x128 scenes, an in-distribution model of 400
iterations and fine-tuning of 300, which keep the default demo within 5
minutes on a 2-core CPU; the study fine-tunes as long as the demo and
validates on the way (its convergence curve), so the demo's report compares
its single run with the study's spread at the same point.
"""
import os.path as osp

#: The repository the demo runs from (configs/, docs/ beside demo/).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

FULL = dict(num_train=160, num_val=10, num_anomaly=30, num_outliers=100,
            size=(64, 128), inlier_iters=400, finetune_iters=300,
            prior_samples=100)
QUICK = dict(num_train=8, num_val=2, num_anomaly=4, num_outliers=8,
             size=(64, 128), inlier_iters=4, finetune_iters=2,
             prior_samples=4)
STUDY = {k: v for k, v in FULL.items() if k != 'finetune_iters'}

# The demo configs' prior sharpening and energy margins (the alpha rule of
# the diagnostics uses them).
GAMMA, M_IN, M_OUT = 3.0, -7.0, -3.0

CONFIGS = osp.join(REPO, 'configs', 'demo')
INLIER_CFG = osp.join(CONFIGS, 'deeplabv3plus_r18-d16_synthetic-inlier.py')
BALANCED_CFG = osp.join(CONFIGS,
                        'deeplabv3plus_r18-d16_synthetic-balanced-energy.py')
ENERGY_CFG = osp.join(CONFIGS, 'deeplabv3plus_r18-d16_synthetic-energy.py')
#: ``--model`` -> the configs of its three stages: (in-distribution,
#: balanced energy, vanilla energy). The seed study uses the default.
MODELS = {
    'deeplabv3plus': (INLIER_CFG, BALANCED_CFG, ENERGY_CFG),
    'segformer': tuple(
        osp.join(CONFIGS, f'segformer_mit-b0_synthetic-{stage}.py')
        for stage in ('inlier', 'balanced-energy', 'energy')),
}
DEFAULT_MODEL = 'deeplabv3plus'

#: One colour per method in every figure of the demo and its study.
COLORS = {'inlier_max_logit': '0.6', 'inlier': 'black', 'energy': 'tab:blue',
          'balanced_energy': 'tab:orange', 'uniform_prior': 'tab:purple'}
#: The names of the methods in the demo's table and figures.
LABELS = {'inlier_max_logit': 'in-distribution / max logit',
          'inlier': 'in-distribution / energy',
          'energy': 'vanilla energy fine-tuned / energy',
          'balanced_energy': 'balanced energy fine-tuned / energy',
          'uniform_prior': 'uniform-prior control fine-tuned / energy'}
