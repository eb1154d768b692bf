"""Readable pictures: colour-bar ticks, panel titles, upscaling, the final
prediction and its thresholds, ROC/PR legend placement."""
import json

import numpy as np
import pytest
from sklearn.metrics import roc_curve

import mmseg_be  # noqa: F401
from mmseg_be.evaluation.pixel_accumulator import PixelOODAccumulator
from mmseg_be.visualization import (anomaly_panels, draw_colorbar,
                                    final_prediction, nice_ticks,
                                    paint_final_prediction, render_text,
                                    resolve_threshold, threshold_from_curves)
from mmseg_be.visualization.colormap import colorbar_figure
from mmseg_be.visualization.figures import curve_from_result, roc_pr_figure

RANGES = [(-1.4651, -1.4540), (-12.3, -2.1), (0.0, 1.0), (-16.02, -3.7),
          (1e5, 3e6), (0.001, 0.0013), (-0.3, 0.2), (7.0, 7.0)]


def overlaps(a, b) -> bool:
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


@pytest.mark.parametrize('vmin,vmax', RANGES)
@pytest.mark.parametrize('height,width', [(64, 48), (128, 64), (512, 72)])
def test_colorbar_ticks_neither_overlap_nor_clip(vmin, vmax, height, width):
    fig = colorbar_figure(height, vmin, vmax, width=width)
    renderer = fig.canvas.get_renderer()
    (ax, ) = fig.axes
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    assert 1 <= len(labels) <= 5
    boxes = [t.get_window_extent(renderer) for t in labels]
    for box in boxes:  # inside the picture
        assert box.x0 >= 0 and box.y0 >= 0
        assert box.x1 <= width and box.y1 <= height
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not overlaps(boxes[i], boxes[j])
    # The labels read as the tick values, and those lie in the range.
    values = [float(t.get_text()) for t in labels]
    ticks = ax.get_yticks()
    assert np.allclose(values, ticks, rtol=1e-3, atol=1e-12)
    assert min(ticks) >= vmin - 1e-9 * abs(vmin) and max(ticks) <= vmax + (
        1e-9 * abs(vmax))
    assert draw_colorbar(height, vmin, vmax, width=width).shape == (
        height, width, 3)


def test_tiny_colorbar_returns():
    for height in (4, 10, 20):
        for vmin, vmax in RANGES:
            assert draw_colorbar(height, vmin, vmax, width=20).shape == (
                height, 20, 3)


def test_ticks_are_round():
    values, labels = nice_ticks(-12.3, -2.1)
    step = np.diff(values)
    assert np.allclose(step, step[0])
    mantissa = step[0] / 10**np.floor(np.log10(step[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 5))
    # Every label distinct, none longer than the step needs.
    assert len(set(labels)) == len(labels)
    assert labels == [f'{v:g}' for v in values]


def dark_columns(strip: np.ndarray) -> np.ndarray:
    return np.flatnonzero((strip.min(axis=(0, 2)) < 128))


def test_title_is_drawn_centred_and_fits():
    strip = render_text('anomaly score: energy', 200, 24)
    cols = dark_columns(strip)
    assert cols.size and cols[0] > 0 and cols[-1] < 199
    assert abs((cols[0] + cols[-1]) / 2 - 100) <= 3
    long = render_text('a very long title ' * 6, 120, 24)  # shrinks to fit
    cols = dark_columns(long)
    assert cols[0] > 0 and cols[-1] < 119


def ramp_case(h=12, w=20):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    scores = np.tile(np.linspace(-10, -2, w), (h, 1))
    gt = np.zeros((h, w), bool)
    gt[3:8, 12:18] = True
    return image, scores, gt


def test_panels_titles_upscale_and_grid():
    image, scores, gt = ramp_case()
    plain = anomaly_panels(image, scores, -10, -2, colorbar_width=40,
                           titles=False, gt_panel=False)
    assert plain.shape == (12, 2 * 20 + 40 + 2 * 2, 3)
    big = anomaly_panels(image, scores, -10, -2, colorbar_width=40,
                         titles=False, gt_panel=False, upscale=3)
    assert big.shape == (36, 2 * 60 + 40 + 2 * 2, 3)
    # Nearest-neighbour: each input pixel becomes a 3x3 block.
    assert np.array_equal(big[:, :60], np.kron(image, np.ones(
        (3, 3, 1), np.uint8)))
    seg = np.zeros((12, 20), np.int64)
    pred = paint_final_prediction(image, seg, scores, -4.0, [[0, 0, 255]])
    titled = anomaly_panels(image, scores, -10, -2, gt_mask=gt,
                            seg_color=pred, colorbar_width=40, upscale=10,
                            columns=2)
    # 2 x 2 grid of 120 x 200 panels under title strips, and the bar.
    assert titled.shape[1] == 2 * 200 + 2 + 2 + 40
    title_h = (titled.shape[0] - 2 - 2 * 120) // 2
    assert 18 <= title_h <= 30
    first_title = titled[:title_h, :200]
    assert dark_columns(first_title).size  # text above the input panel
    assert np.array_equal(titled[title_h:title_h + 120, :200],
                          np.kron(image, np.ones((10, 10, 1), np.uint8)))
    # Ground-truth panel (bottom right): anomaly pixels white.
    gt_panel = titled[-120:, 202:402]
    assert np.all(gt_panel[np.kron(gt, np.ones((10, 10), bool))] == 255)


def test_final_prediction_paints_anomaly_where_score_passes():
    seg = np.array([[0, 1, 2], [1, 2, 0]])
    scores = np.array([[0.1, 0.9, 0.5], [0.5, 0.2, 0.95]])
    out = final_prediction(seg, scores, 0.5, anomaly_id=3)
    assert out.tolist() == [[0, 3, 3], [3, 2, 3]]  # >= threshold
    image = np.zeros((2, 3, 3), np.uint8)
    painted = paint_final_prediction(image, seg, scores, 0.5,
                                     [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    assert np.all(painted[out == 3] == 255)
    assert np.all(painted[out != 3] != 255)


def saved_curves(tmp_path):
    """pixel_ood_curves.json in PixelOODMetric's layout, from the
    accumulator's thinned curves."""
    rng = np.random.default_rng(3)
    labels = (rng.random((40, 50)) < 0.1).astype(np.uint8)
    scores = rng.normal(size=labels.shape) + 2.0 * labels
    acc = PixelOODAccumulator()
    acc.update(scores, labels)
    res = acc.compute()

    def plain(values):
        return [None if not np.isfinite(v) else float(v) for v in values]

    payload = dict(score=dict(name='energy'),
                   best_f1_threshold=res['best_f1_threshold'],
                   roc={k: plain(v) for k, v in res['roc_curve'].items()},
                   pr={k: plain(v) for k, v in res['pr_curve'].items()})
    path = tmp_path / 'pixel_ood_curves.json'
    path.write_text(json.dumps(payload))
    return path, scores, labels, res


def test_tpr95_and_best_f1_thresholds_from_saved_curves(tmp_path):
    path, scores, labels, res = saved_curves(tmp_path)
    t95 = threshold_from_curves(str(path), 'tpr95')
    # Oracle: predicting score >= t95 recovers at least 95% of the
    # anomaly pixels, and sklearn's exact 95%-TPR threshold is not above it.
    tpr = (scores[labels == 1] >= t95).mean()
    assert tpr >= 0.95
    fpr_s, tpr_s, thr_s = roc_curve(labels.ravel(), scores.ravel())
    exact = thr_s[np.argmax(tpr_s >= 0.95)]
    assert t95 <= exact + 1e-12
    # Folder and RULE:PATH forms give the same value.
    assert resolve_threshold(f'tpr95:{tmp_path}') == t95
    f1 = resolve_threshold(dict(curves=str(path), rule='best_f1'))
    assert f1 == pytest.approx(res['best_f1_threshold'])
    assert resolve_threshold('1.5') == 1.5 and resolve_threshold(None) is None


def test_threshold_of_another_score_is_refused(tmp_path):
    path, *_ = saved_curves(tmp_path)
    with pytest.raises(ValueError, match='max_logit'):
        threshold_from_curves(str(path), 'tpr95', dict(name='max_logit'))
    with pytest.raises(ValueError, match='neither a number'):
        resolve_threshold('f1:whatever')


def test_roc_pr_legend_outside_curves_and_log_low_fpr():
    rng = np.random.default_rng(0)
    curves = {}
    for k, name in enumerate(('in-distribution / max logit',
                              'balanced energy fine-tuned / energy')):
        labels = (rng.random(4000) < 0.1).astype(np.uint8)
        acc = PixelOODAccumulator()
        acc.update(rng.normal(size=4000) + (1 + k) * labels, labels)
        curves[name] = curve_from_result(acc.compute())
    fig = roc_pr_figure('toy benchmark', curves, dpi=60)
    renderer = fig.canvas.get_renderer()
    (legend, ) = fig.legends
    legend_box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not overlaps(legend_box, ax.get_window_extent(renderer))
    fig_box = fig.bbox
    assert legend_box.x0 >= 0 and legend_box.y0 >= 0
    assert legend_box.x1 <= fig_box.x1 and legend_box.y1 <= fig_box.y1
    low = fig.axes[0]
    assert low.get_xscale() == 'log' and low.get_xlim()[1] == pytest.approx(
        0.2)
    texts = [t.get_text() for t in legend.get_texts()]
    assert any(t.startswith('balanced energy fine-tuned / energy (AUROC')
               for t in texts)


def test_pr_axis_follows_the_curves_and_colours_follow_the_methods():
    from matplotlib.colors import to_rgba
    # Hand-made curves: precision at most 0.30 once recall reaches 1%; the
    # single-pixel precision of 1.0 at recall 0.001 does not count.
    low = dict(fpr=[0, 0.5, 1], tpr=[0, 0.7, 1], recall=[0.001, 0.5, 1.0],
               precision=[1.0, 0.30, 0.05])
    lower = dict(fpr=[0, 0.5, 1], tpr=[0, 0.6, 1], recall=[0.01, 0.5, 1.0],
                 precision=[0.2, 0.10, 0.05])
    fig = roc_pr_figure('toy', {'a': low, 'b': lower}, dpi=40,
                        colors={'a': 'tab:green', 'b': 'tab:red'})
    pr = fig.axes[2]
    assert pr.get_ylim() == pytest.approx((0.0, 0.33))
    colours = [to_rgba(line.get_color()) for line in pr.lines]
    assert colours == [to_rgba('tab:green'), to_rgba('tab:red')]
    high = dict(low, precision=[1.0, 0.98, 0.05])
    fig = roc_pr_figure('toy', {'a': high}, dpi=40)
    assert fig.axes[2].get_ylim()[1] == pytest.approx(1.01)


def test_class_legend_under_the_panels():
    image, scores, gt = ramp_case()
    plain = anomaly_panels(image, scores, -10, -2, colorbar_width=40,
                           upscale=10)
    legend = [('road', (128, 64, 128)), ('car', (0, 0, 142)),
              ('anomaly', (255, 255, 255))]
    with_legend = anomaly_panels(image, scores, -10, -2, colorbar_width=40,
                                 upscale=10, legend=legend)
    assert with_legend.shape[1] == plain.shape[1]
    strip_h = with_legend.shape[0] - plain.shape[0]
    assert 18 <= strip_h <= 30
    assert np.array_equal(with_legend[:plain.shape[0]], plain)
    strip = with_legend[plain.shape[0]:].reshape(-1, 3)
    for _, colour in legend[:2]:  # each swatch drawn in its class colour
        assert (strip == np.array(colour, np.uint8)).all(1).sum() >= 20
    # The names: dark text pixels that are no swatch colour.
    text = (strip.max(1) < 100) & ~(strip == (0, 0, 142)).all(1)
    assert text.sum() >= 20
