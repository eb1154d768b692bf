"""Outlier bank format: round trip, resume after a crash, clear errors."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmseg_be.outliers.bank import OutlierBank, OutlierBankWriter
from mmseg_be.utils.atomic_io import TMP_MARK


def ring_object(rng, h=12, w=17):
    """A random RGB patch inside a larger canvas and a ring-shaped mask."""
    canvas = np.zeros((30, 40, 3), np.uint8)
    mask = np.zeros((30, 40), bool)
    y, x = 5, 9
    canvas[y:y + h, x:x + w] = rng.integers(0, 256, (h, w, 3), np.uint8)
    yy, xx = np.mgrid[:h, :w]
    d2 = ((yy - (h - 1) / 2) / (h / 2))**2 + ((xx - (w - 1) / 2) / (w / 2))**2
    mask[y:y + h, x:x + w] = (d2 <= 1.0) & (d2 >= 0.2)
    return canvas, mask


def test_round_trip_is_lossless_and_cropped(tmp_path):
    rng = np.random.default_rng(0)
    canvas, mask = ring_object(rng)
    writer = OutlierBankWriter(str(tmp_path))
    assert writer.add(canvas, mask, dict(image_id=7), key='a')
    bank = OutlierBank(str(tmp_path))
    assert len(bank) == 1
    rgb, m, meta = bank.load(0)
    # Independent crop: rows/cols of the mask found with plain loops.
    rows = [i for i in range(mask.shape[0]) if mask[i].any()]
    cols = [j for j in range(mask.shape[1]) if mask[:, j].any()]
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    np.testing.assert_array_equal(m, mask[y0:y1, x0:x1])
    np.testing.assert_array_equal(rgb, canvas[y0:y1, x0:x1])
    assert meta['bbox'] == [x0, y0, x1 - x0, y1 - y0]
    assert meta['area'] == int(mask.sum())
    assert (meta['height'], meta['width']) == (y1 - y0, x1 - x0)
    assert meta['image_id'] == 7 and meta['key'] == 'a'
    bgr, _, _ = bank.load(0, channel_order='bgr')
    np.testing.assert_array_equal(bgr, rgb[..., ::-1])
    assert [e[2]['key'] for e in bank] == ['a']


def test_existing_keys_are_skipped_across_writers(tmp_path):
    rng = np.random.default_rng(1)
    canvas, mask = ring_object(rng)
    w1 = OutlierBankWriter(str(tmp_path))
    assert w1.add(canvas, mask, {}, key='a')
    assert not w1.add(canvas, mask, {}, key='a')
    w2 = OutlierBankWriter(str(tmp_path))
    assert 'a' in w2 and len(w2) == 1
    assert not w2.add(canvas, mask, {}, key='a')
    assert w2.add(canvas, mask, {}, key='b')
    assert len(OutlierBank(str(tmp_path))) == 2
    leftovers = [f for f in os.listdir(tmp_path / 'objects')
                 if TMP_MARK in f]
    assert leftovers == []


def test_torn_index_line_is_redone(tmp_path):
    rng = np.random.default_rng(2)
    canvas, mask = ring_object(rng)
    writer = OutlierBankWriter(str(tmp_path))
    writer.add(canvas, mask, {}, key='a')
    with open(tmp_path / 'index.jsonl', 'ab') as f:
        f.write(b'{"key": "b", "fi')  # a crash in the middle of an append
    with pytest.warns(UserWarning, match='torn'):
        assert len(OutlierBank(str(tmp_path))) == 1
    writer = OutlierBankWriter(str(tmp_path))
    assert 'b' not in writer
    assert writer.add(canvas, mask, {}, key='b')
    bank = OutlierBank(str(tmp_path))
    assert [bank.meta(i)['key'] for i in range(len(bank))] == ['a', 'b']


def test_missing_and_corrupt_entry_files_are_named(tmp_path):
    rng = np.random.default_rng(3)
    writer = OutlierBankWriter(str(tmp_path))
    for key in ('a', 'b'):
        writer.add(*ring_object(rng), {}, key=key)
    os.remove(tmp_path / 'objects' / 'a.png')
    with open(tmp_path / 'objects' / 'b.png', 'wb') as f:
        f.write(b'not a png')
    bank = OutlierBank(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'objects/a\.png'):
        bank.load(0)
    with pytest.raises(ValueError, match=r'objects/b\.png.*corrupt'):
        bank.load(1)
    with pytest.raises(IndexError):
        bank.load(2)


def test_bad_banks_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match='index.jsonl'):
        OutlierBank(str(tmp_path / 'nowhere'))
    (tmp_path / 'index.jsonl').write_text('')
    with pytest.raises(ValueError, match='empty'):
        OutlierBank(str(tmp_path))
    (tmp_path / 'index.jsonl').write_text(
        json.dumps(dict(key='a', file='objects/a.png')) + '\n[1, 2]\n')
    with pytest.raises(ValueError, match='line 2'):
        OutlierBank(str(tmp_path))


def test_writer_rejects_bad_objects_and_mixed_settings(tmp_path):
    writer = OutlierBankWriter(str(tmp_path), info=dict(seed=1))
    with pytest.raises(ValueError, match='empty'):
        writer.add(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), bool), {})
    with pytest.raises(ValueError, match='shape'):
        writer.add(np.zeros((4, 4, 3), np.uint8), np.ones((4, 5), bool), {})
    OutlierBankWriter(str(tmp_path), info=dict(seed=1))  # same: fine
    with pytest.raises(ValueError, match='bank_info.json'):
        OutlierBankWriter(str(tmp_path), info=dict(seed=2))
    assert osp.isfile(tmp_path / 'bank_info.json')
