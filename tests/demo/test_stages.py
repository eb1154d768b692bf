"""The demo's stage runner: stages of other settings are not reused, and a
tool's failure names its stage."""
from argparse import Namespace

import pytest

from demo.settings import FULL
from demo.stages import Demo


def make(work, seed=0, quick=False, force=False, **extra):
    return Demo(Namespace(work_dir=str(work), quick=quick, force=force,
                          seed=seed, **extra))


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
    from demo.settings import STUDY
    assert {k: FULL[k] for k in STUDY} == STUDY


def test_a_failing_tool_names_its_stage_and_log(tmp_path, monkeypatch):
    from mmseg_be.cli import train

    def tool(argv):
        print('something went wrong in', argv)
        raise SystemExit(3)

    monkeypatch.setattr(train, 'main', tool)
    demo = make(tmp_path)
    with pytest.raises(SystemExit) as err:
        demo.run('train inlier', ['train.py', 'cfg.py', '--cfg-options',
                                  'a=1'])
    message = str(err.value.code)
    assert 'stage train inlier failed (3)' in message
    assert 'train_inlier.log' in message
    assert 'something went wrong in' in message
    # the tool got its command line, with a fresh visualizer name first
    assert "'cfg.py', '--cfg-options', 'visualizer.name=demo_" in message


def test_a_logger_made_in_one_stage_writes_to_the_next_stages_log(
        tmp_path, monkeypatch):
    """A logging handler keeps the stream it was made with (MMEngine's
    logger takes sys.stdout when a tool first builds it): a message of a
    later stage lands in that stage's log, and no log holds a logging
    error."""
    import glob
    import logging

    from mmseg_be.cli import estimate_prior, train
    logger = logging.getLogger('test_demo_stage_logger')
    logger.propagate = False
    monkeypatch.setattr(logger, 'handlers', [])

    def first(argv):  # builds the handler, as MMEngine's first Runner does
        import sys
        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.warning('first stage')

    def second(argv):
        logger.warning('second stage')

    monkeypatch.setattr(train, 'main', first)
    monkeypatch.setattr(estimate_prior, 'main', second)
    demo = make(tmp_path)
    demo.run('train inlier', ['train.py'])
    demo.run('estimate prior', ['estimate_prior.py'])
    logs = tmp_path / 'logs'
    assert (logs / 'train_inlier.log').read_text() == 'first stage\n'
    assert (logs / 'estimate_prior.log').read_text() == 'second stage\n'
    for path in glob.glob(str(logs / '*.log')):
        with open(path) as f:
            assert 'Logging error' not in f.read(), path
