"""Pure picture functions checked against matplotlib and hand-made cases."""
import numpy as np
import pytest
from matplotlib import colormaps

import mmseg_be  # noqa: F401
from mmseg_be.visualization.colormap import (apply_colormap, draw_colorbar,
                                             draw_outline, normalize_scores,
                                             overlay, score_range,
                                             stack_panels)


def luminance(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float64)
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


@pytest.mark.parametrize('cmap', ['inferno', 'viridis'])
def test_ramp_follows_matplotlib_colormap(cmap):
    # A ramp of scores over an arbitrary range, shuffled into a 2-D map.
    rng = np.random.default_rng(0)
    values = np.linspace(-7.0, 3.0, 64)
    scores = rng.permutation(values).reshape(8, 8)
    heat = apply_colormap(scores, vmin=-7.0, vmax=3.0, cmap=cmap)
    assert heat.shape == (8, 8, 3) and heat.dtype == np.uint8
    # Oracle: matplotlib's own colormap on the hand-normalised values.
    expected = colormaps[cmap]((scores + 7.0) / 10.0)[..., :3] * 255
    assert np.abs(heat.astype(float) - expected).max() <= 3.0
    # Brighter means more anomalous: luminance grows along the sorted ramp.
    order = np.argsort(scores.ravel())
    lum = luminance(heat.reshape(-1, 3)[order])
    assert np.all(np.diff(lum) >= -1e-9) and lum[-1] > lum[0] + 100


def test_colormap_clips_outside_range_and_nan():
    scores = np.array([[-100.0, 0.0, 0.5, 1.0, 100.0, np.nan]])
    heat = apply_colormap(scores, 0.0, 1.0, 'viridis')
    assert (heat[0, 0] == heat[0, 1]).all()
    assert (heat[0, 3] == heat[0, 4]).all()
    assert (heat[0, 5] == heat[0, 1]).all()
    with pytest.raises(ValueError, match='2-D'):
        apply_colormap(np.zeros((2, 2, 2)), 0, 1)
    with pytest.raises(ValueError, match='Unknown colormap'):
        apply_colormap(np.zeros((2, 2)), 0, 1, cmap='jet')


def test_normalize_and_range():
    scores = np.array([2.0, 4.0, 6.0, np.inf])
    assert score_range(scores) == (2.0, 6.0)
    np.testing.assert_allclose(normalize_scores(scores[:3], 2.0, 6.0),
                               [0.0, 0.5, 1.0])
    # Degenerate range: at or above vmin -> 1.
    np.testing.assert_array_equal(normalize_scores(scores[:3], 4.0, 4.0),
                                  [0.0, 1.0, 1.0])


def test_overlay_is_a_weighted_mean():
    image = np.full((2, 3, 3), 100, np.uint8)
    heat = np.full((2, 3, 3), 200, np.uint8)
    assert (overlay(image, heat, 0.25) == 125).all()
    assert (overlay(image, heat, 0.0) == image).all()
    with pytest.raises(ValueError, match='same shape'):
        overlay(image, heat[:1], 0.5)


def test_outline_marks_the_border_only():
    image = np.zeros((12, 12, 3), np.uint8)
    mask = np.zeros((12, 12), bool)
    mask[3:9, 4:10] = True
    out = draw_outline(image, mask, color=(0, 255, 0), thickness=1)
    green = (out == [0, 255, 0]).all(-1)
    # Oracle: mask pixels with a 4-neighbour outside the mask.
    padded = np.pad(mask, 1)
    inner = (padded[2:, 1:-1] & padded[:-2, 1:-1] & padded[1:-1, 2:]
             & padded[1:-1, :-2])
    border = mask & ~inner
    np.testing.assert_array_equal(green, border)
    assert not image.any()  # the input is left untouched


def test_colorbar_and_panels_sizes():
    bar = draw_colorbar(50, 0.0, 1.0, 'inferno', width=40)
    assert bar.shape == (50, 40, 3)
    # Top of the bar is the highest colour, bottom the lowest (the bar is
    # inset so that its end labels fit; read its middle column).
    lut = (colormaps['inferno'](np.array([0.0, 1.0]))[:, :3] * 255).round()
    column = bar[:, 6].astype(float)
    rows = np.flatnonzero(np.abs(column - 255).max(axis=1) > 0)
    top, bottom = column[rows[0] + 2], column[rows[-1] - 2]
    assert np.abs(top - lut[1]).max() < 0.3 * np.abs(top - lut[0]).max()
    assert np.abs(bottom - lut[0]).max() < 0.3 * np.abs(
        bottom - lut[1]).max()
    row = stack_panels([np.zeros((5, 4, 3), np.uint8)] * 3, gap=2)
    assert row.shape == (5, 16, 3)
    with pytest.raises(ValueError, match='height'):
        stack_panels([np.zeros((5, 4, 3), np.uint8),
                      np.zeros((6, 4, 3), np.uint8)])
