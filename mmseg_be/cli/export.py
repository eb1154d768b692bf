"""``tools/export.py``: write a SegmentMeIfYouCan or Fishyscapes submission.

Usage::

    python tools/export.py CONFIG CHECKPOINT --submission DIR --method NAME
        [--submission-format smiyc|fishyscapes]
        [--dataset-name AnomalyTrack-all] [--images FILE|FOLDER|GLOB]
        [--score energy] [--device cpu] [--partial-load MODULE ...]
        [--mapping minmax --low L --high H | --mapping sigmoid --center C
         --scale S | --mapping identity] [--overwrite]

Without ``--images`` the images of the config's ``test_dataloader`` are
exported. Exit status: see :data:`EXIT_CODES` (also in ``--help``).
The model runs through :class:`mmseg_be.apis.AnomalyInferencer`.
"""
import argparse
import sys
from typing import List, Optional

from mmseg_be.cli.common import (EXIT_CODES, EXIT_NON_FINITE, EXIT_OK,
                                 EXIT_UNREADABLE, EXIT_USAGE,
                                 EXIT_WRITE_FAILED, DeprecatedAlias,
                                 add_inference_args, add_mapping_args,
                                 add_score_args, mapping_from_args,
                                 resolve_anomaly_score)
from mmseg_be.export import (ExportFolderError, ExportWriteError,
                             FolderBusyError)
from mmseg_be.scoring import NonFiniteScoreError

__all__ = ['EXIT_CODES', 'EXIT_NON_FINITE', 'EXIT_OK', 'EXIT_UNREADABLE',
           'EXIT_USAGE', 'EXIT_WRITE_FAILED', 'main', 'parse_args']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a benchmark submission (SMIYC HDF5 or Fishyscapes '
        'npy) from a checkpoint.', epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--submission', '--out', dest='out', required=True,
                        metavar='DIR', action=DeprecatedAlias,
                        deprecated=['--out'],
                        help='submission root (--out is the deprecated '
                        'spelling)')
    parser.add_argument('--method', required=True,
                        help='method name (a folder name in SMIYC)')
    parser.add_argument('--submission-format', '--format', dest='format',
                        action=DeprecatedAlias, deprecated=['--format'],
                        choices=['smiyc', 'fishyscapes'], default='smiyc',
                        help='submission format (--format is the deprecated '
                        'spelling)')
    parser.add_argument('--dataset-name',
                        help='SMIYC dataset folder, e.g. AnomalyTrack-all, '
                        'ObstacleTrack-all, LostAndFound-test')
    parser.add_argument('--images', help='an image file, folder or glob '
                        "(default: the config's test dataset)")
    parser.add_argument('--strip-suffix', default='',
                        help='removed from file stems to form frame ids')
    add_score_args(parser)
    add_mapping_args(parser)
    parser.add_argument('--fishyscapes-size', type=int, nargs=2,
                        default=[1024, 2048], metavar=('H', 'W'),
                        help='size of the Fishyscapes maps (0 0: input size)')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace another method's export in "
                        '--submission')
    add_inference_args(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import Config

    import mmseg_be  # noqa: F401  (registers the package)
    from mmseg_be.apis import AnomalyInferencer, collect_images
    from mmseg_be.apis.inferencer import dataset_image_paths
    from mmseg_be.export.run import export_images, make_exporter
    from mmseg_be.scoring import describe_anomaly_score
    from mmseg_be.utils import config_path

    args = parse_args(argv)
    try:
        mapping = mapping_from_args(args)
        cfg = Config.fromfile(config_path(args.config))
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        # The config's one anomaly-score setting (what tools/test.py
        # evaluates), overridden by --score/--score-options.
        anomaly_score = resolve_anomaly_score(cfg, args)
        if args.images:
            images = collect_images(args.images)
        else:
            images = dataset_image_paths(cfg)
        # The model first: a checkpoint that does not fit leaves no
        # submission folder behind.
        inferencer = AnomalyInferencer(args.config, args.checkpoint,
                                       args.device, anomaly_score,
                                       cfg_options=args.cfg_options,
                                       partial_load=args.partial_load)
        size = tuple(args.fishyscapes_size)
        exporter = make_exporter(
            args.out, args.method, args.format, args.dataset_name,
            describe_anomaly_score(anomaly_score), mapping,
            args.calib_frames, None if size == (0, 0) else size,
            args.overwrite)
        report = export_images(inferencer.predict_file, images, exporter,
                               args.strip_suffix,
                               progress=not args.no_progress)
    except NonFiniteScoreError as error:
        print(f'error: {error}', file=sys.stderr)
        return EXIT_NON_FINITE
    except (ExportFolderError, FolderBusyError, ValueError, KeyError,
            FileNotFoundError) as error:  # SettingsError is a ValueError
        print(f'error: {error}', file=sys.stderr)
        return EXIT_USAGE
    except ExportWriteError as error:
        print(f'error: {error}', file=sys.stderr)
        return EXIT_WRITE_FAILED
    print(f'{len(report.written)} frames exported, {len(report.resumed)} '
          f'already there (resumed), {len(report.failed)} unreadable; '
          f'submission in {args.out}')
    if report.failed:
        print('Unreadable images (skipped):', file=sys.stderr)
        for path, reason in report.failed:
            print(f'  {path}: {reason}', file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK
