"""Check benchmark folders against their official releases.

For every dataset of CONFIG (train, val and test dataloaders, and each
benchmark of an all-benchmarks config), or for one DATA_ROOT read as
--dataset-type, print the release the folder matches, its frame count, the
anomaly pixel share and the label values; when no release matches, the
closest one and every difference (frame count, missing or foreign frame
ids, foreign label values, image sizes), each with the frames concerned.
Every label and image header is read once. A config or folder that cannot
be read is named (exit status 2) and the other folders are still checked.

examples:
  mmseg-be-check-datasets configs/benchmarks/deeplabv3plus_r101-d8_test-all-benchmarks.py
  mmseg-be-check-datasets data/fishyscapes/Static --dataset-type FishyscapesStaticDataset
  mmseg-be-check-datasets data/lost_and_found --dataset-type LostAndFoundDataset \\
      --dataset-options split=train --strict
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Iterator, List, Optional, Tuple

from mmengine.config import DictAction

import mmseg_be  # noqa: F401  (registers the datasets)
from mmseg_be.cli.common import (EXIT_CODES, EXIT_OK, EXIT_RELEASE_MISMATCH,
                                 EXIT_USAGE)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', help='a config (path or relative to '
                        'configs/) or, with --dataset-type, a data root')
    parser.add_argument('--dataset-type', help='dataset class to read '
                        'SOURCE as a data root, e.g. RoadAnomalyDataset')
    parser.add_argument('--dataset-options', nargs='+', action=DictAction,
                        default={}, help='extra dataset arguments with '
                        '--dataset-type, key=value (e.g. split=train)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--strict', action='store_true',
                        help=f'exit with status {EXIT_RELEASE_MISMATCH} when a '
                        'folder matches no known release')
    return parser.parse_args(argv)


def _dataset_cfgs(cfg) -> Iterator[Tuple[str, dict]]:
    """(name, dataset config) of every dataloader of a config, once each."""
    seen = set()
    found = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader:
            found.append((key, loader['dataset']))
    for bench in (cfg.get('test_cfg') or {}).get('benchmarks', []):
        found.append((bench['name'], bench['dataloader']['dataset']))
    for name, ds_cfg in found:
        key = repr(sorted((k, repr(v)) for k, v in dict(ds_cfg).items()
                          if k != 'pipeline'))
        if key not in seen:
            seen.add(key)
            yield name, dict(copy.deepcopy(ds_cfg))


def check_one(name: str, ds_cfg: dict) -> Tuple[str, bool]:
    """Build one dataset (no pipeline) and check it.

    Returns:
        tuple: The report text, and whether the folder matches no release.
    """
    from mmseg.registry import DATASETS

    from mmseg_be.datasets.releases import (RELEASES, format_check,
                                            match_release, releases_of,
                                            survey_dataset)
    ds_cfg = dict(ds_cfg, pipeline=[], lazy_init=False)
    ds_type = ds_cfg['type']
    root = str(ds_cfg.get('data_root', ''))
    title = ds_type if name == ds_type else f'{name}: {ds_type}'
    if ds_type not in RELEASES:
        return f'{title} ({root})\n  release:  no release table for this ' \
               'dataset type (not checked)', False
    ds_cfg['release_check'] = 'off'
    dataset = DATASETS.build(ds_cfg)
    survey = survey_dataset(dataset, read_labels=True)
    check = match_release(survey, releases_of(dataset))
    return format_check(title, root, survey, check), (
        check.closest is not None and check.matched is None)


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from mmseg_be.utils import config_path

    args = parse_args(argv)
    init_default_scope('mmseg')
    if args.dataset_type:
        if not osp.isdir(args.source):
            return _fail(f'data root {args.source} is not a folder')
        if DATASETS.get(args.dataset_type) is None:
            return _fail(f'unknown dataset type {args.dataset_type}')
        targets = [(args.dataset_type, dict(
            type=args.dataset_type, data_root=args.source,
            **args.dataset_options))]
    else:
        try:
            path = config_path(args.source)
        except FileNotFoundError:
            return _fail(f'config {args.source} not found (give a data '
                         'root with --dataset-type to check a folder)')
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        targets = list(_dataset_cfgs(cfg))
    mismatches, unreadable = 0, 0
    for name, ds_cfg in targets:
        try:
            text, mismatch = check_one(name, ds_cfg)
        except (FileNotFoundError, ValueError) as error:
            # The other folders are still checked; the status says it.
            print(f'error: {name}: {error}', file=sys.stderr)
            unreadable += 1
            continue
        print(text)
        mismatches += mismatch
    print(f'{mismatches} of {len(targets)} folders match no known release'
          + (f'; {unreadable} could not be read' if unreadable else ''))
    if unreadable:
        return EXIT_USAGE
    return EXIT_RELEASE_MISMATCH if (args.strict and mismatches) else EXIT_OK


def _fail(message: str) -> int:
    print(f'error: {message}', file=sys.stderr)
    return EXIT_USAGE


if __name__ == '__main__':
    sys.exit(main())
