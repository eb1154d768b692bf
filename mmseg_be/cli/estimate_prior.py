"""Estimate the class prior of the pasted outliers as a model sees them.

Runs the in-distribution CHECKPOINT over samples of CONFIG's training
pipeline (which must paste outliers) and writes a prior JSON that
``BalancedEnergyLoss(prior='path/to/prior.json')`` reads.
"""
import argparse
import os
from typing import List, Optional

from mmengine.config import DictAction

import mmseg_be  # noqa: F401  (registers the package before configs load)
from mmseg_be.cli.common import (EXIT_CODES, DeprecatedAlias,
                                 add_partial_load_arg, fail, run_tool)
from mmseg_be.constants import OUTLIER_LABEL


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config whose train pipeline pastes '
                        'outliers (a path or relative to configs/)')
    parser.add_argument('checkpoint', help='in-distribution checkpoint: a '
                        'file or a model-zoo URL (downloaded by mmengine)')
    parser.add_argument('--prior-file', '--out', dest='prior_file',
                        default='prior.json', action=DeprecatedAlias,
                        deprecated=['--out'],
                        help='output JSON (default: prior.json; --out is the '
                        'deprecated spelling)')
    parser.add_argument('--num-samples', type=int, default=1000,
                        help='samples to draw (the paper used 10000)')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda:0 if available, '
                        'as in the other tools)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--soft', action='store_true',
                        help='sum softmax probabilities instead of counting '
                        'argmax classes')
    parser.add_argument('--paste-prob', type=float, default=1.0,
                        help='override PasteOutliers prob while estimating '
                        '(default 1.0: every sample carries outliers); a '
                        'negative value keeps the config\'s')
    parser.add_argument('--num-classes', type=int, default=None,
                        help='in-distribution classes C (default: the '
                        'dataset\'s class count; extra model channels, e.g. '
                        'an abstention channel, are dropped)')
    parser.add_argument('--ood-index', type=int, default=OUTLIER_LABEL)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_partial_load_arg(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tool; exit status as in ``--help``."""
    args = parse_args(argv)
    return run_tool(lambda: _estimate(args))


def _estimate(args: argparse.Namespace) -> None:
    from mmengine.config import Config

    from mmseg_be.apis import (AnomalyInferencer, estimate_prior,
                               without_missing_prior_files, write_prior_json)
    from mmseg_be.apis.prior_estimation import build_pasting_dataset
    from mmseg_be.utils import config_path

    cfg = Config.fromfile(config_path(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if '://' not in args.checkpoint and not os.path.isfile(args.checkpoint):
        fail(f'checkpoint {args.checkpoint} not found')
    dataset = build_pasting_dataset(
        cfg, None if args.paste_prob < 0 else args.paste_prob)
    classes = list(dataset.metainfo.get('classes') or [])
    num_classes = args.num_classes or (len(classes) or None)
    for path in without_missing_prior_files(cfg.model):
        print(f'note: the config\'s loss names the prior file {path}, which '
              'does not exist yet; the losses are not used here')
    model = AnomalyInferencer(cfg, args.checkpoint, args.device,
                              partial_load=args.partial_load).model
    result = estimate_prior(model, dataset, num_samples=args.num_samples,
                            batch_size=args.batch_size, seed=args.seed,
                            mode='soft' if args.soft else 'argmax',
                            ood_index=args.ood_index,
                            num_classes=num_classes)
    names = classes[:len(result['prior'])] if classes else None
    write_prior_json(args.prior_file, result, names, args.config,
                     args.checkpoint)
    width = max(len(n) for n in names) if names else 5
    print(f'prior over {result["num_pixels"]} outlier pixels of '
          f'{result["num_samples"]} samples ({result["mode"]}):')
    for i, p in enumerate(result['prior']):
        name = names[i] if names else str(i)
        print(f'  {name:<{width}}  {p:.4f}')
    print(f'written to {args.prior_file}')


if __name__ == '__main__':
    main()
