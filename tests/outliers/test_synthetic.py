"""The synthetic outlier bank: bank format, resume, appearance families."""
import os
import os.path as osp

import numpy as np
import pytest

from mmseg_be.demo.scenes import CLASSES
from mmseg_be.outliers.bank import OutlierBank
from mmseg_be.outliers.synthetic import (FAMILY_WEIGHTS, render_novel_object,
                                         write_synthetic_bank)
from tests.helpers import read_tree


def test_synthetic_bank_format_and_resume(tmp_path):
    root = str(tmp_path / 'bank')
    assert write_synthetic_bank(root, 5, max_side=32, seed=2) == 5
    before = read_tree(root)
    os.remove(osp.join(root, 'objects', 'synthetic_000004.png'))
    with open(osp.join(root, 'index.jsonl')) as f:
        lines = f.readlines()
    with open(osp.join(root, 'index.jsonl'), 'w') as f:
        f.writelines(lines[:4])
    assert write_synthetic_bank(root, 5, max_side=32, seed=2) == 5
    assert read_tree(root) == before  # the redone entry is identical
    bank = OutlierBank(root)
    for i in range(len(bank)):
        rgb, mask, meta = bank.load(i)
        assert rgb.shape[:2] == mask.shape and mask.any()
        assert max(mask.shape) <= 32 and meta['area'] == int(mask.sum())


def test_outlier_families_look_like_their_class():
    rng = np.random.default_rng(5)
    for _ in range(10):
        rgb, mask = render_novel_object(rng, 32, family='vegetation')
        r, g, b = rgb[mask].reshape(-1, 3).mean(0)
        assert g > r + 20 and g > b + 20  # green, like the scene's trees
        rgb, mask = render_novel_object(rng, 32, family='sky')
        r, g, b = rgb[mask].reshape(-1, 3).mean(0)
        assert b > r + 40  # blue, like the scene's sky
    with pytest.raises(ValueError, match='appearance family'):
        render_novel_object(rng, 32, family='unicorn')
    assert abs(sum(w for _, w in FAMILY_WEIGHTS) - 1.0) < 1e-9
    assert {n for n, _ in FAMILY_WEIGHTS} <= set(CLASSES)
