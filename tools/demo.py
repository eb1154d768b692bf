"""Smoke demo: generate a toy dataset, train a small DeepLabV3+, evaluate it.

Runs on a laptop CPU in about a minute with no download. Each stage is skipped
when its output exists (``--force`` redoes everything).
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_be.utils import config_path  # noqa: E402
from mmseg_be.utils.toy_data import write_toy_seg_dataset  # noqa: E402

TOOLS = osp.dirname(osp.abspath(__file__))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='where data, checkpoints and logs go')
    parser.add_argument('--iters', type=int, default=40,
                        help='training iterations')
    parser.add_argument('--quick', action='store_true',
                        help='a few iterations only (for CI)')
    parser.add_argument('--force', action='store_true',
                        help='redo every stage even if its output exists')
    return parser.parse_args()


def run_stage(name: str, cmd: list, log_path: str) -> str:
    print(f'[demo] {name}: {" ".join(cmd)}  (log: {log_path})', flush=True)
    with open(log_path, 'w') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    text = open(log_path).read()
    if proc.returncode != 0:
        sys.exit(f'[demo] {name} failed (exit {proc.returncode}); the end of '
                 f'{log_path}:\n' + text[-2000:])
    return text


def main():
    args = parse_args()
    iters = 4 if args.quick else args.iters
    os.makedirs(args.work_dir, exist_ok=True)
    data = osp.join(args.work_dir, 'data')
    if args.force or not osp.isdir(osp.join(data, 'ann_dir')):
        print('[demo] generating the toy dataset', flush=True)
        write_toy_seg_dataset(data, num_images=8, size=(64, 96), seed=0)
    config = config_path('smoke/toy_deeplabv3plus_r18.py')
    options = ['--cfg-options'] + [
        f'{k}_dataloader.dataset.data_root={data}'
        for k in ('train', 'val', 'test')
    ] + [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
         f'default_hooks.checkpoint.interval={iters}']
    train_dir = osp.join(args.work_dir, 'train')
    ckpt = osp.join(train_dir, f'iter_{iters}.pth')
    if args.force or not osp.isfile(ckpt):
        run_stage('train', [sys.executable, osp.join(TOOLS, 'train.py'),
                            config, '--work-dir', train_dir] + options,
                  osp.join(args.work_dir, 'train.log'))
    text = run_stage('test', [sys.executable, osp.join(TOOLS, 'test.py'),
                              config, ckpt, '--work-dir',
                              osp.join(args.work_dir, 'test')] + options,
                     osp.join(args.work_dir, 'test.log'))
    found = re.findall(r'Iter\(test\).*?aAcc: ([0-9.]+)\s+mIoU: ([0-9.]+)',
                       text)
    if not found:
        sys.exit('[demo] the test log holds no metrics; see test.log')
    acc, miou = found[-1]
    print(f'[demo] toy model after {iters} iterations: aAcc {acc}%, '
          f'mIoU {miou}%')


if __name__ == '__main__':
    main()
