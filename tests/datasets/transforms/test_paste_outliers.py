"""PasteOutliers: exact labels and pixels, probability, seeding, odd inputs."""
import math
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS, TRANSFORMS

import mmseg_be  # noqa: F401  (registers PasteOutliers)
from mmseg_be.datasets.transforms import PasteOutliers
from mmseg_be.outliers.bank import OutlierBank, OutlierBankWriter
from tests.helpers import REPO


def blob_mask(rng, h, w):
    """An irregular mask touching all four sides of its h x w box."""
    m = rng.random((h, w)) < 0.6
    m[0, rng.integers(w)] = m[-1, rng.integers(w)] = True
    m[rng.integers(h), 0] = m[rng.integers(h), -1] = True
    return m


@pytest.fixture(scope='module')
def bank_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('bank'))
    rng = np.random.default_rng(0)
    writer = OutlierBankWriter(root)
    for i, (h, w) in enumerate([(5, 7), (8, 4), (6, 6), (60, 90)]):
        rgb = rng.integers(0, 256, (h, w, 3), np.uint8)
        writer.add(rgb, blob_mask(rng, h, w), {}, key=f'o{i}')
    return root


def scene(h=24, w=32, seed=1):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3), np.uint8)
    label = rng.integers(0, 19, (h, w)).astype(np.uint8)
    return dict(img=img, gt_seg_map=label, seg_fields=['gt_seg_map'])


def pasted_box(before, after):
    """Top-left (y, x) of the pasted object from the label change."""
    ys, xs = np.nonzero(after['gt_seg_map'] == 254)
    return ys.min(), xs.min()


def test_hard_paste_is_exact(bank_root):
    bank = OutlierBank(bank_root)
    t = PasteOutliers(bank_root, prob=1.0)
    for seed in range(20):
        np.random.seed(seed)
        before = scene(seed=seed)
        before['gt_aux'] = before['gt_seg_map'].copy()
        before['seg_fields'].append('gt_aux')
        orig = {k: before[k].copy() for k in ('img', 'gt_seg_map')}
        out = t(before)
        (idx, ) = out['outlier_indices']
        if bank.meta(idx)['height'] > 24:
            continue  # the large object is checked elsewhere
        rgb, mask, _ = bank.load(idx)
        y, x = pasted_box(orig, out)
        h, w = mask.shape
        placed = np.zeros((24, 32), bool)
        placed[y:y + h, x:x + w] = mask
        exp_label = orig['gt_seg_map'].copy()
        exp_label[placed] = 254
        np.testing.assert_array_equal(out['gt_seg_map'], exp_label)
        np.testing.assert_array_equal(out['gt_aux'], exp_label)
        exp_img = orig['img'].copy()
        for yy in range(h):
            for xx in range(w):
                if mask[yy, xx]:  # bank is RGB, the image BGR (mmcv)
                    exp_img[y + yy, x + xx] = rgb[yy, xx, ::-1]
        np.testing.assert_array_equal(out['img'], exp_img)


def test_probability_and_object_count(bank_root):
    np.random.seed(0)
    t = PasteOutliers(bank_root, prob=0.3, num_objects=(1, 3))
    n, k, counts = 1500, 0, set()
    for _ in range(n):
        out = t(scene(8, 10))
        k += bool(out['outlier_indices'])
        if out['outlier_indices']:
            counts.add(len(out['outlier_indices']))
    sd = math.sqrt(n * 0.3 * 0.7)
    assert abs(k - n * 0.3) < 5 * sd  # binomial: 5 sigma
    assert counts == {1, 2, 3}
    assert not PasteOutliers(bank_root, prob=0.0)(scene())['outlier_indices']


def test_large_objects_and_scaling_never_crash(bank_root):
    np.random.seed(0)
    for scale in ((1.0, 1.0), (3.0, 3.0), (0.1, 2.5)):
        t = PasteOutliers(bank_root, prob=1.0, num_objects=4,
                          scale_range=scale)
        out = t(scene(6, 9))
        assert (out['gt_seg_map'] == 254).any()
    # Object 3 (60x90) into a 24x32 image: shrunk to fit (aspect kept).
    t = PasteOutliers(bank_root, prob=1.0)
    _, mask, _ = OutlierBank(bank_root).load(3)
    fitted, _ = t._fit(np.zeros((60, 90, 3), np.uint8), mask, (24, 32))
    assert fitted.shape[:2] == (21, 32)  # 32/90 = 0.356 -> 21 rows
    half, hm = PasteOutliers(bank_root, scale_range=(0.5, 0.5))._fit(
        np.zeros((60, 90, 3), np.uint8), mask, (100, 100))
    assert half.shape[:2] == hm.shape == (30, 45)


def test_placement_on_labels(bank_root):
    bank = OutlierBank(bank_root)
    t = PasteOutliers(bank_root, prob=1.0, placement='labels',
                      placement_labels=[0])
    for seed in range(40):
        np.random.seed(seed)
        s = scene(60, 80, seed)
        s['gt_seg_map'][:] = 5
        s['gt_seg_map'][30:51, 20:61] = 0  # the "road"
        road = s['gt_seg_map'] == 0
        out = t(s)
        (idx, ) = out['outlier_indices']
        if bank.meta(idx)['height'] > 24:
            continue
        h, w = bank.load(idx)[1].shape
        y, x = pasted_box(None, out)
        assert road[y + h - 1, x + w // 2]  # bottom-centre on the road


def test_blend_changes_only_masked_image_pixels(bank_root):
    np.random.seed(3)
    hard = PasteOutliers(bank_root, prob=1.0)(scene(40, 40))
    np.random.seed(3)
    soft = PasteOutliers(bank_root, prob=1.0, blend=True, blend_sigma=1.0)(
        scene(40, 40))
    orig = scene(40, 40)
    np.testing.assert_array_equal(soft['gt_seg_map'], hard['gt_seg_map'])
    outside = hard['gt_seg_map'] != 254
    np.testing.assert_array_equal(soft['img'][outside], orig['img'][outside])
    inside = ~outside
    assert (soft['img'][inside] != hard['img'][inside]).any()


def test_float_image_and_registry(bank_root):
    t = TRANSFORMS.build(dict(type='PasteOutliers', bank_root=bank_root,
                              prob=1.0))
    s = scene()
    s['img'] = s['img'].astype(np.float32) / 2
    out = t(s)
    assert out['img'].dtype == np.float32
    assert (out['gt_seg_map'] == 254).any()


def test_bad_inputs(bank_root, tmp_path):
    with pytest.raises(KeyError, match='LoadAnnotations'):
        PasteOutliers(bank_root, prob=1.0)(dict(img=np.zeros((4, 4, 3))))
    s = scene()
    s['gt_seg_map'] = s['gt_seg_map'][:10]
    with pytest.raises(ValueError, match='gt_seg_map'):
        PasteOutliers(bank_root, prob=1.0)(s)
    with pytest.raises(FileNotFoundError, match='index.jsonl'):
        PasteOutliers(str(tmp_path), prob=1.0)(scene())
    for bad in (dict(prob=2), dict(num_objects=(3, 1)),
                dict(scale_range=(0, 1)), dict(placement='labels'),
                dict(placement='middle')):
        with pytest.raises(ValueError):
            PasteOutliers(bank_root, **bad)


class SceneDataset:
    """Deterministic scenes passed through PasteOutliers."""

    def __init__(self, bank_root, n=8):
        self.n = n
        self.t = PasteOutliers(bank_root, prob=0.5, num_objects=(1, 2))

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        out = self.t(scene(16, 20, seed=i))
        return out['img'], out['gt_seg_map']


def load_all(bank_root, seed):
    loader = Runner.build_dataloader(
        dict(dataset=SceneDataset(bank_root), batch_size=2, num_workers=2,
             sampler=dict(type='DefaultSampler', shuffle=False)),
        seed=seed)
    return [np.stack([np.asarray(x) for x in part])
            for batch in loader for sample in batch for part in sample]


def test_same_seed_same_output_with_two_workers(bank_root):
    np.random.seed(0)
    t = PasteOutliers(bank_root, prob=0.5, num_objects=(1, 3))
    np.random.seed(11)
    a = [t(scene(seed=i))['img'] for i in range(10)]
    np.random.seed(11)
    b = [t(scene(seed=i))['img'] for i in range(10)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    first, second, other = (load_all(bank_root, s) for s in (5, 5, 6))
    assert len(first) == 16  # 8 samples x (img, label)
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p, q)
    assert any(not np.array_equal(p, q) for p, q in zip(first, other))


def test_dataset_config_builds_and_pastes(bank_root, tmp_path):
    base = osp.join(REPO, 'configs', '_base_', 'datasets')
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(f"_base_ = ['{base}/cityscapes_coco_outliers.py', "
                    f"'{base}/fishyscapes_lost_and_found.py']\n")
    cfg = Config.fromfile(str(leaf))  # no duplicate keys among the bases
    paste = cfg.train_pipeline[2]
    assert paste.type == 'PasteOutliers' and abs(paste.prob - 1 / 11) < 1e-12
    assert paste.ood_index == 254 and paste.scale_range == (1.0, 1.0)
    root = tmp_path / 'cityscapes'
    for sub in ('leftImg8bit/train/aachen', 'gtFine/train/aachen'):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(root / 'leftImg8bit/train/aachen/a_leftImg8bit.png'),
                rng.integers(0, 256, (32, 64, 3), np.uint8))
    cv2.imwrite(str(root / 'gtFine/train/aachen/a_gtFine_labelTrainIds.png'),
                rng.integers(0, 19, (32, 64), np.uint8))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(root)
    ds_cfg.pipeline[2].update(bank_root=bank_root, prob=1.0)
    ds_cfg.pipeline[3].scale = (64, 32)
    ds_cfg.pipeline[4].crop_size = (32, 64)
    ds_cfg.pipeline[4].cat_max_ratio = 1.0
    np.random.seed(0)
    init_default_scope('mmseg')  # what the Runner does for mmseg configs
    sample = DATASETS.build(ds_cfg)[0]
    assert (sample['data_samples'].gt_sem_seg.data == 254).any()
