"""Pixel OOD metrics: PixelOODAccumulator vs scikit-learn vs SMIYC binning.

Every method runs in its own subprocess (honest peak memory) on the same
deterministic frames: float32 scores, ~1.5 % anomaly and ~10 % ignore pixels.
``stream`` is the exact evaluator as used (integer counts, one division: equal
to scikit-learn within 1e-12 relative); ``--float-order`` adds
``stream_bits``, the same state computed with ``sklearn_float_order=True``
(bit-identical to scikit-learn, slower).
scikit-learn gets the valid pixels of all frames concatenated (what
researchers do today) and computes roc_auc_score, average_precision_score and
FPR95 from roc_curve(drop_intermediate=False); its timing excludes the
concatenation. The streaming methods see one frame at a time. A float16 run at
F and 2F frames shows the quantized path's memory not growing with frames.

    python benchmarks/bench_eval.py --frames 20 --height 512 --width 1024

Reported per method: wall and CPU seconds of the metric work (streaming
methods timed in a run without tracemalloc), tracemalloc peak of the metric
work in a second run (for scikit-learn, one run: the peak includes the
concatenated inputs it needs), and the process's max RSS (imports included).
The machine may be shared: CPU seconds are the steadier comparison.
"""
import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def frame(i: int, height: int, width: int, dtype=np.float32):
    """Deterministic frame i: (scores, labels) with 0/1/255 labels."""
    rng = np.random.default_rng(1000 + i)
    labels = np.zeros((height, width), np.uint8)
    labels[rng.random((height, width)) < 0.015] = 1
    labels[rng.random((height, width)) < 0.10] = 255
    scores = rng.standard_normal((height, width), dtype=np.float32)
    scores += 1.5 * (labels == 1)
    return scores.astype(dtype), labels


def run_worker(method: str, frames: int, height: int, width: int) -> dict:
    from mmseg_be.evaluation.binned_accumulator import SMIYCBinnedAccumulator
    from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator
    dtype = np.float16 if method == 'stream_f16' else np.float32
    options = dict(sklearn_float_order=method == 'stream_bits')
    busy = cpu = 0.0
    if method == 'sklearn':
        from sklearn.metrics import (average_precision_score, roc_auc_score,
                                     roc_curve)
        tracemalloc.start()
        parts = [frame(i, height, width) for i in range(frames)]
        scores = np.concatenate([s[lab < 2] for s, lab in parts])
        labels = np.concatenate([lab[lab < 2] for s, lab in parts])
        del parts
        t0, c0 = time.perf_counter(), time.process_time()
        auroc = roc_auc_score(labels, scores)
        ap = average_precision_score(labels, scores)
        fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
        fpr95 = fpr[np.searchsorted(tpr, 0.95, 'left')]
        busy, cpu = time.perf_counter() - t0, time.process_time() - c0
        result = dict(AUROC=float(auroc), AP=float(ap), FPR95=float(fpr95))
    else:
        # timed without tracemalloc (it taxes every allocation), then run
        # again under tracemalloc for the peak
        for traced in (False, True):
            acc = (SMIYCBinnedAccumulator() if method == 'binned'
                   else PixelOODAccumulator())
            if traced:
                tracemalloc.start()
            for i in range(frames):
                s, lab = frame(i, height, width, dtype)
                t0, c0 = time.perf_counter(), time.process_time()
                acc.update(s, lab, ignore_index=255)
                if not traced:
                    busy += time.perf_counter() - t0
                    cpu += time.process_time() - c0
                del s, lab
            t0, c0 = time.perf_counter(), time.process_time()
            out = (acc.compute() if method == 'binned'
                   else acc.compute(**options))
            if not traced:
                busy += time.perf_counter() - t0
                cpu += time.process_time() - c0
        result = {k: float(out[k]) for k in ('AUROC', 'AP', 'FPR95')}
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the data of the frame being fed is part of every method's footprint
    return dict(method=method, frames=frames, wall_s=busy, cpu_s=cpu,
                peak_mb=peak / 2**20,
                maxrss_mb=resource.getrusage(
                    resource.RUSAGE_SELF).ru_maxrss / 1024, **result)


def launch(method: str, frames: int, args) -> dict:
    cmd = [sys.executable, __file__, '--worker', method, '--frames',
           str(frames), '--height', str(args.height), '--width',
           str(args.width)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--height', type=int, default=1024)
    parser.add_argument('--width', type=int, default=2048)
    parser.add_argument('--float-order', action='store_true',
                        help='also time sklearn_float_order=True')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.frames, args.height,
                                    args.width)))
        return
    f = args.frames
    print(f'{f} frames of {args.height}x{args.width} float32 scores '
          '(~1.5% anomaly, ~10% ignore)')
    methods = ['stream', 'sklearn', 'binned']
    if args.float_order:
        methods.append('stream_bits')
    runs = {m: launch(m, f, args) for m in methods}
    f16 = [launch('stream_f16', n, args) for n in (f, 2 * f)]
    for r in list(runs.values()) + f16:
        print(f"{r['method']:>11} frames={r['frames']:<4} "
              f"wall={r['wall_s']:8.3f}s cpu={r['cpu_s']:8.3f}s "
              f"peak={r['peak_mb']:8.1f}MB maxrss={r['maxrss_mb']:8.1f}MB "
              f"AUROC={r['AUROC']:.10f} AP={r['AP']:.10f} "
              f"FPR95={r['FPR95']:.10f}")
    k, b = runs['sklearn'], runs['binned']
    for name in methods:
        if name in ('sklearn', 'binned'):
            continue
        s = runs[name]
        rel = max(abs(s[m] - k[m]) / abs(k[m]) if k[m] else abs(s[m])
                  for m in ('AUROC', 'AP', 'FPR95'))
        same = all(s[m] == k[m] for m in ('AUROC', 'AP', 'FPR95'))
        print(f'{name} vs sklearn: identical={same} max rel diff={rel:.3g} '
              f'(within 1e-12: {rel <= 1e-12}) '
              f"speed-up wall={k['wall_s'] / s['wall_s']:.1f}x "
              f"cpu={k['cpu_s'] / s['cpu_s']:.1f}x "
              f"peak memory ratio={s['peak_mb'] / k['peak_mb']:.3f}")
        print(f"{name} vs binned: speed-up wall="
              f"{b['wall_s'] / s['wall_s']:.2f}x cpu="
              f"{b['cpu_s'] / s['cpu_s']:.2f}x")
    bdiff = max(abs(b[m] - k[m]) for m in ('AUROC', 'AP', 'FPR95'))
    print(f'binned max|diff| to exact={bdiff:.3g}')
    print(f"float16 histogram path: peak {f16[0]['peak_mb']:.1f}MB at "
          f"{f16[0]['frames']} frames, {f16[1]['peak_mb']:.1f}MB at "
          f"{f16[1]['frames']} frames")


if __name__ == '__main__':
    main()
