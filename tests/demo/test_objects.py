"""The demo's novel objects: the colour of a scene class, a texture no scene
has, shape families kept apart, the bank format."""
import numpy as np
import pytest

from demo.objects import (ANOMALY_SHAPES, BANK_SHAPES, BRIGHT, DARK,
                          FAMILY_WEIGHTS, PATTERNS, pattern,
                          render_novel_object, shape_mask,
                          write_outlier_bank)
from demo.scenes import CLASSES, render_scene
from mmseg_be.outliers.bank import OutlierBank
from tests.helpers import read_tree


def test_objects_take_the_colour_of_their_family():
    rng = np.random.default_rng(5)
    for _ in range(10):
        rgb, mask = render_novel_object(rng, 32, 40, family='vegetation')
        r, g, b = rgb[mask].reshape(-1, 3).astype(float).mean(0)
        assert g > r + 15 and g > b + 15  # green, like the scene's trees
        rgb, mask = render_novel_object(rng, 32, 40, family='sky')
        r, g, b = rgb[mask].reshape(-1, 3).astype(float).mean(0)
        assert b > r + 40  # blue, like the scene's sky
    with pytest.raises(ValueError, match='colour family'):
        render_novel_object(rng, 32, 40, family='unicorn')
    assert abs(sum(w for _, w in FAMILY_WEIGHTS) - 1.0) < 1e-9
    assert {n for n, _ in FAMILY_WEIGHTS} <= set(CLASSES)
    assert not set(BANK_SHAPES) & set(ANOMALY_SHAPES)


def test_object_texture_has_more_contrast_than_any_scene_surface():
    # The bright and dark parts of an object differ by a factor of
    # BRIGHT / DARK in brightness; a scene class's pixels of one scene never
    # come close (their spread is noise and lighting). Measured as the ratio
    # of the 90th to the 10th percentile of grey level inside one region.
    rng = np.random.default_rng(0)
    assert BRIGHT / DARK > 2.0
    ratios = []
    for _ in range(20):
        rgb, mask = render_novel_object(rng, 32, 48, BANK_SHAPES,
                                        family='road')
        grey = rgb[mask].astype(float).mean(1)
        ratios.append(np.percentile(grey, 90) / np.percentile(grey, 10))
    assert min(ratios) > 1.8
    for _ in range(5):
        img, label = render_scene(rng, (64, 128))
        for cls in ('road', 'sky'):
            grey = img[label == CLASSES.index(cls)].astype(float).mean(1)
            if grey.size > 200:
                assert np.percentile(grey, 90) / np.percentile(grey,
                                                               10) < 1.6


def test_patterns_are_two_toned_and_shapes_fill_their_box():
    rng = np.random.default_rng(3)
    for kind in PATTERNS:
        bright = pattern(rng, kind, 30, 40)
        assert bright.shape == (30, 40) and 0.2 < bright.mean() < 0.9
    for shape in BANK_SHAPES + ANOMALY_SHAPES:
        mask = shape_mask(rng, shape, 30, 40)
        assert mask.shape == (30, 40) and 0.15 < mask.mean() < 0.95, shape
        ys, xs = np.nonzero(mask)
        assert ys.max() - ys.min() >= 15 and xs.max() - xs.min() >= 20, shape


def test_outlier_bank_format_resume_and_sizes(tmp_path):
    root = str(tmp_path / 'bank')
    assert write_outlier_bank(root, 6, max_side=30, seed=2) == 6
    before = read_tree(root)
    assert write_outlier_bank(root, 6, max_side=30, seed=2) == 6
    assert read_tree(root) == before
    bank = OutlierBank(root)
    for i in range(len(bank)):
        rgb, mask, meta = bank.load(i)
        assert rgb.shape[:2] == mask.shape and mask.any()
        assert max(mask.shape) <= 2 * 30 and meta['area'] == int(mask.sum())
