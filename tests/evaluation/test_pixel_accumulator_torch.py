"""PixelOODAccumulator fed torch tensors: the on-device reduction gives the
results of the numpy path (and scikit-learn's)."""
import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator


def frames(seed, dtype, n=4):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lab = rng.choice([0, 1, 255], (60, 50), p=[0.7, 0.2, 0.1])
        s = rng.standard_normal((60, 50)) + 1.0 * (lab == 1)
        s[:10] = np.round(s[:10], 1)      # ties, within and across frames
        out.append((s.astype(dtype), lab.astype(np.uint8)))
    return out


@pytest.mark.parametrize('dtype', [np.float32, np.float16, np.float64])
def test_tensor_path_equals_numpy_path_and_sklearn(dtype):
    data = frames(0, dtype)
    by_numpy, by_torch, mixed = (PixelOODAccumulator() for _ in range(3))
    for i, (s, lab) in enumerate(data):
        by_numpy.update(s, lab)
        by_torch.update(torch.from_numpy(s), torch.from_numpy(lab))
        # numpy labels with tensor scores, and numpy frames in between
        if i % 2:
            mixed.update(torch.from_numpy(s), lab)
        else:
            mixed.update(s, torch.from_numpy(lab))
    a = by_numpy.compute(pebal_compat=True, tprs=(0.5,))
    for other in (by_torch, mixed):
        b = other.compute(pebal_compat=True, tprs=(0.5,))
        for key in ('AUROC', 'AP', 'FPR95', 'FPR95_pebal', 'best_f1',
                    'best_f1_threshold', 'num_pos', 'num_neg'):
            assert b[key] == a[key], key
        assert b['fpr_at_tpr'] == a['fpr_at_tpr']
        np.testing.assert_array_equal(b['roc_curve']['fpr'],
                                      a['roc_curve']['fpr'])
    s = np.concatenate([s[lab < 2] for s, lab in data])
    y = np.concatenate([lab[lab < 2] for s, lab in data])
    assert a['AUROC'] == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    assert a['AP'] == pytest.approx(average_precision_score(y, s), rel=1e-12)
    # bit-exact option from tensor-fed state too
    c = by_torch.compute(sklearn_float_order=True)
    assert c['AUROC'] == roc_auc_score(y, s)
    assert c['AP'] == average_precision_score(y, s)


def test_tensor_path_merges_with_numpy_state():
    data = frames(1, np.float32, n=6)
    one, left, right = (PixelOODAccumulator() for _ in range(3))
    for i, (s, lab) in enumerate(data):
        one.update(s, lab)
        if i % 2:
            left.update(torch.from_numpy(s), torch.from_numpy(lab))
        else:
            right.update(s, lab)
    merged = right.merge(left).compute()
    expected = one.compute()
    assert merged['AUROC'] == expected['AUROC']
    assert merged['AP'] == expected['AP']
    assert merged['FPR95'] == expected['FPR95']


def test_tensor_path_checks_labels_and_scores():
    acc = PixelOODAccumulator()
    with pytest.raises(ValueError, match=r'\[3, 7\]'):
        acc.update(torch.zeros(4), torch.tensor([0, 3, 7, 255]))
    with pytest.raises(ValueError, match='NaN or infinite'):
        acc.update(torch.tensor([0.5, float('nan')]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='shape'):
        acc.update(torch.zeros(2, 3), torch.zeros(3, 2, dtype=torch.uint8))
    # bfloat16 (no numpy equivalent) is counted exactly as float32
    acc.update(torch.tensor([0.25, 0.75, 9.0], dtype=torch.bfloat16),
               torch.tensor([0, 1, 255]))
    r = acc.compute()
    assert (r['num_neg'], r['num_pos'], r['AUROC']) == (1, 1, 1.0)


def test_inliers_counted_on_the_tensor_device_drain_exactly():
    # quantized scores repeated > 255 times (byte counters wrap on the
    # host), dense pages and sparse tails; tensors and arrays interleaved,
    # the state pickled mid-way (which moves the device counts to the host)
    import pickle
    rng = np.random.default_rng(12)
    data = []
    for _ in range(6):
        s = np.round(rng.standard_normal((200, 300)) * 50) / 50
        s[:, :20] = rng.standard_normal((200, 20)) * 1e-3
        s = s.astype(np.float32)
        lab = (rng.random((200, 300)) < 0.05 + 0.1 * (s > 1)).astype(
            np.uint8)
        data.append((s, lab))
    mixed, by_numpy = PixelOODAccumulator(), PixelOODAccumulator()
    for i, (s, lab) in enumerate(data):
        by_numpy.update(s, lab)
        if i % 3 == 2:
            mixed.update(s, lab)
        else:
            mixed.update(torch.from_numpy(s), torch.from_numpy(lab))
            assert mixed._dev_keys is not None   # counted on the device
        if i == 3:
            mixed = pickle.loads(pickle.dumps(mixed))
    a, b = by_numpy.compute(pebal_compat=True), mixed.compute(
        pebal_compat=True)
    for key in ('AUROC', 'AP', 'FPR95', 'FPR95_pebal', 'best_f1',
                'num_pos', 'num_neg'):
        assert b[key] == a[key], key
    storage = mixed.inlier_storage()
    assert storage['wrap_rows'] and storage['dense_pages']
    s = np.concatenate([s.ravel() for s, _ in data])
    y = np.concatenate([lab.ravel() for _, lab in data])
    assert a['AUROC'] == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    assert a['AP'] == pytest.approx(average_precision_score(y, s), rel=1e-12)
