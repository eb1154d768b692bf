"""``tools/visualize.py``: anomaly heat maps of image files.

Usage::

    python tools/visualize.py CONFIG CHECKPOINT IMAGES --show-dir DIR
        [--score energy] [--norm image|dataset|fixed] [--vmin V --vmax V]
        [--cmap inferno] [--draw-seg] [--threshold T|tpr95:PATH|best_f1:PATH]
        [--upscale K] [--min-height PX] [--columns N] [--save-scores]
        [--device cpu] [--partial-load MODULE ...]

``IMAGES`` is an image file, a folder (searched recursively) or a quoted
glob. One ``{stem}.png`` per image (titled panels: input | heat map |
[prediction or final prediction] | colour bar), and ``{stem}.npy`` raw
float32 scores with ``--save-scores``; drawn by
:func:`mmseg_be.apis.visualize_images` with an
:class:`~mmseg_be.apis.AnomalyInferencer`.
Exit status as for every tool (``--help``): 3 when some images could not be
read (they are listed), 2 for bad arguments or settings.
"""
import argparse
import sys
from typing import List, Optional

from mmseg_be.apis.heat_maps import NORMALIZATIONS
from mmseg_be.cli.common import (EXIT_CODES, EXIT_OK, EXIT_UNREADABLE,
                                 EXIT_USAGE, DeprecatedAlias,
                                 add_inference_args, add_score_args,
                                 score_overrides)
from mmseg_be.visualization.colormap import COLORMAPS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw anomaly heat maps of images with a checkpoint.',
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (a path, or relative to '
                        "the project's configs/ folder)")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', help='an image file, a folder or a glob')
    parser.add_argument('--show-dir', '--out-dir', dest='show_dir',
                        required=True, action=DeprecatedAlias,
                        deprecated=['--out-dir'],
                        help='folder of the heat maps (--out-dir is the '
                        'deprecated spelling)')
    add_score_args(parser)
    parser.add_argument('--norm', choices=NORMALIZATIONS, default='image',
                        help='colour range: per image, one for all images '
                        '(two passes), or fixed by --vmin/--vmax')
    parser.add_argument('--vmin', type=float, help='fixed range start')
    parser.add_argument('--vmax', type=float, help='fixed range end')
    parser.add_argument('--percentiles', type=float, nargs=2,
                        default=[1.0, 99.0], metavar=('LOW', 'HIGH'),
                        help='percentiles of the image/dataset range')
    parser.add_argument('--cmap', choices=COLORMAPS, default='inferno')
    parser.add_argument('--draw-seg', action='store_true',
                        help='add the predicted segmentation panel')
    parser.add_argument(
        '--threshold', metavar='T|tpr95:PATH|best_f1:PATH',
        help='draw the final prediction: the segmentation with the anomaly '
        'class (white) where the score >= T; or the threshold at 95%% TPR / '
        "best F1 of an evaluation's pixel_ood_curves.json (PATH: the file "
        'or its folder, written by tools/test.py --out DIR)')
    parser.add_argument('--upscale', type=int, default=1,
                        help='enlarge the panels by this integer factor')
    parser.add_argument('--min-height', type=int, default=0,
                        help='enlarge small images to at least this panel '
                        'height (integer factor)')
    parser.add_argument('--columns', type=int, default=0,
                        help='panels per row (default: one row)')
    parser.add_argument('--no-titles', action='store_true',
                        help='panels without titles')
    parser.add_argument('--save-scores', action='store_true',
                        help='also save the raw scores as .npy')
    add_inference_args(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    import mmseg_be  # noqa: F401  (registers the package)
    from mmseg_be.apis import (AnomalyInferencer, collect_images,
                               visualize_images)

    args = parse_args(argv)
    if args.norm == 'fixed' and (args.vmin is None or args.vmax is None):
        print('error: --norm fixed needs --vmin and --vmax', file=sys.stderr)
        return EXIT_USAGE
    try:
        images = collect_images(args.images)
        # The config's anomaly_score with --score/--score-options on top;
        # the threshold is resolved (and checked) here, before any image.
        inferencer = AnomalyInferencer(
            args.config, args.checkpoint, args.device,
            anomaly_score=score_overrides(args), threshold=args.threshold,
            cfg_options=args.cfg_options, partial_load=args.partial_load)
    except (FileNotFoundError, ValueError, KeyError) as error:
        # SettingsError (a score conflict, a checkpoint that does not fit)
        # is a ValueError.
        print(f'error: {error}', file=sys.stderr)
        return EXIT_USAGE
    report = visualize_images(
        inferencer, images, args.show_dir, norm=args.norm, vmin=args.vmin,
        vmax=args.vmax, percentiles=tuple(args.percentiles), cmap=args.cmap,
        draw_seg=args.draw_seg, save_scores=args.save_scores,
        progress=not args.no_progress, upscale=args.upscale,
        min_height=args.min_height, columns=args.columns,
        titles=not args.no_titles)
    extra = (f', range [{report.value_range[0]:.4g}, '
             f'{report.value_range[1]:.4g}]' if report.value_range else '')
    print(f'{len(report.written)} heat maps written to {args.show_dir}'
          f'{extra}; {len(report.score_files)} score maps; '
          f'{len(report.failed)} images skipped')
    if report.failed:
        print('Unreadable images (skipped):', file=sys.stderr)
        for path, reason in report.failed:
            print(f'  {path}: {reason}', file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK
