"""Time forward+backward of BalancedEnergyLoss against MMSeg's CE loss.

Both losses run on the same logits and labels (Cityscapes-like: 19 classes,
some void, a pasted outlier box labelled 254), in one process, alternating,
and the best of ``--repeats`` timings is kept. Peak extra memory is the peak
RSS growth (CPU) or the peak allocated CUDA memory above the inputs (GPU).

Usage::

    python benchmarks/bench_loss.py                      # 2x19x512x1024 CPU
    python benchmarks/bench_loss.py --size 2 19 128 256  # smaller
    python benchmarks/bench_loss.py --threads 1          # shared machine
    python benchmarks/bench_loss.py --device cuda --size 8 19 512 1024 --amp
"""
import argparse
import gc
import resource
import subprocess
import sys
import time
from typing import Callable, Dict, Tuple

import torch

import mmseg_be  # noqa: F401  (registers the losses)
from mmseg.registry import MODELS
from mmseg_be.models.losses import NAMED_PRIORS

CE = 'CrossEntropyLoss (mmseg)'
BAL = 'BalancedEnergyLoss (released)'


def make_inputs(size: Tuple[int, int, int, int],
                device: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Random logits and labels: 5% void, one outlier box of ~6% per image."""
    n, c, h, w = size
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(n, c, h, w, generator=gen) * 3
    label = torch.randint(0, c, (n, h, w), generator=gen)
    label[torch.rand(n, h, w, generator=gen) < 0.05] = 255
    label[:, h // 4:h // 2, w // 4:w // 2] = 254
    return logits.to(device), label.to(device)


def time_loss(loss_fn: Callable, logits: torch.Tensor, label: torch.Tensor,
              amp: bool) -> float:
    """Seconds of one forward+backward (the input copy is not timed)."""
    # Under autocast a head's output is fp16: the leaf mimics that.
    x = (logits.half() if amp else logits.clone()).requires_grad_()
    if x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.autocast(x.device.type, dtype=torch.float16, enabled=amp):
        loss = loss_fn(x, label, ignore_index=255)
    loss.backward()
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def peak_extra_memory(loss_fn: Callable, logits: torch.Tensor,
                      label: torch.Tensor, amp: bool) -> float:
    """Peak memory growth in MiB of one forward+backward.

    On CPU this must run in a fresh process (see ``--memory-of``): the RSS
    high-water mark never goes down, so a second loss would be hidden. The
    GPU figure includes the input copy and its gradient.
    """
    gc.collect()
    if logits.is_cuda:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        time_loss(loss_fn, logits, label, amp)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    # The input copy and its gradient (same size for every loss) are made
    # before the mark so only the loss's own buffers count.
    x = logits.clone().requires_grad_()
    x.grad = torch.zeros_like(x)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loss_fn(x, label, ignore_index=255).backward()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (after - before) / 1024


def build_case(size: Tuple[int, int, int, int], device: str
               ) -> Tuple[torch.Tensor, Dict[str, Callable],
                          Dict[str, torch.Tensor]]:
    """The logits, the two losses, and the labels each of them gets."""
    logits, label = make_inputs(size, device)
    c = size[1]
    released = list(NAMED_PRIORS['cityscapes-coco-released'])
    prior = released if c == 19 else [1.0 / c] * c
    losses = {
        CE: MODELS.build(dict(type='CrossEntropyLoss', avg_non_ignore=True)),
        BAL: MODELS.build(dict(type='BalancedEnergyLoss', prior=prior)),
    }
    # MMSeg's CE cannot take label 254: it sees those pixels as void, as in a
    # plain Cityscapes run.
    labels = {CE: torch.where(label == 254, 255, label), BAL: label}
    return logits, losses, labels


def memory_in_fresh_process(args: argparse.Namespace, name: str) -> float:
    """Run ``--memory-of name`` in a child process and read its answer."""
    cmd = [sys.executable, __file__, '--memory-of', name, '--device',
           args.device, '--size', *map(str, args.size)]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    if args.amp:
        cmd.append('--amp')
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, nargs=4,
                        default=[2, 19, 512, 1024],
                        metavar=('N', 'C', 'H', 'W'))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', action='store_true',
                        help='fp16 autocast (GPU)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s choice); '
                        '1 gives stable numbers on a shared machine')
    parser.add_argument('--memory-of', choices=[CE, BAL],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    logits, losses, labels = build_case(tuple(args.size), args.device)
    if args.memory_of:
        print(peak_extra_memory(losses[args.memory_of], logits,
                                labels[args.memory_of], args.amp))
        return
    if args.device == 'cpu':
        memory = {name: memory_in_fresh_process(args, name)
                  for name in losses}
    else:
        memory = {name: peak_extra_memory(fn, logits, labels[name], args.amp)
                  for name, fn in losses.items()}
    best = {name: float('inf') for name in losses}
    for _ in range(args.repeats):
        for name, fn in losses.items():
            best[name] = min(best[name],
                             time_loss(fn, logits, labels[name], args.amp))
    print(f'logits {tuple(args.size)} on {args.device}, amp={args.amp}, '
          f'threads={torch.get_num_threads()}, best of {args.repeats}')
    for name in losses:
        print(f'{name:32s} fwd+bwd {best[name] * 1e3:8.1f} ms   '
              f'peak extra memory {memory[name]:8.1f} MiB')
    ce, bal = best[CE], best[BAL]
    print(f'ratio BalancedEnergyLoss / CrossEntropyLoss: {bal / ce:.2f}x')


if __name__ == '__main__':
    main()
