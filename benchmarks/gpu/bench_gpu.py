"""GPU measurement: losses, a DeepLabV3+ R-101 training iteration, exact
evaluation on the device. Each figure is a ratio against a baseline timed in
the same run.

1. ``BalancedEnergyLoss`` vs MMSeg's ``CrossEntropyLoss``, forward+backward on
   2x19x512x1024 logits, fp32 and fp16 autocast (target <= 1.2x).
2. DeepLabV3+ R-101 (the balanced-energy config) training iteration at
   512x1024, batch 2: OOD-aware CE only vs CE + balanced energy (target
   <= 1.05x), with peak memory.
3. ``PixelOODAccumulator`` fed CUDA tensors, 100 frames of 1024x2048 float32
   scores: per-frame reduction on the device, compute on the host; equal to
   the numpy path on the same frames; per-frame cost against the model's
   forward pass (backbone and heads, no resize) at 1024x2048 (target:
   evaluation adds < 5%).
4. The paper's recipe on the released WideResNet38 DeepLabV3+
   (``deepwv3plus_wrn38-d8_pal-balanced-energy``: PAL + balanced energy,
   trunk and ASPP frozen): one training iteration at 900x900, batch 8 (the
   released batch on one GPU) and batch 2, against a no-gradient forward
   pass of the same batch, and inference at 1024x2048 (a whole Cityscapes
   frame, the released evaluation), each with peak memory.

Usage (see README.md; ``run.sh`` installs the dependencies offline)::

    python benchmarks/gpu/bench_gpu.py --device cuda          # < 8 minutes
    python benchmarks/gpu/bench_gpu.py --device cpu --small   # smoke test
"""
import argparse
import copy
import json
import os.path as osp
import sys
import time
from typing import Callable, Dict, List

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
sys.path.insert(0, ROOT)

import mmseg_be  # noqa: E402,F401  (registers the losses and models)
from bench_loss import BAL, CE, build_case, time_loss  # noqa: E402
from mmseg_be.apis import without_missing_prior_files  # noqa: E402
from mmseg_be.evaluation import PixelOODAccumulator  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'balanced_energy', 'deeplabv3plus_r101-'
                  'd8_balanced-energy_4xb2-8k_cityscapes-coco-512x1024.py')
RECIPE = osp.join(ROOT, 'configs', 'balanced_energy', 'deepwv3plus_wrn38-'
                  'd8_pal-balanced-energy_1xb8-8k_cityscapes-coco-900x900.py')


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def peak_mib(device: str) -> float:
    if not device.startswith('cuda'):
        return float('nan')
    return torch.cuda.max_memory_allocated() / 2**20


def reset_peak(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def best_of(fn: Callable[[], float], repeats: int) -> float:
    fn()  # warm-up (kernels, allocator)
    return min(fn() for _ in range(repeats))


def bench_losses(size, device: str, repeats: int) -> List[dict]:
    logits, losses, labels = build_case(tuple(size), device)
    rows = []
    for amp in (False, True):
        if amp and not device.startswith('cuda'):
            continue
        t = {name: best_of(lambda: time_loss(fn, logits, labels[name], amp),
                           repeats) for name, fn in losses.items()}
        rows.append(dict(amp=amp, ce_ms=t[CE] * 1e3, bal_ms=t[BAL] * 1e3,
                         ratio=t[BAL] / t[CE]))
        print(f'loss {tuple(size)} amp={amp}: CrossEntropyLoss '
              f'{t[CE] * 1e3:.2f} ms, BalancedEnergyLoss {t[BAL] * 1e3:.2f} '
              f'ms, ratio {t[BAL] / t[CE]:.2f}x (target <= 1.2x)', flush=True)
    return rows


def build_model(with_energy: bool, depth: int, hw, device: str):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmseg.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pretrained = None
    model_cfg.backbone.depth = depth
    if depth < 50:
        # smoke-test size: a ResNet with BasicBlocks and thin heads
        model_cfg.decode_head.update(in_channels=512, c1_in_channels=64,
                                     channels=64, c1_channels=16)
        model_cfg.auxiliary_head.update(in_channels=256, channels=64)
    model_cfg.data_preprocessor.size = tuple(hw)
    # the configs' prior file, estimated with their own checkpoint, is
    # not needed for timing: a missing one is dropped (uniform prior, the
    # same cost)
    without_missing_prior_files(model_cfg)
    if not with_energy:
        model_cfg.decode_head.loss_decode = [
            loss for loss in model_cfg.decode_head.loss_decode
            if loss['type'] != 'BalancedEnergyLoss']
    # SyncBN needs a process group; one device uses plain BN
    return revert_sync_batchnorm(MODELS.build(model_cfg)).to(device)


def make_batch(batch: int, hw, device: str):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    h, w = hw
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen,
                                    dtype=torch.uint8).to(device))
        label = torch.randint(0, 19, (1, h, w), generator=gen)
        label[:, h // 4:h // 2, w // 4:w // 2] = 254   # a pasted outlier
        label[:, :, :8] = 255
        sample = SegDataSample(metainfo=dict(img_shape=(h, w),
                                             ori_shape=(h, w),
                                             pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=label.to(device))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def train_step(model, optim, data: dict, device: str) -> float:
    """Seconds of one training iteration (loss, backward, optimiser step)."""
    sync(device)
    start = time.perf_counter()
    losses = model.loss(data['inputs'], data['data_samples'])
    loss, _ = model.parse_losses(losses)
    optim.zero_grad()
    loss.backward()
    optim.step()
    sync(device)
    return time.perf_counter() - start


def bench_training(depth: int, hw, batch: int, device: str,
                   iters: int) -> dict:
    times, peaks = {}, {}
    for name, energy in (('CE only', False), ('CE + balanced energy', True)):
        model = build_model(energy, depth, hw, device).train()
        optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        data = model.data_preprocessor(make_batch(batch, hw, device), True)

        reset_peak(device)
        times[name] = best_of(
            lambda: train_step(model, optim, data, device), iters)
        peaks[name] = peak_mib(device)
        print(f'train iter R-{depth} {tuple(hw)} batch {batch} {name}: '
              f'{times[name] * 1e3:.1f} ms, peak {peaks[name]:.0f} MiB',
              flush=True)
        del model, optim, data
    ratio = times['CE + balanced energy'] / times['CE only']
    print(f'train iter ratio (CE + balanced energy) / CE: {ratio:.3f}x '
          '(target <= 1.05x)', flush=True)
    return dict(times_ms={k: v * 1e3 for k, v in times.items()},
                peak_mib=peaks, ratio=ratio)


def bench_inference(depth: int, hw, device: str, repeats: int) -> float:
    model = build_model(True, depth, hw, device).eval()
    x = torch.randn(1, 3, *hw, device=device)
    with torch.no_grad():
        def once() -> float:
            sync(device)
            start = time.perf_counter()
            model._forward(x)
            sync(device)
            return time.perf_counter() - start
        return best_of(once, repeats)


def build_recipe_model(depth: int, hw, device: str):
    """The released recipe's model (frozen trunk and ASPP), plain BN."""
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model_cfg = copy.deepcopy(Config.fromfile(RECIPE).model)
    model_cfg.backbone.depth = depth
    model_cfg.data_preprocessor.size = tuple(hw)
    # the configs' prior file, estimated with their own checkpoint, is
    # not needed for timing: a missing one is dropped (uniform prior, the
    # same cost)
    without_missing_prior_files(model_cfg)
    return revert_sync_batchnorm(MODELS.build(model_cfg)).to(device)


def bench_released_recipe(depth: int, train_hw, batches, infer_hw,
                          device: str, iters: int, repeats: int) -> dict:
    """Training iterations of the released recipe (Adam on the trainable
    parameters, as released) against a no-gradient forward of the same
    batch, and whole-frame inference; peak memory of each."""
    out: Dict[str, dict] = {}
    model = build_recipe_model(depth, train_hw, device).train()
    optim = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-5)
    for batch in batches:
        data = model.data_preprocessor(make_batch(batch, train_hw, device),
                                       True)

        def forward() -> float:
            sync(device)
            start = time.perf_counter()
            with torch.no_grad():
                model._forward(data['inputs'])
            sync(device)
            return time.perf_counter() - start

        reset_peak(device)
        train_s = best_of(
            lambda: train_step(model, optim, data, device), iters)
        train_peak = peak_mib(device)
        reset_peak(device)
        forward_s = best_of(forward, iters)
        forward_peak = peak_mib(device)
        ratio = train_s / forward_s
        out[f'train_batch{batch}'] = dict(
            train_ms=train_s * 1e3, train_peak_mib=train_peak,
            forward_ms=forward_s * 1e3, forward_peak_mib=forward_peak,
            ratio=ratio)
        print(f'released recipe WRN{depth} {tuple(train_hw)} batch {batch}: '
              f'train iter {train_s * 1e3:.1f} ms (peak {train_peak:.0f} '
              f'MiB), no-grad forward {forward_s * 1e3:.1f} ms (peak '
              f'{forward_peak:.0f} MiB), ratio {ratio:.2f}x', flush=True)
        del data
    model.eval()
    x = torch.randn(1, 3, *infer_hw, device=device)
    meta = [dict(img_shape=tuple(infer_hw), pad_shape=tuple(infer_hw))]

    def infer() -> float:
        sync(device)
        start = time.perf_counter()
        with torch.no_grad():
            model.encode_decode(x, meta)
        sync(device)
        return time.perf_counter() - start

    reset_peak(device)
    infer_s = best_of(infer, repeats)
    out['inference'] = dict(hw=list(infer_hw), ms=infer_s * 1e3,
                            peak_mib=peak_mib(device))
    print(f'released network WRN{depth} inference {tuple(infer_hw)}: '
          f'{infer_s * 1e3:.1f} ms, peak {out["inference"]["peak_mib"]:.0f} '
          'MiB', flush=True)
    return out


def make_frame(i: int, hw, device: str):
    gen = torch.Generator(device=device).manual_seed(1000 + i)
    u = torch.rand(2, *hw, generator=gen, device=device)
    label = torch.zeros(hw, dtype=torch.uint8, device=device)
    label[u[0] < 0.015] = 1
    label[u[1] < 0.10] = 255
    score = torch.randn(hw, generator=gen, device=device)
    score += 1.5 * (label == 1)
    return score, label


def bench_eval(frames: int, hw, device: str, infer_s: float) -> dict:
    acc = PixelOODAccumulator()
    busy = 0.0
    for i in range(frames):
        score, label = make_frame(i, hw, device)
        sync(device)
        start = time.perf_counter()
        acc.update(score, label)
        sync(device)
        busy += time.perf_counter() - start
    start = time.perf_counter()
    res = acc.compute()
    compute_s = time.perf_counter() - start
    # the same frames through the numpy path on the host
    ref = PixelOODAccumulator()
    for i in range(frames):
        score, label = make_frame(i, hw, device)
        ref.update(score.cpu().numpy(), label.cpu().numpy())
    expected = ref.compute()
    keys = ('AUROC', 'AP', 'FPR95')
    equal = all(res[k] == expected[k] for k in keys)
    per_frame = busy / frames
    share = per_frame / infer_s
    print(f'eval {frames} frames of {tuple(hw)} on {device}: update '
          f'{busy:.2f} s ({per_frame * 1e3:.1f} ms/frame), compute '
          f'{compute_s:.2f} s; equal to the numpy path: {equal} '
          + ' '.join(f'{k}={res[k]:.10f}' for k in keys), flush=True)
    print(f'eval per frame / model forward per frame (backbone + heads, '
          f'{infer_s * 1e3:.1f} ms): {100 * share:.1f}% (target < 5%)',
          flush=True)
    return dict(update_s=busy, compute_s=compute_s, equal=equal,
                per_frame_ms=per_frame * 1e3, infer_ms=infer_s * 1e3,
                share=share, **{k: res[k] for k in keys})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--small', action='store_true',
                        help='tiny sizes (R-18 with thin heads, 64x128, 3 '
                        'frames of 128x256; WideResNet16 at 64x64): checks '
                        'the script, not the speed')
    parser.add_argument('--out', help='also write the results as JSON')
    args = parser.parse_args()
    dev = args.device
    if args.small:
        loss_size, depth, train_hw, infer_hw = (2, 19, 64, 128), 18, \
            (64, 128), (64, 128)
        frames, eval_hw, repeats, iters = 3, (128, 256), 1, 1
    else:
        loss_size, depth, train_hw, infer_hw = (2, 19, 512, 1024), 101, \
            (512, 1024), (1024, 2048)
        frames, eval_hw, repeats, iters = 100, (1024, 2048), 10, 5
    name = torch.cuda.get_device_name() if dev.startswith('cuda') else dev
    print(f'device {name}, torch {torch.__version__}, small={args.small}',
          flush=True)
    results: Dict[str, object] = dict(device=name, small=args.small)
    results['loss'] = bench_losses(loss_size, dev, repeats)
    results['train'] = bench_training(depth, train_hw, 2, dev, iters)
    infer_s = bench_inference(depth, infer_hw, dev, repeats)
    results['eval'] = bench_eval(frames, eval_hw, dev, infer_s)
    if args.small:
        results['released_recipe'] = bench_released_recipe(
            16, (64, 64), (4, 2), (64, 128), dev, iters, repeats)
    else:
        results['released_recipe'] = bench_released_recipe(
            38, (900, 900), (8, 2), (1024, 2048), dev, iters, repeats)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
