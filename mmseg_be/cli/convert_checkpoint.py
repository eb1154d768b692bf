"""Convert a released WideResNet38 DeepLabV3+ checkpoint to an MMSeg one.

SRC is NVIDIA's Cityscapes checkpoint (semantic-segmentation, sdcnet branch:
the start of the released fine-tuning), PEBAL's released checkpoint or the
Balanced Energy release's. DST is an MMSeg checkpoint (``state_dict`` +
``meta`` with the Cityscapes classes and palette) for the
configs/benchmarks/deepwv3plus*_wrn38-d8_test-*.py configs and, from NVIDIA's
checkpoint with --add-abstention, the start of the released fine-tuning
recipe (configs/balanced_energy/deepwv3plus_wrn38-d8_pal-balanced-energy_*). Every key of
SRC is mapped or dropped with a reason (printed); anything else is an error
and nothing is written.

Exit status: 0 converted; 2 bad arguments or a file that is not such a
checkpoint (the message says why).
"""
import argparse
import hashlib
import io
import os
import os.path as osp
import pickle
import sys
from typing import List, Optional

import torch

from mmseg_be.engine.checkpoint_fit import checkpoint_file_problem
from mmseg_be.models.released_checkpoints import (SOURCES, ConversionError,
                                                  convert_state_dict,
                                                  describe)
from mmseg_be.utils.atomic_io import atomic_write_bytes

EXIT_OK, EXIT_BAD_INPUT = 0, 2
CONFIGS = {
    19: 'configs/benchmarks/deepwv3plus_wrn38-d8_test-*.py',
    20: 'configs/benchmarks/deepwv3plus-pal_wrn38-d8_test-*.py (or, as its '
        'start, configs/balanced_energy/deepwv3plus_wrn38-d8_pal-balanced-'
        'energy_1xb8-8k_cityscapes-coco-900x900.py)',
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='released checkpoint (.pth)')
    parser.add_argument('dst', help='MMSeg checkpoint to write (.pth)')
    parser.add_argument(
        '--source', default='auto', choices=('auto', ) + SOURCES,
        help="which release SRC is (default: auto, from the file's layout; "
        "PEBAL's and Balanced Energy's files are laid out alike, so auto "
        "records them as 'balanced-energy')")
    parser.add_argument(
        '--add-abstention', action='store_true',
        help="give a 19-output classifier PEBAL's abstention channel (a new "
        '20th output): the start of the released fine-tuning '
        '(configs/balanced_energy/deepwv3plus_wrn38-d8_pal-*)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the new abstention output (default 0)')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='load SRC with full unpickling (runs code stored in the file): '
        'only for a file from a source you trust that the safe loader '
        'refuses')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace DST if it exists')
    return parser.parse_args(argv)


def load_released(path: str, trust_pickle: bool = False) -> dict:
    """``torch.load`` of a released file, with errors that name it (the
    file checks of :func:`~mmseg_be.engine.checkpoint_fit.read_checkpoint`;
    the load itself may be trusted to unpickle objects)."""
    problem = checkpoint_file_problem(path)
    if problem is not None:
        raise ConversionError(f'{path}: {problem}')
    try:
        return torch.load(path, map_location='cpu',
                          weights_only=not trust_pickle)
    except pickle.UnpicklingError as error:
        raise ConversionError(
            f'{path}: the safe loader refuses an object stored in the file '
            f'({str(error).splitlines()[0]}); if you trust where the file '
            'comes from, add --trust-pickle') from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise ConversionError(
            f'{path}: not a readable PyTorch checkpoint (truncated, corrupt '
            f'or another format): {str(error).splitlines()[0]}') from None


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cityscapes_meta() -> dict:
    from mmseg.datasets import CityscapesDataset
    meta = CityscapesDataset.METAINFO
    return dict(classes=tuple(meta['classes']),
                palette=[list(c) for c in meta['palette']])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if osp.exists(args.dst) and not args.overwrite:
        print(f'{args.dst} exists; add --overwrite to replace it',
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if osp.abspath(args.src) == osp.abspath(args.dst):
        print('SRC and DST are the same file', file=sys.stderr)
        return EXIT_BAD_INPUT
    source = None if args.source == 'auto' else args.source
    try:
        checkpoint = load_released(args.src, args.trust_pickle)
        conversion = convert_state_dict(checkpoint, source,
                                        add_abstention=args.add_abstention,
                                        seed=args.seed)
    except ConversionError as error:
        message = str(error)
        if not message.startswith(args.src):
            message = f'{args.src}: {message}'
        print(message, file=sys.stderr)
        return EXIT_BAD_INPUT
    meta = dict(dataset_meta=cityscapes_meta(),
                converted_from=dict(file=osp.basename(args.src),
                                    sha256=sha256(args.src),
                                    **conversion.record()))
    buffer = io.BytesIO()
    torch.save(dict(meta=meta, state_dict=conversion.state_dict), buffer)
    folder = osp.dirname(osp.abspath(args.dst))
    os.makedirs(folder, exist_ok=True)
    atomic_write_bytes(args.dst, buffer.getbuffer())
    for line in describe(conversion):
        print(line)
    print(f'wrote {args.dst}; configs: {CONFIGS[conversion.num_outputs]}')
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
