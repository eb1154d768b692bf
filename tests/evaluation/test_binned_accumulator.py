"""SMIYC binned metrics against a loop written from the kit's definition.

The oracle follows the SegmentMeIfYouCan kit (``road_anomaly_benchmark``,
``PixBinaryClass``: ``binary_confusion_matrix`` with 768 percentile bins,
``aggregate_dynamic_bins``, ``curves_from_cmats``) step by step with plain
Python loops: per frame the thresholds are ``vmin - eps``, ``vmax + eps``
(``eps = max(0.01 * range, 0.01)``) and ``min(384, n)`` quantiles of each
class, without repeats; every pixel falls in the bin ``[e_i, e_i+1)`` (the
last bin closed); the pooled thresholds are visited from high to low, rows of
a repeated threshold collapsed to its last row (the first row always kept).
"""
import numpy as np
import pytest

from mmseg_be.evaluation import PixelOODAccumulator, SMIYCBinnedAccumulator


def kit_frame_rows(s, y, q=384):
    """(threshold, tp in bin, fp in bin) of one frame, kit order."""
    roi = y != 255
    s, y = s[roi], y[roi]
    pos, neg = s[y == 1], s[y == 0]
    vmin, vmax = np.min(s), np.max(s)
    eps = np.maximum((vmax - vmin) * 1e-2, 1e-2)
    edges = {float(vmin - eps), float(vmax + eps)}
    for part in (pos, neg):
        if part.size:
            levels = np.linspace(0, 1, min(q, part.size))
            edges |= set(np.quantile(part, levels).tolist())
    edges = sorted(edges)
    rows = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        last = i == len(edges) - 2
        tp = fp = 0
        for value, label in zip(s.tolist(), y.tolist()):
            if lo <= value and (value <= hi if last else value < hi):
                tp += label == 1
                fp += label == 0
        rows.append((lo, tp, fp))
    return rows[::-1]


def kit_metrics(frames, q=384):
    rows = [r for s, y in frames for r in kit_frame_rows(s, y, q)]
    thresholds = np.array([r[0] for r in rows])
    order = np.argsort(thresholds)[::-1]          # the kit's tie order
    tp = fp = 0
    cumulated = []
    for i in order:
        tp, fp = tp + rows[i][1], fp + rows[i][2]
        cumulated.append((rows[i][0], tp, fp))
    curve = [cumulated[0][1:]]
    for i in range(len(cumulated)):
        if i + 1 == len(cumulated) or cumulated[i + 1][0] != cumulated[i][0]:
            curve.append(cumulated[i][1:])
    n_pos = sum(int(((y == 1)).sum()) for _, y in frames)
    n_neg = sum(int(((y == 0)).sum()) for _, y in frames)
    if curve[0] != (0, 0):
        curve.insert(0, (0, 0))
    if curve[-1] != (n_pos, n_neg):
        curve.append((n_pos, n_neg))
    tpr = [a / n_pos for a, _ in curve]
    fpr = [b / n_neg for _, b in curve]
    prec = [a / (a + b) if a + b else 1.0 for a, b in curve]
    ap = sum((tpr[i] - tpr[i - 1]) * prec[i] for i in range(1, len(curve)))
    auroc = sum((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2
                for i in range(1, len(curve)))
    k = next((i for i, t in enumerate(tpr) if t >= 0.95), None)
    return auroc, ap, 1.0 if k is None else fpr[k]


def small_object_frames(seed, dtype):
    """Frames whose anomalies (and some inlier sets) have < 384 pixels."""
    rng = np.random.default_rng(seed)
    frames = []
    for f in range(4):
        h, w = (12, 20) if f % 2 else (30, 41)
        y = np.zeros((h, w), np.uint8)
        y[2:2 + f + 2, 3:9] = 1                       # 12-30 anomaly pixels
        y[rng.random((h, w)) < 0.15] = 255
        s = rng.random((h, w)) * 0.8 + 0.25 * (y == 1)
        if f == 3:
            s = np.clip(1.4 * s, 0, 1)                # saturated: tied maxima
        frames.append((s.astype(dtype), y))
    return frames


@pytest.mark.parametrize('dtype', [np.float16, np.float32])
def test_small_objects_equal_the_kit(dtype):
    frames = small_object_frames(0, dtype)
    # the case of the issue: fewer pixels than quantiles in a class
    assert min(int((y == 1).sum()) for _, y in frames) < 384
    acc = SMIYCBinnedAccumulator()
    for s, y in frames:
        acc.update(s, y, 255)
    r = acc.compute()
    auroc, ap, fpr95 = kit_metrics(frames)
    assert r['AUROC'] == pytest.approx(auroc, rel=1e-12, abs=1e-15)
    assert r['AP'] == pytest.approx(ap, rel=1e-12, abs=1e-15)
    assert r['FPR95'] == pytest.approx(fpr95, rel=1e-12, abs=1e-15)


def test_large_frames_equal_the_kit_and_approximate_exact():
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(2):
        y = (rng.random((40, 50)) < 0.2).astype(np.uint8)   # > 384 each
        s = (rng.random((40, 50)) + 0.6 * y).astype(np.float16)
        frames.append((s, y))
    binned, exact = SMIYCBinnedAccumulator(), PixelOODAccumulator()
    for s, y in frames:
        binned.update(s, y)
        exact.update(s, y)
    r = binned.compute()
    auroc, ap, fpr95 = kit_metrics(frames)
    assert r['AUROC'] == pytest.approx(auroc, rel=1e-12)
    assert r['AP'] == pytest.approx(ap, rel=1e-12)
    assert r['FPR95'] == pytest.approx(fpr95, rel=1e-12)
    e = exact.compute()
    assert abs(r['AUROC'] - e['AUROC']) < 0.02
    assert abs(r['AP'] - e['AP']) < 0.05


def test_quantile_count_follows_class_size():
    # 5 anomaly pixels, 3 distinct values: the kit's thresholds are the 3
    # values (repeats removed) + 384 inlier quantiles + the 2 ends.
    y = np.zeros((30, 30), np.uint8)
    y[0, :5] = 1
    s = np.linspace(0, 0.5, 900).reshape(30, 30)
    s[0, :5] = [0.9, 0.9, 0.95, 0.95, 0.99]
    acc = SMIYCBinnedAccumulator()
    acc.update(s, y)
    inlier_q = np.unique(np.quantile(s[y == 0], np.linspace(0, 1, 384)))
    assert len(acc._thresholds[0]) == len(inlier_q) + 3 + 2 - 1
