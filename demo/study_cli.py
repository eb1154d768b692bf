"""The demo over several seeds: is balanced energy better than vanilla energy
on the demo's synthetic setting, beyond the seed spread?

For every data seed: generate the data, train the in-distribution model
(evaluated with the energy score), estimate the outlier prior, print its
diagnostics (sharpened prior, effective number of classes, scaled alpha) and
how the in-distribution model classifies the test anomalies. Then, for every
fine-tuning seed, fine-tune with vanilla energy, balanced energy (estimated
prior, alpha='scaled') and the uniform-prior control (the balanced loss with
prior=None: class-independent margin and weights, the same largest shift),
validating every --val-interval iterations to see where AP stops moving.

Everything runs in this one process (the project's train and prior tools
called as functions: no start-up per run). The data and schedules are the
default demo's (demo/settings.py), so the demo's single run is one sample
of what the study measures.

Several workers may share one work dir (``--order reverse`` for a second
one): each run is claimed first, so none is done twice.

Each finished run is appended to results.jsonl at once (a partial study is
usable; re-running skips what is there); summary.md and study.png are
rewritten after every run: mean +- sd per method and the paired difference
balanced - vanilla with a 95% t-interval.
"""
import argparse
from typing import List, Optional

from .settings import FULL
from .study_runner import METHODS, Study


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo_study')
    parser.add_argument('--data-seeds', type=int, nargs='+',
                        default=[0, 1, 2])
    parser.add_argument('--ft-seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--inlier-iters', type=int,
                        default=FULL['inlier_iters'])
    parser.add_argument('--finetune-iters', type=int,
                        default=FULL['finetune_iters'])
    parser.add_argument('--val-interval', type=int,
                        default=max(1, FULL['finetune_iters'] // 5),
                        help='fine-tuning iterations between evaluations '
                        '(the convergence curve)')
    parser.add_argument('--methods', nargs='+', choices=METHODS[1:],
                        default=list(METHODS[1:]),
                        help='the fine-tuning methods to run')
    parser.add_argument('--order', choices=['forward', 'reverse'],
                        default='forward', help='a second worker on the '
                        'same work dir takes the runs from the other end')
    parser.add_argument('--tiny', action='store_true',
                        help='the demo\'s --quick sizes and 2 fine-tuning '
                        'iterations (tests); numbers meaningless')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    Study(parse_args(argv)).run()
