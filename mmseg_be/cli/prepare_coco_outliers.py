"""Build the COCO outlier bank used by ``PasteOutliers``.

Example::

    python tools/prepare_coco_outliers.py data/coco data/coco_outliers \\
        --num-workers 8

Re-running the same command finishes an interrupted build (finished entries
are skipped). See docs/datasets.md for the layout and the bank format.
"""
import argparse
from typing import List, Optional

from mmseg_be.cli.common import EXIT_CODES, EXIT_ERROR, fail

from mmseg_be.outliers.coco import (CITYSCAPES_OVERLAP_CATEGORY_IDS,
                                    CocoOutlierSettings,
                                    build_coco_outlier_bank, format_summary)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Build an outlier bank (cropped COCO objects + masks) '
        'from COCO 2017 instance annotations, following the released '
        'PEBAL / balanced-energy rule by default.', epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('coco_root',
                        help='COCO root with annotations/instances_'
                        '{split}2017.json and {split}2017/*.jpg')
    parser.add_argument('out_dir', help='bank directory (e.g. '
                        'data/coco_outliers)')
    parser.add_argument('--split', default='train',
                        help='COCO split (default: train)')
    parser.add_argument(
        '--exclude-cat-ids', type=int, nargs='*',
        default=list(CITYSCAPES_OVERLAP_CATEGORY_IDS),
        help='an image containing ANY annotation of these categories is '
        'skipped (default: %(default)s = person, bicycle, car, motorcycle, '
        'bus, truck, traffic light, stop sign)')
    parser.add_argument('--min-image-side', type=int, default=480,
                        help='skip images whose shorter side is below this '
                        '(default: %(default)s)')
    parser.add_argument('--per-instance', action='store_true',
                        help='one entry per annotation (default: one entry '
                        'per image, the union of its masks = released)')
    parser.add_argument('--min-area', type=int, default=0,
                        help='skip entries whose mask has fewer pixels '
                        '(default: %(default)s)')
    parser.add_argument('--max-entries', type=int, default=None,
                        help='stop when the bank holds this many entries')
    parser.add_argument('--num-workers', type=int, default=0,
                        help='worker processes (default: 0 = in process)')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    args = parser.parse_args(argv)
    if args.max_entries is not None and args.max_entries < 1:
        parser.error('--max-entries must be >= 1')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    settings = CocoOutlierSettings(
        excluded_category_ids=tuple(sorted(set(args.exclude_cat_ids))),
        min_image_side=args.min_image_side,
        per_instance=args.per_instance,
        min_area=args.min_area,
        split=args.split)
    try:
        summary = build_coco_outlier_bank(
            args.coco_root, args.out_dir, settings,
            max_entries=args.max_entries, num_workers=args.num_workers,
            progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as e:
        fail(str(e))
    except RuntimeError as e:
        fail(str(e), EXIT_ERROR)
    print(format_summary(summary))
