"""The demo's stage runner: stages of other settings are not reused, and a
tool's failure names its stage."""
from argparse import Namespace

import pytest

from mmseg_be.demo.settings import FULL
from mmseg_be.demo.stages import Demo


def make(work, seed=0, quick=False, force=False, tools=None, **extra):
    return Demo(Namespace(work_dir=str(work), quick=quick, force=force,
                          seed=seed, **extra), tools or {})


def test_stages_of_other_settings_are_redone(tmp_path):
    assert not make(tmp_path).force  # a new work dir: nothing to redo
    assert not make(tmp_path).force  # the same settings: reuse
    assert make(tmp_path, seed=1).force  # another seed: redo
    # Interrupted before it completed: the work dir still holds stages of
    # the old settings, so the next run redoes them again.
    assert make(tmp_path, seed=1).force
    make(tmp_path, seed=1).record_settings()  # a run that completed
    assert not make(tmp_path, seed=1).force
    assert make(tmp_path, seed=1, quick=True).force  # other sizes: redo
    demo = make(tmp_path, seed=1, quick=True)
    demo.record_settings()
    assert not make(tmp_path, seed=1, quick=True).force
    assert make(tmp_path, seed=1, quick=True, force=True).force
    assert demo.s['size'] == (64, 128)


def test_another_model_redoes_the_stages_and_uses_its_configs(tmp_path):
    assert not make(tmp_path).force
    demo = make(tmp_path, model='segformer')
    assert demo.force
    assert all('segformer_mit-b0_synthetic-' in cfg for cfg in (
        demo.inlier_cfg, demo.balanced_cfg, demo.energy_cfg))
    demo.record_settings()
    assert not make(tmp_path, model='segformer').force
    # the default model's record is the one older work dirs have
    assert make(tmp_path, model='deeplabv3plus').force


def test_default_demo_uses_the_study_data_sizes():
    from mmseg_be.demo.settings import STUDY
    assert {k: FULL[k] for k in STUDY} == STUDY


def test_a_failing_tool_names_its_stage_and_log(tmp_path):
    def tool(argv):
        print('something went wrong in', argv)
        raise SystemExit(3)

    demo = make(tmp_path, tools={'train.py': tool})
    with pytest.raises(SystemExit) as err:
        demo.run('train inlier', ['train.py', 'cfg.py', '--cfg-options',
                                  'a=1'])
    message = str(err.value.code)
    assert 'stage train inlier failed (3)' in message
    assert 'train_inlier.log' in message
    assert 'something went wrong in' in message
    # the tool got its command line, with a fresh visualizer name first
    assert "'cfg.py', '--cfg-options', 'visualizer.name=demo_" in message
