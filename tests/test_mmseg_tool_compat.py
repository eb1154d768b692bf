"""MMSeg's own tools/test.py edits every test config of the project cleanly.

MMSeg's ``tools/test.py`` (shipped as ``mmseg/.mim/tools/test.py``) changes a
config before building the Runner: ``--show-dir`` needs
``default_hooks.visualization`` and sets ``visualizer.save_dir``; ``--out``
sets ``test_evaluator.output_dir`` and ``keep_results``. Here its own
``trigger_visualization_hook`` is applied to every benchmark, baseline and
demo config, then the evaluator and the visualizer are built from the edited
config as the Runner would (the datasets and models are not needed for
this; tests/tools/test_score_roundtrip.py runs the tool end to end).
"""
import glob
import importlib.util
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmseg
import mmseg_be  # noqa: F401
from mmseg.registry import METRICS, VISUALIZERS
from tests.helpers import REPO

LEAVES = sorted(
    glob.glob(osp.join(REPO, 'configs', 'benchmarks', '*.py')) +
    glob.glob(osp.join(REPO, 'configs', 'baselines', '*.py')) +
    glob.glob(osp.join(REPO, 'configs', 'demo', '*.py')))


def mmseg_test_tool():
    path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')
    spec = importlib.util.spec_from_file_location('mmseg_test_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('config', LEAVES,
                         ids=[osp.basename(p)[:-3] for p in LEAVES])
def test_mmseg_test_tool_out_and_show_dir_edits(config, tmp_path):
    tool = mmseg_test_tool()
    cfg = Config.fromfile(config)
    args = SimpleNamespace(show=False, show_dir=str(tmp_path / 'show'),
                           wait_time=2)
    cfg = tool.trigger_visualization_hook(cfg, args)   # raises if unusable
    cfg.test_evaluator['output_dir'] = str(tmp_path / 'out')
    cfg.test_evaluator['keep_results'] = True
    init_default_scope('mmseg')
    metric = METRICS.build(cfg.test_evaluator)
    assert metric.output_dir == str(tmp_path / 'out') and metric.keep_results
    visualizer = VISUALIZERS.build(dict(cfg.visualizer,
                                        name=f'vis_{tmp_path.name}'))
    if 'demo' not in config:
        # test-time pictures: an anomaly heat map of every image, drawn
        # with the config's score
        assert cfg.default_hooks.visualization.interval == 1
        assert type(visualizer).__name__ == 'AnomalyVisualizer'
        assert cfg.anomaly_score and any(
            h['type'] == 'AnomalyScoreHook' for h in cfg.custom_hooks)
