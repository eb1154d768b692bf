"""The demo's procedural scenes: determinism, label alignment."""
import os
import os.path as osp

import cv2
import numpy as np

from demo.scenes import (CLASSES, render_anomaly_scene,
                                   render_scene, write_anomaly_split,
                                   write_scene_split)
from demo.objects import CAR_PAINTS
from tests.helpers import read_tree


def test_same_seed_same_files_other_seed_differs(tmp_path):
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        write_scene_split(str(tmp_path / name), 'train', 3, (48, 96), seed)
        write_anomaly_split(str(tmp_path / name / 'anomaly'), 2, (48, 96),
                            seed)
    a, b, c = (read_tree(str(tmp_path / n)) for n in 'abc')
    assert len(a) == 3 * 2 + 2 * 2
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_scene_has_street_layout():
    rng = np.random.default_rng(0)
    for _ in range(5):
        img, label = render_scene(rng, (64, 128))
        assert img.shape == (64, 128, 3) and img.dtype == np.uint8
        assert label.max() < len(CLASSES)
        # Sky on top, road at the bottom centre, in every scene.
        assert CLASSES[np.bincount(label[0]).argmax()] in ('sky', 'building',
                                                           'vegetation',
                                                           'pole')
        assert CLASSES[label[-1, 64]] in ('road', 'car', 'person')
        # Not a flat colour per class: textures and noise.
        road = img[label == CLASSES.index('road')]
        assert road.std(0).max() > 3


def test_anomaly_labels_line_up_with_drawn_objects():
    rng = np.random.default_rng(11)
    for _ in range(6):
        img, label, placements = render_anomaly_scene(rng, (64, 128), 3)
        h, w = label.shape
        expected = np.zeros((h, w), bool)
        expected_img = {}
        for p in placements:  # later objects overwrite earlier ones
            mh, mw = p['mask'].shape
            for y in range(mh):
                for x in range(mw):
                    yy, xx = p['top'] + y, p['left'] + x
                    if p['mask'][y, x] and 0 <= yy < h and 0 <= xx < w:
                        expected[yy, xx] = True
                        expected_img[yy, xx] = p['rgb'][y, x]
        expected[-2:] = False
        assert np.array_equal(label == 1, expected)
        assert set(np.unique(label)) <= {0, 1, 255}
        assert (label[-2:] == 255).all()
        for (y, x), rgb in expected_img.items():
            if y < h - 2:
                assert np.array_equal(img[y, x], rgb)


def test_anomaly_split_layout_and_values(tmp_path):
    write_anomaly_split(str(tmp_path), 3, (48, 96), seed=1)
    names = sorted(os.listdir(tmp_path / 'original'))
    assert names == sorted(os.listdir(tmp_path / 'labels')) == [
        '0000.png', '0001.png', '0002.png'
    ]
    for name in names:
        label = cv2.imread(str(tmp_path / 'labels' / name),
                           cv2.IMREAD_UNCHANGED)
        assert label.shape == (48, 96) and (label == 1).any()
        assert set(np.unique(label)) <= {0, 1, 255}


def test_scene_cars_use_car_paints():
    rng = np.random.default_rng(2)
    paints = np.array(CAR_PAINTS, np.float32)
    for _ in range(4):
        img, label = render_scene(rng, (64, 128))
        car = img[label == CLASSES.index('car')].astype(np.float32)
        if len(car) < 20:
            continue
        # The median car pixel is near a car paint (after lighting x0.7-1.2)
        # or a dark wheel / window, never a saturated random colour.
        med = np.median(car, 0)
        ratio = med / np.maximum(paints, 1)
        near = [(np.ptp(r) < 0.35) for r in ratio]
        assert any(near) or med.max() < 70


def test_anomalies_span_several_output_cells_of_the_demo_model():
    """The test anomalies must be resolvable: at least one cell of the
    demo model's output stride high, and on average two or more wide (the
    stride read from the model config: a 4x stem, then the stage strides)."""
    from mmengine.config import Config

    from tests.helpers import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                   'demo_deeplabv3plus_r18-d16.py'))
    stride = 4 * int(np.prod(cfg.model.backbone.strides))
    assert stride == 16
    rng = np.random.default_rng(7)
    widths = []
    for _ in range(40):
        _, _, placements = render_anomaly_scene(rng, (64, 128))
        for p in placements:
            ys, xs = np.nonzero(p['mask'])
            assert ys.max() - ys.min() + 1 >= 0.9 * stride
            widths.append(xs.max() - xs.min() + 1)
    assert min(widths) >= stride and np.mean(widths) >= 2 * stride
