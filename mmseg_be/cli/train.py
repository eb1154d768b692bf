"""Train a segmentor: MMSeg's tools/train.py with mmseg_be registered.

Usage: ``python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
[--partial-load MODULE ...] [--cfg-options k=v ...] [--launcher pytorch]``;
several processes through ``tools/dist_train.sh CONFIG NPROC``.

The checkpoint a run starts from (``load_from``, or with ``--resume`` the
work dir's latest) is read before anything else: an empty, truncated or
foreign file stops the tool with a message naming it. A ``load_from``
checkpoint must fit the model exactly, apart from the parts
named by ``--partial-load`` or by the config's ``partial_load`` list (e.g.
``partial_load = ['decode_head.conv_seg']`` where a classifier of another
size is trained afresh). A class-prior file that a loss names and that does
not exist stops the tool before the model is built, with the
``tools/estimate_prior.py`` command that writes it.
"""
import argparse
import logging
import os.path as osp
from typing import List, Optional

import mmseg_be  # noqa: F401  (registers the package before configs load)
from mmseg_be.cli.common import (EXIT_CODES, add_common_args,
                                 add_partial_load_arg, check_checkpoint,
                                 load_config, run_tool)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train an MMSeg segmentor with the mmseg_be losses, '
        'transforms and metrics registered.', epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    add_partial_load_arg(parser)
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tool; exit status as in ``--help``."""
    args = parse_args(argv)
    return run_tool(lambda: _train(args))


def _train(args: argparse.Namespace) -> None:
    from mmengine.logging import print_log
    from mmengine.runner import Runner, find_latest_checkpoint
    from mmseg.registry import RUNNERS

    from mmseg_be.engine.checkpoint_fit import read_checkpoint

    cfg = load_config(args)
    check_prior_files(cfg, args.config)
    # The file the run starts from, as mmengine's Runner picks it: read
    # (and refused with its name) before the runner does any work.
    start = cfg.get('load_from')
    if args.resume and not start and osp.isdir(cfg.work_dir):
        start = find_latest_checkpoint(cfg.work_dir)
    checkpoint = read_checkpoint(start) if start else None
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        elif wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, '
                             f'but the config uses {wrapper}.')
    cfg.resume = args.resume
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if cfg.get('load_from') and not args.resume:
        partial = list(cfg.get('partial_load') or []) + args.partial_load
        check_checkpoint(runner.model, cfg.load_from, partial, args.config,
                         checkpoint)
    del checkpoint
    runner.train()


def check_prior_files(cfg, config: str) -> None:
    """Stop with the command that writes it if a loss's prior file is
    missing.

    The prior belongs to the in-distribution model the run starts from, so
    the command estimates it with ``load_from`` over the pipeline of the
    config, or of ``prior_estimate_config`` where the config names one (a
    recipe whose head does not fit that checkpoint, as the PAL recipe's
    20-output head).

    Raises:
        SettingsError: naming the file, its config key and the command.
    """
    from mmseg_be.apis import missing_prior_files
    from mmseg_be.models.losses.prior import missing_prior_message
    from mmseg_be.utils.errors import SettingsError
    missing = missing_prior_files(cfg.model)
    if not missing:
        return
    source = cfg.get('prior_estimate_config') or config
    checkpoint = cfg.get('load_from') or 'CHECKPOINT'
    lines = []
    for key, path in missing:
        lines.append(
            f'{missing_prior_message(path, source, checkpoint, key)}\n'
            f'or name another prior with --cfg-options {key}=... (the '
            'released prior, cityscapes-coco-released, was estimated with '
            'the released WideResNet38 network: docs/getting_started.md)')
    raise SettingsError('\n'.join(lines))


if __name__ == '__main__':
    main()
