"""Walking the dicts of a config tree, and the CPU distributed run's
SyncBN -> BN that uses it."""
from mmengine.config import Config

from mmseg_be.cli.common import prepare_cpu_distributed
from mmseg_be.utils.config_nodes import config_dicts


def test_every_dict_with_its_cfg_options_key():
    tree = dict(a=dict(b=[dict(c=1), 2, (dict(d=3), )]), e=4)
    assert [key for key, _ in config_dicts(tree, 'model')] == [
        'model', 'model.a', 'model.a.b.0', 'model.a.b.2.0']
    assert [key for key, _ in config_dicts([dict()])] == ['0']
    # Changed in place while walking.
    for _, node in config_dicts(tree):
        node.pop('c', None)
    assert tree['a']['b'][0] == {}


def test_cpu_distributed_run_turns_sync_bn_into_bn():
    norm = dict(type='SyncBN', requires_grad=True)
    cfg = Config(dict(
        launcher='none',  # no process group is started here
        model=dict(backbone=dict(norm_cfg=dict(norm)),
                   decode_head=dict(norm_cfg=dict(norm)),
                   auxiliary_head=[dict(norm_cfg=dict(type='GN'))])))
    prepare_cpu_distributed(cfg)
    assert cfg.model.backbone.norm_cfg == dict(type='BN', requires_grad=True)
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
    assert cfg.model.auxiliary_head[0].norm_cfg.type == 'GN'
    assert cfg.model_wrapper_cfg.device_ids is None
