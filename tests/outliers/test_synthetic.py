"""The synthetic outlier bank: bank format, resume."""
import os
import os.path as osp

from mmseg_be.outliers.bank import OutlierBank
from mmseg_be.outliers.synthetic import write_synthetic_bank
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
