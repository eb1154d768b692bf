"""Test (and evaluate) a checkpoint: MMSeg's tools/test.py with mmseg_be.

Usage: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
[--out DIR] [--show-dir DIR [--vmin V --vmax V]] [--submission DIR
--method NAME --dataset-name AnomalyTrack-all] [--score NAME
--score-options k=v ...] [--partial-load MODULE ...] [--figures DIR]
[--cfg-options k=v ...] [--launcher pytorch]``; several processes through
``tools/dist_test.sh CONFIG CHECKPOINT NPROC``.

The flags mean what they mean in MMSeg's own ``tools/test.py``:

- ``--out``: keep the prediction results for offline use: the evaluator's
  ``output_dir`` (per image the evaluated anomaly-score map
  ``{stem}_anomaly.npy`` and the segmentation ``{stem}.png``, plus the curves
  and metrics of the run).
- ``--show-dir``: one anomaly heat-map picture per test image
  (:class:`~mmseg_be.visualization.AnomalyVisualizer`).

and this project adds:

- ``--submission``: a benchmark submission written while the test runs
  (:class:`~mmseg_be.export.SubmissionExportHook`; SMIYC by default).
- ``--score`` / ``--score-options``: override the config's one
  ``anomaly_score`` setting for the metric, the heat maps and the
  submission together.
- ``--figures``: ROC/PR figures per benchmark and a metrics summary
  (Markdown, CSV, JSON) after the test.
- ``--partial-load``: the checkpoint must fit the model exactly unless the
  parts that may stay as initialised are named here.
"""
import argparse
import os.path as osp
from typing import List, Optional

from mmengine.logging import print_log

import mmseg_be  # noqa: F401  (registers the package before configs load)
from mmseg_be.apis import without_missing_prior_files
from mmseg_be.scoring import describe_anomaly_score
from mmseg_be.cli.common import (EXIT_CODES, DeprecatedAlias,
                                 add_common_args, add_mapping_args,
                                 add_partial_load_arg, add_score_args,
                                 check_checkpoint, load_config,
                                 mapping_from_args, resolve_anomaly_score,
                                 run_tool)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test and evaluate an MMSeg segmentor with the mmseg_be '
        'metrics registered.', epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='keep the prediction results in this folder, as in MMSeg: per '
        'image the evaluated anomaly scores ({stem}_anomaly.npy) and the '
        'segmentation ({stem}.png), plus pixel_ood_curves.json')
    parser.add_argument(
        '--submission', metavar='DIR',
        help='write a benchmark submission of the test images into this '
        'folder (SMIYC HDF5 by default, see --submission-format)')
    parser.add_argument('--method', help='method name of the submission '
                        '(default: the config file name)')
    parser.add_argument('--submission-format', '--export-format',
                        action=DeprecatedAlias,
                        deprecated=['--export-format'],
                        choices=['smiyc', 'fishyscapes'], default='smiyc',
                        help='submission format (--export-format is the '
                        'deprecated spelling)')
    parser.add_argument('--dataset-name',
                        help='SMIYC dataset folder, e.g. AnomalyTrack-all')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace another method's submission in "
                        '--submission')
    add_score_args(parser)
    add_mapping_args(parser)
    parser.add_argument(
        '--show', action='store_true', help='show the painted predictions')
    parser.add_argument(
        '--show-dir',
        help='save an anomaly heat map for EVERY test image in this '
        'directory (relative paths land under the run\'s timestamped '
        'work dir)')
    parser.add_argument('--vmin', type=float,
                        help='heat maps: fixed colour range start (with '
                        '--vmax; default: each image to its 1st-99th score '
                        'percentiles)')
    parser.add_argument('--vmax', type=float,
                        help='heat maps: fixed colour range end')
    parser.add_argument('--heat-range', type=float, nargs=2,
                        action=DeprecatedAlias, deprecated=['--heat-range'],
                        replacement='--vmin VMIN --vmax VMAX',
                        metavar=('VMIN', 'VMAX'), help=argparse.SUPPRESS)
    parser.add_argument('--draw-seg', action='store_true',
                        help='add the predicted segmentation to the heat maps')
    parser.add_argument(
        '--threshold', metavar='T|tpr95:PATH|best_f1:PATH',
        help='heat maps: draw the final prediction (the segmentation with '
        'the anomaly class where the score >= T, or the threshold at 95%% '
        "TPR / best F1 of an earlier run's pixel_ood_curves.json)")
    parser.add_argument('--upscale', type=int, default=None,
                        help='heat maps: enlarge the panels by this factor')
    parser.add_argument(
        '--figures',
        help='write ROC/PR figures per benchmark and metrics_summary.'
        '{md,csv,json} into this directory')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of --show')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    add_partial_load_arg(parser)
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.heat_range:  # the deprecated spelling of --vmin/--vmax
        args.vmin, args.vmax = args.heat_range
    if (args.vmin is None) != (args.vmax is None):
        parser.error('--vmin and --vmax go together')
    return args


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
    vis = cfg.get('visualizer') or {}
    # Keep the config's name and backends; draw heat maps instead of masks.
    if vis.get('type') in (None, 'SegLocalVisualizer', 'AnomalyVisualizer'):
        vis['type'] = 'AnomalyVisualizer'
        vis['draw_seg'] = args.draw_seg
        if args.threshold is not None:
            vis['anomaly_threshold'] = args.threshold
        if args.upscale is not None:
            vis['upscale'] = args.upscale
        if args.vmin is not None:
            vis['vmin'], vis['vmax'] = args.vmin, args.vmax
    vis.setdefault('vis_backends', [dict(type='LocalVisBackend')])
    if args.show_dir:
        vis['save_dir'] = args.show_dir
    cfg.visualizer = vis


def _add_export_hook(cfg, args: argparse.Namespace) -> None:
    if cfg.get('test_cfg', {}).get('type') == 'MultiDatasetTestLoop':
        raise ValueError(
            '--submission writes one benchmark\'s submission; this config '
            'tests '
            'several (MultiDatasetTestLoop). Use the benchmark\'s own config '
            '(e.g. configs/_base_/datasets/smiyc_anomaly_track.py based).')
    mapping = mapping_from_args(args)
    hook = dict(
        type='SubmissionExportHook',
        out_dir=args.submission,
        method=args.method or osp.splitext(osp.basename(args.config))[0],
        format=args.submission_format,
        dataset=args.dataset_name,
        mapping=mapping.to_dict() if mapping is not None else None,
        calib_frames=args.calib_frames,
        overwrite=args.overwrite)
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [hook]


def _keep_results(cfg, out_dir: str) -> None:
    """What MMSeg's ``--out`` does: the evaluator keeps its results there.

    (A ``MultiDatasetTestLoop`` gives each benchmark a sub-folder of its
    name, from the same setting.)
    """
    evaluators = cfg.test_evaluator
    for evaluator in (evaluators if isinstance(evaluators, list) else
                      [evaluators]):
        evaluator['output_dir'] = out_dir
        evaluator['keep_results'] = True


def _drop_training(cfg) -> None:
    """Test without the training set on disk.

    MMSeg's visualization hook reads ``runner.iter``, which builds the train
    loop, and with it the train dataset, when a train config is present.
    """
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator'):
        cfg[key] = None


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tool; exit status as in ``--help``."""
    args = parse_args(argv)
    return run_tool(lambda: _test(args))


def _test(args: argparse.Namespace) -> None:
    from mmengine.runner import Runner

    from mmseg_be.engine.checkpoint_fit import read_checkpoint

    # Before any work: a missing, truncated or foreign file stops here.
    checkpoint = read_checkpoint(args.checkpoint)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    _drop_training(cfg)
    # Testing computes no loss: a prior file named by the training losses
    # need not exist here (e.g. evaluating on another machine).
    for path in without_missing_prior_files(cfg.model):
        print_log(f'The loss names the prior file {path}, which does not '
                  'exist; testing does not use it.', logger='current')
    if args.show or args.show_dir:
        _enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        _keep_results(cfg, args.out)
    if args.submission is not None:
        _add_export_hook(cfg, args)
    # After --cfg-options, before the Runner: one score for the metric, the
    # heat maps and the submission.
    settings = resolve_anomaly_score(cfg, args)
    print_log(f'Anomaly score: {describe_anomaly_score(settings)}',
              logger='current')
    runner = Runner.from_cfg(cfg)
    check_checkpoint(runner.model, args.checkpoint, args.partial_load,
                     args.config, checkpoint)
    del checkpoint
    metrics = runner.test()
    if args.figures:
        from mmseg_be.visualization.report import write_test_report
        method = args.method or osp.splitext(osp.basename(args.config))[0]
        written = write_test_report(runner, metrics, args.figures, method)
        runner.logger.info('Figures and summaries: ' + ', '.join(written))


if __name__ == '__main__':
    main()
