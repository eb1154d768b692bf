"""``tools/export.py``: write a SegmentMeIfYouCan or Fishyscapes submission.

Usage::

    python tools/export.py CONFIG CHECKPOINT --submission DIR --method NAME
        [--format smiyc|fishyscapes] [--dataset-name AnomalyTrack-all]
        [--images FILE|FOLDER|GLOB] [--score energy] [--device cpu]
        [--mapping minmax --low L --high H | --mapping sigmoid --center C
         --scale S | --mapping identity] [--overwrite]

Without ``--images`` the images of the config's ``test_dataloader`` are
exported. Exit status: see :data:`EXIT_CODES` (also in ``--help``).
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import DictAction

from mmseg_be.cli.common import add_score_args, resolve_anomaly_score
from mmseg_be.scoring import NonFiniteScoreError
from .base import ExportFolderError
from .mapping import MAPPINGS, ScoreMapping
from .writer import ExportWriteError

EXIT_OK, EXIT_USAGE, EXIT_UNREADABLE, EXIT_WRITE_FAILED = 0, 2, 3, 4
EXIT_NON_FINITE = 5
EXIT_CODES = f'''exit status:
  {EXIT_OK}  every image was exported (or was already, on a resumed run)
  1  an unexpected error (Python traceback)
  {EXIT_USAGE}  bad arguments, missing config/checkpoint, or the output folder
     holds another export (use --overwrite)
  {EXIT_UNREADABLE}  some input images are unreadable (missing, truncated,
     corrupt): they were skipped, listed on stderr and in
     mmseg_be_export.json ("unreadable"); the rest was exported
  {EXIT_WRITE_FAILED}  the submission could not be written (e.g. no space left
     on device): frames already written are complete, no partial or
     temporary file is left; fix the cause and run the same command
     again to resume
  {EXIT_NON_FINITE}  a frame's anomaly scores are NaN or infinite (the frame
     and the count are named): the export stops there rather than
     write them; frames before it are complete
'''


def add_mapping_args(parser: argparse.ArgumentParser) -> None:
    """The SMIYC score-mapping flags (shared with tools/test.py)."""
    parser.add_argument('--mapping', choices=MAPPINGS,
                        help='SMIYC map into [0, 1]; default: minmax '
                        'calibrated on the first --calib-frames frames')
    parser.add_argument('--low', type=float, help='minmax: score -> 0')
    parser.add_argument('--high', type=float, help='minmax: score -> 1')
    parser.add_argument('--center', type=float, help='sigmoid: score -> 0.5')
    parser.add_argument('--scale', type=float, help='sigmoid: scale')
    parser.add_argument('--calib-frames', type=int, default=8,
                        help='frames that calibrate the default mapping')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a benchmark submission (SMIYC HDF5 or Fishyscapes '
        'npy) from a checkpoint.', epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--submission', '--out', dest='out', required=True,
                        metavar='DIR',
                        help='submission root (--out is accepted as an '
                        'alias)')
    parser.add_argument('--method', required=True,
                        help='method name (a folder name in SMIYC)')
    parser.add_argument('--format', choices=['smiyc', 'fishyscapes'],
                        default='smiyc')
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
                        help="replace another method's export in --out")
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda:0 if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def mapping_from_args(args: argparse.Namespace) -> Optional[ScoreMapping]:
    """The SMIYC mapping named on the command line, or None to calibrate."""
    if args.mapping is None:
        if any(v is not None
               for v in (args.low, args.high, args.center, args.scale)):
            raise ValueError('--low/--high/--center/--scale need --mapping.')
        return None
    if args.mapping == 'minmax' and args.low is None and args.high is None:
        return None  # calibrated
    return ScoreMapping(args.mapping, low=args.low, high=args.high,
                        center=args.center, scale=args.scale)


def main(argv: Optional[List[str]] = None) -> int:
    import torch
    from mmengine.config import Config

    import mmseg_be  # noqa: F401  (registers the package)
    from mmseg_be.scoring import describe_anomaly_score
    from mmseg_be.utils import config_path
    from mmseg_be.visualization.inference import collect_images
    from .inference import dataset_image_paths, load_model
    from .run import export_images, make_exporter

    args = parse_args(argv)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
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
        size = tuple(args.fishyscapes_size)
        exporter = make_exporter(
            args.out, args.method, args.format, args.dataset_name,
            describe_anomaly_score(anomaly_score), mapping,
            args.calib_frames, None if size == (0, 0) else size,
            args.overwrite)
        model = load_model(args.config, args.checkpoint, device,
                           args.cfg_options)
        report = export_images(model, images, exporter, anomaly_score,
                               args.strip_suffix,
                               progress=not args.no_progress)
    except NonFiniteScoreError as error:
        print(f'error: {error}', file=sys.stderr)
        return EXIT_NON_FINITE
    except (ExportFolderError, ValueError, KeyError,
            FileNotFoundError) as error:
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
