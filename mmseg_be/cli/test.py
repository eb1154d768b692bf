"""Test (and evaluate) a checkpoint: MMSeg's tools/test.py with mmseg_be.

Usage: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
[--show-dir DIR] [--cfg-options k=v ...] [--launcher pytorch]``; several
processes through ``tools/dist_test.sh CONFIG CHECKPOINT NPROC``.
"""
import argparse
from typing import List, Optional

import mmseg_be  # noqa: F401  (registers the package before configs load)
from mmseg_be.cli.common import add_common_args, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test and evaluate an MMSeg segmentor with the mmseg_be '
        'metrics registered.')
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='directory for the predictions written by the evaluator '
        '(output_dir of every test evaluator that accepts one)')
    parser.add_argument(
        '--show', action='store_true', help='show the painted predictions')
    parser.add_argument(
        '--show-dir',
        help='save a painted prediction for EVERY test image in this '
        'directory (relative paths land under the run\'s timestamped '
        'work dir)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of --show')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    add_common_args(parser)
    return parser.parse_args(argv)


def _enable_visualization(cfg, args: argparse.Namespace) -> None:
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError(
            '--show/--show-dir need a visualization hook in default_hooks, '
            "e.g. visualization=dict(type='SegVisualizationHook').")
    hook = hooks['visualization']
    hook['draw'] = True
    # MMSeg's default interval (50) saves only every 50th image.
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def main(argv: Optional[List[str]] = None) -> None:
    from mmengine.runner import Runner

    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        _enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        evaluators = cfg.test_evaluator
        for evaluator in (evaluators if isinstance(evaluators, list) else
                          [evaluators]):
            evaluator['output_dir'] = args.out
            evaluator['keep_results'] = True
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
