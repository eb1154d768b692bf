"""The converter of released DeepWV3Plus checkpoints: every key of files with
the released names and shapes is accounted for, foreign files are refused.

The released names and shapes come from the released code
(``fixtures/deepwv3plus_released.json``, see ``released_wrn38.py``); the
model keys they must cover come from building the model of the config base
with MMSeg's registry, not from the converter's own table.
"""
import copy
import math
import os.path as osp

import pytest
import torch

import mmseg_be  # noqa: F401,I001
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from mmseg_be.models.released_checkpoints import (ConversionError,
                                                  convert_state_dict)
from tests.helpers import REPO
from tests.models import released_wrn38 as rw
from tests.models.test_deepwv3plus import (balanced_energy_file,
                                           nvidia_file)

# One pytest-xdist worker runs the released-network tests (make test uses
# --dist loadgroup), so the generated 137M-weight checkpoints are built once.
pytestmark = pytest.mark.xdist_group('wrn38')
MODEL_BASE = osp.join(REPO, 'configs', '_base_', 'models',
                      'deepwv3plus_wrn38-d8.py')
CRITERION = 'module.criterion.nll_loss.weight'


@pytest.fixture(scope='module')
def model_keys():
    """Keys and shapes of the config's model (19 and 20 outputs), built on
    the meta device by MMSeg's registry."""
    register_all_modules(init_default_scope=True)
    out = {}
    for outputs, head in ((19, 'DeepWV3PlusHead'),
                          (20, 'AbstentionDeepWV3PlusHead')):
        cfg = copy.deepcopy(Config.fromfile(MODEL_BASE).model)
        cfg.backbone.norm_cfg = cfg.decode_head.norm_cfg = dict(type='BN')
        cfg.decode_head.type = head
        with torch.device('meta'):
            model = MODELS.build(cfg)
        out[outputs] = {k: tuple(v.shape)
                        for k, v in model.state_dict().items()}
    return out


def check_accounts_for_every_key(conversion, file_state, model_keys):
    mapped, dropped = set(conversion.mapped), set(conversion.dropped)
    assert mapped.isdisjoint(dropped)
    assert mapped | dropped == set(file_state)
    # One released tensor per model tensor, each copied unchanged.
    assert sorted(conversion.mapped.values()) == sorted(model_keys)
    assert list(conversion.state_dict) == list(model_keys)
    for src, dst in conversion.mapped.items():
        assert conversion.state_dict[dst] is file_state[src]
        assert tuple(file_state[src].shape) == model_keys[dst]


def test_nvidia_checkpoint(model_keys):
    released = nvidia_file(rw.released_state_dict(19))
    conversion = convert_state_dict(released)
    assert conversion.source == 'nvidia' and conversion.num_outputs == 19
    assert list(conversion.dropped) == [CRITERION]
    assert conversion.added == {}
    check_accounts_for_every_key(conversion, released['state_dict'],
                                 model_keys[19])
    # The names of the released file, prefix included, as a user sees them.
    assert conversion.mapped['module.final.6.weight'] == \
        'decode_head.conv_seg.weight'
    assert conversion.mapped['module.mod7.block1.convs.bn3.0.running_var'] \
        == 'backbone.mod7.0.norm3.running_var'


@pytest.mark.parametrize('prefix', ['branch1.', 'module.branch1.'])
def test_pebal_and_balanced_energy_checkpoints(model_keys, prefix):
    state = rw.released_state_dict(20)
    released = {'model': {prefix + k: v for k, v in state.items()},
                'optimizer': {'state': {}, 'param_groups': []}, 'epoch': 19}
    for source in (None, 'pebal', 'balanced-energy'):
        conversion = convert_state_dict(released, source)
        assert conversion.source == (source or 'balanced-energy')
        assert conversion.num_outputs == 20 and conversion.dropped == {}
        check_accounts_for_every_key(conversion, released['model'],
                                     model_keys[20])


def test_nineteen_output_balanced_energy_checkpoint(model_keys):
    released = balanced_energy_file(rw.released_state_dict(19))
    conversion = convert_state_dict(released, 'balanced-energy')
    assert conversion.num_outputs == 19
    check_accounts_for_every_key(conversion, released['model'],
                                 model_keys[19])


def test_bare_state_dicts_are_told_apart_by_their_prefix():
    state = rw.released_state_dict(19)
    bare_nvidia = nvidia_file(state)['state_dict']
    assert convert_state_dict(bare_nvidia).source == 'nvidia'
    bare_be = balanced_energy_file(state)['model']
    assert convert_state_dict(bare_be).source == 'balanced-energy'


def test_add_abstention_keeps_the_classes_and_draws_a_new_row(model_keys):
    state = rw.released_state_dict(19)
    conversion = convert_state_dict(nvidia_file(state),
                                    add_abstention=True, seed=3)
    assert conversion.num_outputs == 20
    assert list(conversion.state_dict) == list(model_keys[20])
    classifier = conversion.state_dict['decode_head.conv_seg.weight']
    assert classifier.shape == (20, 256, 1, 1)
    assert torch.equal(classifier[:19], state['final.6.weight'])
    # Kaiming normal, fan-in 256: std sqrt(2/256) = 0.088 (256 draws).
    std = classifier[19].std().item()
    assert abs(std - math.sqrt(2 / 256)) < 0.2 * math.sqrt(2 / 256)
    assert 'decode_head.conv_seg.weight[19]' in conversion.added
    again = convert_state_dict(nvidia_file(state), add_abstention=True,
                               seed=3)
    assert torch.equal(again.state_dict['decode_head.conv_seg.weight'],
                       classifier)


def test_missing_batch_norm_counters_are_added_as_zero(model_keys):
    """Files of PyTorch < 0.4.1 have no num_batches_tracked."""
    state = {k: v for k, v in rw.released_state_dict(19).items()
             if not k.endswith('num_batches_tracked')}
    conversion = convert_state_dict(nvidia_file(state))
    counters = [k for k in model_keys[19] if k.endswith('tracked')]
    assert sorted(conversion.added) == sorted(counters)
    assert all(conversion.state_dict[k].item() == 0 for k in counters)


def replaced(key, value):
    state = dict(rw.released_state_dict(19))
    if value is None:
        del state[key]
    else:
        state[key] = value
    return nvidia_file(state)


@pytest.mark.parametrize('checkpoint,message', [
    ({'meta': {}, 'state_dict': {'backbone.conv1.weight': torch.zeros(1),
                                 'decode_head.conv_seg.weight':
                                 torch.zeros(1)}},
     'already an MMSeg checkpoint'),
    ({'state_dict': {'conv1.weight': torch.zeros(64, 3, 7, 7),
                     'fc.weight': torch.zeros(1000, 2048)}},
     'not part of the released DeepWV3Plus'),
    ({'optimizer': {}, 'epoch': 3}, 'no network weights found'),
    ([1, 2, 3], 'expected a dict'),
])
def test_foreign_files_are_refused(checkpoint, message):
    with pytest.raises(ConversionError, match=message):
        convert_state_dict(checkpoint)


def test_an_incomplete_checkpoint_is_refused():
    with pytest.raises(ConversionError,
                       match='decode_head.image_pool.1.conv.weight'):
        convert_state_dict(replaced('aspp.img_conv.0.weight', None))


def test_a_wrong_shape_is_refused():
    with pytest.raises(ConversionError,
                       match=r'decode_head.final.0.conv.weight: file '
                       r'\(256, 300, 3, 3\), model \(256, 304, 3, 3\)'):
        convert_state_dict(replaced('final.0.weight',
                                    torch.zeros(256, 300, 3, 3)))


def test_a_classifier_of_another_size_is_refused():
    with pytest.raises(ConversionError, match='21 outputs'):
        convert_state_dict(replaced('final.6.weight',
                                    torch.zeros(21, 256, 1, 1)))


def test_a_source_that_does_not_match_the_file_is_refused():
    released = balanced_energy_file(rw.released_state_dict(20))
    with pytest.raises(ConversionError, match='--source nvidia does not'):
        convert_state_dict(released, 'nvidia')
    with pytest.raises(ConversionError, match='already has 20 outputs'):
        convert_state_dict(released, add_abstention=True)
