"""The whole method end to end on a CPU, on data generated here.

Stages (each skipped when its output exists; --force redoes them):
  1. generate street scenes, an outlier bank of novel objects and an
     anomaly split (novel objects of other shapes on the road);
  2. train the in-distribution DeepLabV3+ on the scenes;
  3. estimate the outlier class prior with that model (tools/estimate_prior.py)
     and print its diagnostics: the prior sharpened with gamma 3, the
     effective number of classes (1/sum p^2) of both, the scaled alpha, and
     the class the in-distribution model gives each test-anomaly pixel;
  4. fine-tune with pasted outliers + the balanced energy loss
     (alpha='scaled', see docs/method.md);
  5. fine-tune the same way with vanilla energy regularization (baseline);
  6. evaluate the in-distribution model (max logit, energy) and both
     fine-tuned models (energy) on the anomaly split; ROC/PR figures and a
     SegmentMeIfYouCan-format export of the balanced model, then its heat
     maps with the final prediction at the evaluation's 95%-TPR threshold;
  7. print a results table and the targets (AUROC >= 95%, AP >= 40% for
     each fine-tuned model) and write report.md in the work dir, with this
     run's balanced - vanilla AP set against the seed spread measured by
     tools/demo_study.py (docs/demo_study.json of the checkout).
"""
import argparse
from typing import List, Optional

from .settings import DEFAULT_MODEL, MODELS
from .stages import Demo


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='data, checkpoints, logs and report.md go here')
    parser.add_argument('--quick', action='store_true',
                        help='tiny data and a few iterations (CI); the '
                        'numbers are then meaningless, the pipeline is not')
    parser.add_argument('--force', action='store_true',
                        help='redo every stage even if its output exists')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data generator and the training')
    parser.add_argument('--model', choices=sorted(MODELS),
                        default=DEFAULT_MODEL,
                        help='the segmentor: DeepLabV3+ R-18 (default, the '
                        'one the seed study measured) or a SegFormer MiT-B0 '
                        '(configs/demo/segformer_mit-b0_*)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    Demo(parse_args(argv)).main()
