"""Configs with an mmseg:: base load; unknown types fail in the registry."""
import pytest
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg.registry import MODELS
from mmseg_be.utils import config_path
from tests.helpers import TOY_CONFIG


def test_mmseg_scope_base_loads():
    cfg = Config.fromfile(TOY_CONFIG)
    # Values only the mmseg:: base provides, and our overrides on top.
    assert cfg.model.type == 'EncoderDecoder'
    assert cfg.model.backbone.type == 'ResNetV1c'
    assert cfg.model.backbone.depth == 18
    assert cfg.model.pretrained is None
    assert cfg.model.decode_head.num_classes == 4
    assert cfg.custom_imports == dict(imports=['mmseg_be'],
                                      allow_failed_imports=False)


def test_config_path_resolves_relative_to_configs():
    assert config_path('smoke/toy_deeplabv3plus_r18.py') == TOY_CONFIG
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        config_path('no_such.py')


def test_unregistered_type_fails_with_registry_error():
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.model.decode_head.loss_decode = dict(type='NotARegisteredLoss')
    with pytest.raises(KeyError, match='NotARegisteredLoss'):
        MODELS.build(cfg.model)
