"""The released network in MMSeg: logits equal the released DeepWV3Plus's.

Oracle: the released code itself. ``fixtures/deepwv3plus_released.json``
(the names and shapes of the released ``DeepWV3Plus(19)`` state dict, in
order) and ``fixtures/deepwv3plus_released_logits.npz`` were produced by
running ``segmentation/code/model/wide_network.py`` of the Balanced_Energy
release (identical to PEBAL's) unmodified, in a scratch folder outside this
repository, on CPU in float64: ``DeepWV3Plus(19)`` and ``DeepWV3Plus(20)``
loaded (strict) with the weights of :func:`released_wrn38.released_value`,
in eval mode, on :func:`released_wrn38.fixture_input`; the logits sampled
with ``released_wrn38.SAMPLE``. Only numbers were kept.

Here the same weights go through the checkpoint converter in the layouts of
the released files (NVIDIA's ``{'state_dict': {'module.' ...}}`` with its
loss weights; Balanced Energy's ``{'model': {'branch1.' ...}}``) and are
loaded strictly into the model the config base builds.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch

import mmseg_be  # noqa: F401,I001  (first: installs the mmcv-lite stand-in)
from mmengine.config import Config
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from mmseg_be.models.released_checkpoints import convert_state_dict
from tests.helpers import REPO
from tests.models import released_wrn38 as rw

# One pytest-xdist worker runs the released-network tests (make test uses
# --dist loadgroup), so the generated 137M-weight checkpoints are built once.
pytestmark = pytest.mark.xdist_group('wrn38')
MODEL_BASE = osp.join(REPO, 'configs', '_base_', 'models',
                      'deepwv3plus_wrn38-d8.py')
REL_TOL = 1e-6


def nvidia_file(state):
    """The layout of NVIDIA's cityscapes_best.pth."""
    weights = {'module.' + k: v for k, v in state.items()}
    weights['module.criterion.nll_loss.weight'] = torch.ones(19)
    return {'state_dict': weights, 'epoch': 175, 'mean_iu': 0.81}


def balanced_energy_file(state):
    """The layout of the PEBAL / Balanced Energy releases."""
    return {'model': {'branch1.' + k: v for k, v in state.items()},
            'epoch': 19, 'iteration': 0}


def build_model(abstention: bool, state):
    """The config base's model holding ``state`` itself (built on the meta
    device, the tensors assigned: no initialisation, no copy)."""
    register_all_modules(init_default_scope=True)
    cfg = copy.deepcopy(Config.fromfile(MODEL_BASE).model)
    cfg.backbone.norm_cfg = cfg.decode_head.norm_cfg = dict(type='BN')
    if abstention:
        cfg.decode_head.type = 'AbstentionDeepWV3PlusHead'
    with torch.device('meta'):
        model = MODELS.build(cfg)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


def max_rel_diff(ours: np.ndarray, released: np.ndarray) -> float:
    return float(np.abs(ours - released).max() / np.abs(released).max())


@pytest.mark.parametrize('num_outputs', [19, 20])
def test_logits_equal_the_released_network(num_outputs):
    state = rw.released_state_dict(num_outputs)
    released_file = (nvidia_file(state) if num_outputs == 19
                     else balanced_energy_file(state))
    conversion = convert_state_dict(released_file)
    assert conversion.num_outputs == num_outputs
    model = build_model(num_outputs == 20, conversion.state_dict)
    assert next(model.parameters()).dtype == torch.float64
    x = rw.fixture_input()
    with torch.no_grad():
        raw = model.decode_head.forward(model.extract_feat(x))
        logits = resize(raw, size=x.shape[2:], mode='bilinear',
                        align_corners=True)
        predicted = model.encode_decode(
            x, [dict(img_shape=x.shape[2:], pad_shape=x.shape[2:])])
    released = rw.released_logits(num_outputs)
    assert released.shape == (1, num_outputs, 25, 39)
    assert np.abs(released).max() > 10  # the fixture is not degenerate
    ours = logits[rw.SAMPLE].numpy()
    assert max_rel_diff(ours, released) <= REL_TOL
    # What MMSeg predicts (and every score sees): the 19 class logits.
    assert predicted.shape[1] == 19
    assert max_rel_diff(predicted[rw.SAMPLE].numpy(),
                        released[:, :19]) <= REL_TOL


def test_a_wrong_weight_is_detected():
    """The comparison can fail: one BN statistic off by 1 % breaks it."""
    state = dict(rw.released_state_dict(19))
    key = 'mod5.block2.convs.bn2.0.running_var'
    state[key] = state[key] * 1.01
    conversion = convert_state_dict(nvidia_file(state))
    model = build_model(False, conversion.state_dict)
    x = rw.fixture_input()
    with torch.no_grad():
        logits = model.encode_decode(
            x, [dict(img_shape=x.shape[2:], pad_shape=x.shape[2:])])
    assert max_rel_diff(logits[rw.SAMPLE].numpy(),
                        rw.released_logits(19)) > 1e-4
