"""SMIYC-style binned metrics against a plain re-implementation of the spec."""
import numpy as np
import pytest

from mmseg_be.evaluation import PixelOODAccumulator, SMIYCBinnedAccumulator


def binned_oracle(frames, q=384, eps=1e-6):
    rows = []   # (threshold, tp in bin, fp in bin)
    for s, y in frames:
        s = s.astype(np.float64)
        pos, neg = s[y == 1], s[y == 0]
        edges = [s.min() - eps, s.max() + eps]
        for part in (pos, neg):
            if part.size:
                edges += list(np.quantile(part, np.linspace(0, 1, q)))
        edges = sorted(edges)
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            last = i == len(edges) - 2
            inside = (s >= lo) & ((s <= hi) if last else (s < hi))
            rows.append((lo, np.sum(inside & (y == 1)),
                         np.sum(inside & (y == 0))))
    rows.sort(key=lambda r: -r[0])
    tp = fp = 0
    curve = [(0, 0)]
    for i, (t, a, b) in enumerate(rows):
        tp, fp = tp + a, fp + b
        if i + 1 == len(rows) or rows[i + 1][0] != t:
            curve.append((tp, fp))
    n_pos = sum((y == 1).sum() for _, y in frames)
    n_neg = sum((y == 0).sum() for _, y in frames)
    tpr = np.array([c[0] / n_pos for c in curve])
    fpr = np.array([c[1] / n_neg for c in curve])
    prec = np.array([c[0] / (c[0] + c[1]) if c[0] + c[1] else 0
                     for c in curve])
    ap = np.sum(np.diff(tpr) * prec[1:])
    auroc = np.trapezoid(tpr, fpr)
    i = np.searchsorted(tpr, 0.95)
    return auroc, ap, fpr[i] if i < len(fpr) else 1.0


def test_binned_matches_spec_and_approximates_exact():
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(3):
        y = (rng.random(3000) < 0.2).astype(np.uint8)
        s = (rng.random(3000) + 0.6 * y).astype(np.float16)
        frames.append((s, y))
    binned, exact = SMIYCBinnedAccumulator(quantiles_per_class=16), \
        PixelOODAccumulator()
    for s, y in frames:
        binned.update(s, y)
        exact.update(s, y)
    r = binned.compute()
    auroc, ap, fpr95 = binned_oracle(frames, q=16)
    assert r['AUROC'] == pytest.approx(auroc, abs=1e-12)
    assert r['AP'] == pytest.approx(ap, abs=1e-12)
    assert r['FPR95'] == pytest.approx(fpr95, abs=1e-12)
    e = exact.compute()
    assert abs(r['AUROC'] - e['AUROC']) < 0.02
    assert abs(r['AP'] - e['AP']) < 0.05
