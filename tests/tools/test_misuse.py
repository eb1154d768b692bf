"""Every misuse stops a tool with exit status 2 and a message naming the fix.

A setting that would be silently overridden (a metric's own score), a
checkpoint whose classifier has another size, a backbone-only checkpoint
without ``--partial-load``; and the deprecated flag spellings, which still
work with a warning. The tools run in this process on the toy data.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg_be.cli import estimate_prior, export, test, train, visualize
from mmseg_be.cli.common import EXIT_USAGE
from tests.helpers import REPO, write_toy_ood_checkpoint


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('misuse')))


def state_of(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


@pytest.fixture(scope='module')
def five_class_checkpoint(toy):
    """The toy model's weights with a classifier of 5 outputs, not 4."""
    state = dict(state_of(toy['checkpoint']))
    for key in ('decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'):
        value = state[key]
        state[key] = torch.cat([value, value[:1]])
    path = osp.join(toy['root'], 'five.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def backbone_checkpoint(toy):
    state = {k: v for k, v in state_of(toy['checkpoint']).items()
             if k.startswith('backbone.')}
    path = osp.join(toy['root'], 'backbone.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    return path


def exit_code(main, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


def test_score_given_to_the_metric_is_refused(toy, tmp_path, capsys):
    code = exit_code(test.main, [
        toy['config'], toy['checkpoint'], '--work-dir', str(tmp_path),
        '--cfg-options', 'test_evaluator.score=max_logit'])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert 'test_evaluator names max_logit' in err
    assert "anomaly_score is energy" in err and '--score NAME' in err


def test_score_given_to_the_visualizer_is_refused(toy, tmp_path, capsys):
    code = visualize.main([
        toy['config'], toy['checkpoint'], toy['images'], '--show-dir',
        str(tmp_path), '--device', 'cpu', '--no-progress', '--cfg-options',
        'visualizer.anomaly_score.name=entropy'])
    assert code == EXIT_USAGE
    assert 'visualizer names entropy' in capsys.readouterr().err


def test_mis_sized_head_stops_test_visualize_and_export(
        toy, five_class_checkpoint, tmp_path, capsys):
    shapes = 'decode_head.conv_seg.weight (checkpoint (5,'
    code = exit_code(test.main, [toy['config'], five_class_checkpoint,
                                 '--work-dir', str(tmp_path / 'w')])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and shapes in err
    assert '--partial-load decode_head.conv_seg' in err
    assert visualize.main([
        toy['config'], five_class_checkpoint, toy['images'], '--show-dir',
        str(tmp_path / 'v'), '--device', 'cpu', '--no-progress']) == 2
    assert shapes in capsys.readouterr().err
    assert export.main([
        toy['config'], five_class_checkpoint, '--images', toy['images'],
        '--submission', str(tmp_path / 's'), '--method', 'm',
        '--dataset-name', 'AnomalyTrack-all', '--device', 'cpu',
        '--no-progress']) == 2
    assert shapes in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'v') and not osp.exists(tmp_path / 's')


def test_backbone_only_checkpoint_needs_partial_load(
        toy, backbone_checkpoint, tmp_path, capsys):
    code = exit_code(test.main, [toy['config'], backbone_checkpoint,
                                 '--work-dir', str(tmp_path / 'a')])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert '--partial-load auxiliary_head decode_head' in err
    # Named, the same checkpoint tests (the heads as initialised).
    assert test.main([toy['config'], backbone_checkpoint, '--work-dir',
                      str(tmp_path / 'b'), '--partial-load', 'decode_head',
                      'auxiliary_head']) == 0


def test_train_load_from_is_strict_and_reads_partial_load(
        toy, backbone_checkpoint, tmp_path, capsys):
    cfg = Config.fromfile(toy['config'])  # fine-tunes on pasted outliers
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = 1
    cfg.param_scheduler[0]['end'] = cfg.default_hooks.checkpoint.interval = 1
    cfg.load_from = backbone_checkpoint
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    assert exit_code(train.main, [config]) == EXIT_USAGE
    assert 'model weights missing' in capsys.readouterr().err
    cfg.partial_load = ['decode_head', 'auxiliary_head']
    cfg.dump(config)
    assert train.main([config]) == 0
    assert osp.isfile(tmp_path / 'work' / 'iter_1.pth')


def test_missing_checkpoint_is_a_usage_error(toy, tmp_path, capsys):
    code = exit_code(test.main, [toy['config'], str(tmp_path / 'no.pth'),
                                 '--work-dir', str(tmp_path)])
    assert code == EXIT_USAGE and 'no.pth' in capsys.readouterr().err


def test_old_spellings_still_work_with_a_warning(capsys):
    args = export.parse_args(['c', 'k', '--out', 'd', '--method', 'm',
                              '--format', 'fishyscapes'])
    assert (args.out, args.format) == ('d', 'fishyscapes')
    err = capsys.readouterr().err
    assert 'warning: --out is deprecated' in err and 'use --submission' in err
    assert 'use --submission-format' in err
    args = visualize.parse_args(['c', 'k', 'i', '--out-dir', 'v'])
    assert args.show_dir == 'v' and 'use --show-dir' in capsys.readouterr().err
    args = test.parse_args(['c', 'k', '--heat-range', '-2', '3',
                            '--export-format', 'fishyscapes'])
    assert (args.vmin, args.vmax, args.submission_format) == (
        -2.0, 3.0, 'fishyscapes')
    err = capsys.readouterr().err
    assert 'use --vmin' in err and 'use --submission-format' in err
    args = estimate_prior.parse_args(['c', 'k', '--out', 'p.json'])
    assert args.prior_file == 'p.json'
    assert 'use --prior-file' in capsys.readouterr().err
    # The current spellings do not warn.
    export.parse_args(['c', 'k', '--submission', 'd', '--method', 'm'])
    assert capsys.readouterr().err == ''


R101 = ('configs/balanced_energy/deeplabv3plus_r101-d8_balanced-energy_'
        '4xb2-8k_cityscapes-coco-512x1024.py')
PAL = ('configs/balanced_energy/deeplabv3plus_r101-d8_pal-balanced-energy_'
       '1xb8-8k_cityscapes-coco-900x900.py')
ZOO_R101 = ('checkpoints/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_'
            '20200606_114143-068fcfe9.pth')


@pytest.mark.parametrize('config', [R101, PAL])
def test_missing_prior_file_stops_train_with_the_command(
        config, tmp_path, monkeypatch, capsys):
    # A folder without the prior file (the configs name it relative to the
    # working directory, as the getting-started walk does).
    monkeypatch.chdir(tmp_path)
    code = exit_code(train.main, [osp.join(REPO, config)])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    prior = 'work_dirs/priors/deeplabv3plus_r101-d8_cityscapes-coco.json'
    # The PAL recipe's prior is estimated with the R-101 config, whose
    # 19-output head fits the zoo checkpoint.
    estimate = R101 if config == PAL else osp.join(REPO, config)
    assert f'The class prior file {prior} ' \
        '(model.decode_head.loss_decode.1.prior) does not exist' in err
    assert f'python tools/estimate_prior.py {estimate} {ZOO_R101} ' \
        f'--prior-file {prior}' in err
    assert 'model.decode_head.loss_decode.1.prior=...' in err


def test_released_prior_is_chosen_on_the_command_line(tmp_path,
                                                      monkeypatch):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmseg_be.cli.common import load_config
    monkeypatch.chdir(tmp_path)  # no prior file here
    args = train.parse_args([
        osp.join(REPO, R101), '--cfg-options',
        'model.decode_head.loss_decode.1.prior=cityscapes-coco-released'])
    cfg = load_config(args)
    train.check_prior_files(cfg, args.config)  # nothing missing
    init_default_scope('mmseg')
    loss = MODELS.build(cfg.model.decode_head.loss_decode[1])
    assert loss.prior_source == 'cityscapes-coco-released'
