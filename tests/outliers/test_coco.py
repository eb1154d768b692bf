"""COCO outlier bank builder on a tiny fake COCO made here.

Masks are checked against rectangles written by hand: a COCO polygon with
integer corners (x0, y0)-(x1, y1) covers rows y0..y1-1 and columns x0..x1-1
(pycocotools' rasterisation convention), i.e. ``m[y0:y1, x0:x1]``.
"""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmseg_be.outliers.bank import OutlierBank
from mmseg_be.outliers.coco import (CocoOutlierSettings,
                                    build_coco_outlier_bank, format_summary)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXCLUDED = {1, 2, 3, 4, 6, 8, 10, 13}
H, W = 480, 512


def rect_mask(h, w, x0, y0, x1, y1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def polygon(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def uncompressed_rle(m):
    """Column-major run lengths starting with a run of zeros (COCO RLE)."""
    flat = m.flatten(order='F').astype(int)
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return {'size': [m.shape[0], m.shape[1]], 'counts': counts}


def compressed_rle(m):
    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    return {'size': rle['size'], 'counts': rle['counts'].decode('ascii')}


def make_fake_coco(root):
    """Write annotations + JPEGs; return {image_id: expected union mask}."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'annotations'))
    os.makedirs(osp.join(root, 'train2017'))
    images, anns, expected = [], [], {}

    def add_image(img_id, h=H, w=W):
        images.append(dict(id=img_id, file_name=f'{img_id:012d}.jpg',
                           height=h, width=w))
        yy, xx = np.mgrid[:h, :w]
        img = np.stack([(xx * 255 // w), (yy * 255 // h),
                        rng.integers(0, 256, (h, w))], -1).astype(np.uint8)
        cv2.imwrite(osp.join(root, 'train2017', f'{img_id:012d}.jpg'), img)

    def add_ann(img_id, cat, segm, crowd=0):
        anns.append(dict(id=len(anns) + 100, image_id=img_id,
                         category_id=cat, segmentation=segm, iscrowd=crowd,
                         area=0, bbox=[0, 0, 0, 0]))

    # 1: polygon (dog) + compressed RLE (bottle): kept, union of both.
    add_image(1)
    add_ann(1, 18, polygon(10, 20, 60, 50))
    r2 = rect_mask(H, W, 40, 45, 90, 100)
    add_ann(1, 44, compressed_rle(r2))
    expected[1] = rect_mask(H, W, 10, 20, 60, 50) | r2
    # 2: dog + a crowd of persons: excluded entirely.
    add_image(2)
    add_ann(2, 18, polygon(0, 0, 30, 30))
    add_ann(2, 1, uncompressed_rle(rect_mask(H, W, 100, 100, 200, 200)), 1)
    # 3: only a crowd region (airplanes, uncompressed RLE): kept.
    add_image(3)
    expected[3] = rect_mask(H, W, 200, 300, 330, 420)
    add_ann(3, 5, uncompressed_rle(expected[3]), crowd=1)
    # 4: small image (shorter side 300 < 480): skipped.
    add_image(4, h=300, w=W)
    add_ann(4, 18, polygon(10, 10, 50, 50))
    # 5: a car only: excluded.
    add_image(5)
    add_ann(5, 3, polygon(10, 10, 50, 50))
    # 6: no annotations.
    add_image(6)
    # 7: a tiny bird (4x4 = 16 px), two polygon parts-free.
    add_image(7)
    expected[7] = rect_mask(H, W, 300, 200, 304, 204)
    add_ann(7, 16, polygon(300, 200, 304, 204))
    cats = [dict(id=i, name=f'c{i}') for i in (1, 3, 5, 16, 18, 44)]
    with open(osp.join(root, 'annotations', 'instances_train2017.json'),
              'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return expected


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco'))
    return root, make_fake_coco(root)


def build(coco_root, out, **kw):
    settings = CocoOutlierSettings(
        per_instance=kw.pop('per_instance', False),
        min_area=kw.pop('min_area', 0),
        excluded_category_ids=kw.pop('excluded', tuple(sorted(EXCLUDED))))
    return build_coco_outlier_bank(coco_root, out, settings, progress=False,
                                   **kw)


def test_released_rule_and_masks(coco, tmp_path):
    root, expected = coco
    summary = build(root, str(tmp_path / 'bank'))
    bank = OutlierBank(str(tmp_path / 'bank'))
    metas = [bank.meta(i) for i in range(len(bank))]
    assert sorted(m['image_id'] for m in metas) == [1, 3, 7]
    for m in metas:
        assert not EXCLUDED & set(m['category_ids'])
    assert summary['skipped'] == dict(excluded_category=2, small_image=1,
                                      no_annotations=1)
    assert summary['kept'] == summary['total'] == 3
    for i, meta in enumerate(metas):
        rgb, mask, _ = bank.load(i)
        full = expected[meta['image_id']]
        ys, xs = np.nonzero(full)
        y0, x0 = ys.min(), xs.min()
        assert meta['bbox'] == [x0, y0, xs.max() - x0 + 1, ys.max() - y0 + 1]
        np.testing.assert_array_equal(
            mask, full[y0:ys.max() + 1, x0:xs.max() + 1])
        assert meta['area'] == int(full.sum())
        src = cv2.imread(osp.join(root, 'train2017', meta['file_name']))
        crop = src[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1], ::-1]
        np.testing.assert_array_equal(rgb[mask], crop[mask])
    assert sorted(metas[0]['category_ids']) == [18, 44]


def test_per_instance_min_area_and_max_entries(coco, tmp_path):
    root, expected = coco
    summary = build(root, str(tmp_path / 'a'), per_instance=True,
                    min_area=17)
    bank = OutlierBank(str(tmp_path / 'a'))
    assert len(bank) == 3  # image 1 gives two entries, image 7 is too small
    assert summary['skipped']['empty_or_small_mask'] == 1
    areas = sorted(bank.meta(i)['area'] for i in range(3))
    assert areas == sorted([50 * 30, 50 * 55, 130 * 120])
    summary = build(root, str(tmp_path / 'b'), max_entries=2)
    bank = OutlierBank(str(tmp_path / 'b'))
    assert [bank.meta(i)['image_id'] for i in range(2)] == [1, 3]
    assert len(bank) == 2 and summary['capped_by_max_entries']


def test_rerun_skips_and_resumes(coco, tmp_path):
    root, _ = coco
    out = str(tmp_path / 'bank')
    build(root, out, num_workers=2)
    index = osp.join(out, 'index.jsonl')
    with open(index) as f:
        lines = f.readlines()
    again = build(root, out)
    assert again['kept'] == 0 and again['already_done'] == 3
    # Simulate a crash after two entries: the last index line is lost.
    with open(index, 'w') as f:
        f.writelines(lines[:2])
    resumed = build(root, out)
    assert resumed['kept'] == 1 and resumed['total'] == 3
    with open(index) as f:
        assert sorted(f.readlines()) == sorted(lines)
    with pytest.raises(ValueError, match='bank_info.json'):
        build(root, out, min_area=5)


def test_bad_inputs(coco, tmp_path):
    root, _ = coco
    with pytest.raises(FileNotFoundError, match='instances_train2017.json'):
        build(str(tmp_path / 'none'), str(tmp_path / 'b0'))
    bad = tmp_path / 'bad'
    (bad / 'annotations').mkdir(parents=True)
    (bad / 'annotations' / 'instances_train2017.json').write_text('{"ima')
    with pytest.raises(ValueError, match='instances_train2017.json.*JSON'):
        build(str(bad), str(tmp_path / 'b1'))
    (bad / 'annotations' / 'instances_train2017.json').write_text('{}')
    with pytest.raises(ValueError, match='images'):
        build(str(bad), str(tmp_path / 'b2'))
    with pytest.raises(RuntimeError, match='empty'):
        build(root, str(tmp_path / 'b3'), excluded=(1, 3, 5, 16, 18, 44))
    assert not osp.exists(tmp_path / 'b3')  # nothing half-made left behind
    with pytest.raises(RuntimeError, match='empty'):  # empty after decoding
        build(root, str(tmp_path / 'b4'), min_area=10**7)


def test_command_line(coco, tmp_path, capsys):
    root, _ = coco
    tool = osp.join(REPO, 'tools', 'prepare_coco_outliers.py')
    out = str(tmp_path / 'bank')
    run = subprocess.run([sys.executable, tool, root, out, '--no-progress',
                          '--min-area', '17'],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert 'bank entries: 2 (new 2, already there 0)' in run.stdout
    assert 'skipped (excluded_category): 2' in run.stdout
    spec = importlib.util.spec_from_file_location('prepare_coco', tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as info:
        module.main([str(tmp_path / 'x'), out])
    # A missing annotation file is bad input: exit status 2, named on stderr.
    assert info.value.code == 2
    assert 'instances_train2017.json' in capsys.readouterr().err


def test_truncated_jpeg_is_skipped_listed_and_counted(tmp_path):
    root = str(tmp_path / 'coco')
    make_fake_coco(root)
    path = osp.join(root, 'train2017', f'{3:012d}.jpg')
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    # The fault: cv2.imread returns the truncated JPEG, its lower half grey.
    grey = cv2.imread(path)
    assert grey is not None and (grey[-10:] == 128).all()
    summary = build(root, str(tmp_path / 'bank'))
    bank = OutlierBank(str(tmp_path / 'bank'))
    assert sorted(bank.meta(i)['image_id'] for i in range(len(bank))) == [1, 7]
    assert summary['skipped']['missing_or_unreadable_image'] == 1
    ((name, reason), ) = summary['unreadable']
    assert name == f'{3:012d}.jpg' and 'truncated' in reason
    assert f'unreadable image (skipped) {name}: ' in format_summary(summary)
    os.remove(osp.join(root, 'train2017', f'{7:012d}.jpg'))
    again = build(root, str(tmp_path / 'bank'))
    assert sorted(n for n, _ in again['unreadable']) == [f'{3:012d}.jpg']
    assert again['kept'] == 0 and again['already_done'] == 2
