"""PixelOODAccumulator against scikit-learn and hand-computed cases."""
import pickle
import warnings
import zlib

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from mmseg_be.evaluation._numpy_order_sum import StreamingPairwiseSum
from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator


def sklearn_fpr_at(labels, scores, tpr_level=0.95):
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    return fpr[np.searchsorted(tpr, tpr_level, 'left')]


def hendrycks_fpr(labels, scores, level=0.95):
    """Hendrycks' fpr_and_fdr_at_recall (used by PEBAL), written out."""
    order = np.argsort(scores, kind='mergesort')[::-1]
    s, y = scores[order], labels[order].astype(np.float64)
    idx = np.r_[np.where(np.diff(s))[0], y.size - 1]
    tps = np.cumsum(y)[idx]
    fps = 1 + idx - tps
    recall = tps / tps[-1]
    last = tps.searchsorted(tps[-1])
    sl = slice(last, None, -1)
    recall, fps = np.r_[recall[sl], 1], np.r_[fps[sl], 0]
    cutoff = np.argmin(np.abs(recall - level))
    return fps[cutoff] / np.sum(np.logical_not(labels))


def random_images(rng, n_images, dtype, n_levels):
    images = []
    for _ in range(n_images):
        h, w = rng.integers(1, 40, 2)
        if n_levels:
            s = rng.integers(-n_levels, n_levels, (h, w)) / n_levels
        else:
            s = rng.standard_normal((h, w))
        lab = rng.choice([0, 1, 255, 7], (h, w), p=[0.6, 0.25, 0.1, 0.05])
        images.append((s.astype(dtype), lab.astype(np.uint8)))
    return images


def concat(images):
    s = np.concatenate([s[lab < 2] for s, lab in images])
    y = np.concatenate([lab[lab < 2] for s, lab in images])
    return s, y


def n_distinct(values):
    """The number of distinct scores, counted in float64 (exact for every
    dtype here): numpy 2.4's AVX-512 sort of float16 arrays misorders them
    on some x86 CPUs (cf. numpy/numpy#29808), so np.unique of a float16
    array can return repeated values and is no oracle there."""
    return len(np.unique(values.astype(np.float64)))


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * abs(b)


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.float16,
                                   np.int32])
@pytest.mark.parametrize('n_levels', [0, 3, 40])
def test_equal_to_sklearn_any_merge_order(dtype, n_levels):
    # a seed of its own per case, the same in every process (str hashes are
    # salted per process)
    rng = np.random.default_rng(
        zlib.crc32(f'{np.dtype(dtype).name}/{n_levels}'.encode()))
    if np.dtype(dtype).kind == 'i' and not n_levels:
        pytest.skip('integer scores are drawn from levels only')
    for _ in range(8):
        images = random_images(rng, int(rng.integers(2, 7)), dtype, n_levels)
        s, y = concat(images)
        if len(np.unique(y)) < 2:
            continue
        # random partition into accumulators, merged in random order
        parts = [PixelOODAccumulator() for _ in range(3)]
        for img in images:
            parts[rng.integers(3)].update(*img, ignore_index=None)
        order = rng.permutation(3)
        acc = parts[order[0]]
        for i in order[1:]:
            acc.merge(parts[i])
        acc = pickle.loads(pickle.dumps(acc))
        # default: integer counts, one division
        r = acc.compute(pebal_compat=True, tprs=(0.5, 0.8))
        assert close(r['AUROC'], roc_auc_score(y, s))
        assert close(r['AP'], average_precision_score(y, s))
        assert r['FPR95'] == sklearn_fpr_at(y, s)
        assert r['fpr_at_tpr'][0.5] == sklearn_fpr_at(y, s, 0.5)
        assert r['fpr_at_tpr'][0.8] == sklearn_fpr_at(y, s, 0.8)
        assert r['FPR95_pebal'] == hendrycks_fpr(y, s)
        assert r['num_pos'] == (y == 1).sum()
        assert r['num_neg'] == (y == 0).sum()
        assert r['num_anomaly_thresholds'] == n_distinct(s[y == 1])
        # scikit-learn's float summation order, bit for bit
        b = acc.compute(chunk_rows=int(rng.integers(1, 50)),
                        pebal_compat=True, sklearn_float_order=True)
        assert b['AUROC'] == roc_auc_score(y, s)
        assert b['AP'] == average_precision_score(y, s)
        assert b['FPR95'] == sklearn_fpr_at(y, s)
        assert b['FPR95_pebal'] == hendrycks_fpr(y, s)
        assert b['num_thresholds'] == n_distinct(s)


def test_key_histogram_dense_pages_and_wraps():
    # float32 scores dense enough for byte counters to wrap (values repeated
    # > 255 times) and for pages to turn dense mid-stream, plus sparse tails
    rng = np.random.default_rng(11)
    images = []
    acc = PixelOODAccumulator()
    for i in range(6):
        s = np.round(rng.standard_normal((200, 300)) * 50) / 50
        s[:, :20] = rng.standard_normal((200, 20)) * 1e-3
        s[:5] = 1e6 * rng.random((5, 300))
        s = s.astype(np.float32)
        lab = (rng.random((200, 300)) < 0.05 + 0.1 * (s > 1)).astype(
            np.uint8)
        lab[rng.random((200, 300)) < 0.05] = 255
        images.append((s, lab))
        part = PixelOODAccumulator()
        part.update(s, lab)
        acc.merge(part) if i % 2 else acc.update(s, lab)
    # the case exercises all three ways of holding counts
    storage = acc.inlier_storage()
    assert storage['dense_pages'] and storage['wrap_rows']
    assert storage['sparse_pixels']
    s, y = concat(images)
    r = acc.compute()
    assert close(r['AUROC'], roc_auc_score(y, s))
    assert close(r['AP'], average_precision_score(y, s))
    assert r['FPR95'] == sklearn_fpr_at(y, s)
    b = acc.compute(sklearn_float_order=True)
    assert b['AUROC'] == roc_auc_score(y, s)
    assert b['AP'] == average_precision_score(y, s)


def test_strict_labels_by_default():
    acc = PixelOODAccumulator()
    with pytest.raises(ValueError, match=r'\[7\].*ignore_index=255'):
        acc.update(np.zeros(3, np.float32), np.array([0, 7, 255]))
    with pytest.raises(ValueError, match=r'\[255\].*ignore_index=254'):
        acc.update(np.zeros(3, np.float32), np.array([0, 1, 255]),
                   ignore_index=254)
    # explicit opt-in: every label other than 0 and 1 is left out
    acc.update(np.array([0.1, 0.9, 5.0], np.float32), np.array([0, 1, 7]),
               ignore_index=None)
    r = acc.compute()
    assert (r['num_neg'], r['num_pos'], r['AUROC']) == (1, 1, 1.0)


def test_large_tables_cross_summation_blocks():
    # more distinct values than one numpy pairwise block of the streaming sum
    rng = np.random.default_rng(3)
    acc = PixelOODAccumulator()
    images = []
    for _ in range(3):
        s = rng.random((300, 400)).astype(np.float32)
        s[:50] = np.round(s[:50] * 100) / 100      # plus heavy ties
        lab = (rng.random((300, 400)) < 0.1).astype(np.uint8)
        images.append((s, lab))
        acc.update(s, lab)
    s, y = concat(images)
    for chunk in (999, 1 << 16):
        r = acc.compute(tprs=(0.5, 0.8), chunk_rows=chunk,
                        sklearn_float_order=True)
        assert r['AUROC'] == roc_auc_score(y, s)
        assert r['AP'] == average_precision_score(y, s)
        assert r['FPR95'] == sklearn_fpr_at(y, s)
        assert r['fpr_at_tpr'][0.5] == sklearn_fpr_at(y, s, 0.5)
        assert r['fpr_at_tpr'][0.8] == sklearn_fpr_at(y, s, 0.8)


def test_integer_scores_take_the_histogram_path():
    rng = np.random.default_rng(4)
    acc = PixelOODAccumulator()
    images = []
    for _ in range(5):
        s = rng.integers(0, 256, (30, 20)).astype(np.uint8)
        lab = rng.choice([0, 1, 255], (30, 20), p=[0.7, 0.2, 0.1])
        images.append((s, lab.astype(np.uint8)))
        acc.update(s, lab, ignore_index=255)
    assert acc.histogram_mode
    s, y = concat(images)
    r = acc.compute()
    assert close(r['AUROC'], roc_auc_score(y, s))
    assert close(r['AP'], average_precision_score(y, s))


def test_mixed_dtypes_promote_like_numpy():
    rng = np.random.default_rng(5)
    a = (rng.random((20, 20)).astype(np.float16),
         rng.integers(0, 2, (20, 20)))
    b = (rng.random((20, 20)).astype(np.float32),
         rng.integers(0, 2, (20, 20)))
    acc = PixelOODAccumulator()
    acc.update(*a)
    acc.update(*b)
    s = np.concatenate([a[0].ravel(), b[0].ravel()])
    y = np.concatenate([a[1].ravel(), b[1].ravel()])
    assert close(acc.compute()['AP'], average_precision_score(y, s))


def test_fpr95_where_default_curve_drops_the_point():
    # 20 anomaly, 10 inlier pixels. Scores 30..21: one anomaly each; scores
    # 20..11: one anomaly and one inlier tied. TPR first reaches 0.95 at
    # score 12 with 19 anomaly and 9 inlier pixels above: FPR95 = 9/10.
    # That point is collinear with its neighbours, so roc_curve's default
    # drop_intermediate removes it and the naive lookup would give 1.0.
    scores = np.r_[np.arange(30, 20, -1), np.arange(20, 10, -1),
                   np.arange(20, 10, -1)].astype(np.float32)
    labels = np.r_[np.ones(20), np.zeros(10)].astype(np.uint8)
    fpr_d, tpr_d, _ = roc_curve(labels, scores)
    assert fpr_d[np.searchsorted(tpr_d, 0.95)] == 1.0
    acc = PixelOODAccumulator()
    acc.update(scores, labels)
    assert acc.compute()['FPR95'] == 0.9


def test_fpr95_all_ties_and_pebal_nearest():
    # every row holds one anomaly and one inlier: the default curve keeps
    # only the ends, the exact FPR95 is 19/20
    scores = np.r_[np.arange(20), np.arange(20)].astype(np.float64)
    labels = np.r_[np.ones(20), np.zeros(20)].astype(np.uint8)
    acc = PixelOODAccumulator()
    acc.update(scores, labels)
    r = acc.compute(pebal_compat=True)
    assert r['FPR95'] == 0.95
    assert r['FPR95_pebal'] == 0.95
    # nearest recall: recalls 0.9 and 1.0 are both 0.05 away from 0.95 ...
    scores = np.r_[np.arange(10, 0, -1), [0.5, 0.5]]
    labels = np.r_[np.ones(10), [0, 0]].astype(np.uint8)
    acc = PixelOODAccumulator()
    acc.update(scores, labels)
    r = acc.compute(pebal_compat=True)
    # first threshold with TPR >= 0.95 is score 1 (10/10 recall, FPR 0)
    assert r['FPR95'] == 0.0
    assert r['FPR95_pebal'] == hendrycks_fpr(labels, scores)


def test_best_f1_matches_brute_force():
    rng = np.random.default_rng(6)
    s = np.round(rng.random(500), 2)
    y = (rng.random(500) < 0.3 + 0.4 * s).astype(np.uint8)
    acc = PixelOODAccumulator()
    acc.update(s, y)
    r = acc.compute()
    best = max((2 * ((s >= t) & (y == 1)).sum()
                / ((s >= t).sum() + (y == 1).sum()), -t)
               for t in np.unique(s))
    assert r['best_f1'] == pytest.approx(best[0], abs=1e-12)
    assert r['best_f1_threshold'] == -best[1]


def test_curves_are_thinned_and_monotone():
    rng = np.random.default_rng(7)
    acc = PixelOODAccumulator()
    acc.update(rng.random((200, 200)), rng.integers(0, 2, (200, 200)))
    r = acc.compute(curve_points=100)
    roc, pr = r['roc_curve'], r['pr_curve']
    assert len(roc['fpr']) <= 120
    assert roc['fpr'][0] == 0 and roc['fpr'][-1] == 1 and roc['tpr'][-1] == 1
    assert np.all(np.diff(roc['fpr']) >= 0)
    assert np.all(np.diff(roc['tpr']) >= 0)
    assert pr['recall'][-1] == 0 and pr['precision'][-1] == 1


def test_bad_input_errors():
    acc = PixelOODAccumulator()
    with pytest.raises(ValueError, match='shape'):
        acc.update(np.zeros((2, 3)), np.zeros((3, 2), np.uint8))
    with pytest.raises(ValueError, match=r'\[7, 9\]'):
        acc.update(np.zeros((2, 2)), np.array([[0, 7], [9, 255]]),
                   ignore_index=255)
    with pytest.raises(ValueError, match='NaN or infinite'):
        acc.update(np.array([0.1, np.nan]), np.array([0, 1]))
    # NaN on ignored pixels is fine
    acc.update(np.array([0.1, np.nan, 0.3]), np.array([0, 255, 1]))


def test_single_class_gives_nan_with_warning():
    acc = PixelOODAccumulator()
    acc.update(np.random.rand(5, 5), np.zeros((5, 5), np.uint8))
    with pytest.warns(UserWarning, match='no anomaly pixels'):
        r = acc.compute()
    assert np.isnan(r['AUROC']) and np.isnan(r['AP'])
    assert np.isnan(r['FPR95']) and r['num_neg'] == 25
    with pytest.warns(UserWarning):
        PixelOODAccumulator().compute()


def test_state_pickles_and_merges():
    rng = np.random.default_rng(8)
    a, b = PixelOODAccumulator(), PixelOODAccumulator()
    data = [(rng.random((10, 10)), rng.integers(0, 2, (10, 10)))
            for _ in range(4)]
    for i, d in enumerate(data):
        (a if i % 2 else b).update(*d)
    merged = pickle.loads(pickle.dumps(a)).merge(pickle.loads(pickle.dumps(b)))
    s, y = concat(data)
    assert close(merged.compute()['AP'], average_precision_score(y, s))
    assert merged.num_images == 4


@pytest.mark.parametrize('n', [0, 1, 7, 128, 129, 5000, 70001])
def test_streaming_sum_equals_numpy_sum(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 8, n)
    summer = StreamingPairwiseSum(n, leaf=256)
    cuts = np.sort(rng.choice(np.arange(1, n), min(n - 1, 9), replace=False)
                   ) if n > 1 else []
    pieces = np.split(np.arange(n), cuts)
    for piece in reversed(pieces):
        if len(piece):
            summer.add(int(piece[0]), x[piece])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert summer.total() == np.sum(x)
