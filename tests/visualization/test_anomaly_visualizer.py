"""The AnomalyVisualizer's picture: size, heat colours, outline, saving."""
import glob
import os.path as osp

import numpy as np
import torch
from matplotlib import colormaps
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmseg_be  # noqa: F401
import mmseg_be.visualization  # noqa: F401
from mmseg_be.scoring import compute_anomaly_score
from mmseg_be.visualization import AnomalyVisualizer

H, W, C = 10, 16, 3


def ramp_sample(with_gt: bool = True) -> SegDataSample:
    """Logits whose anomaly score changes monotonically along the columns."""
    # Flat logits of growing magnitude along x: the class evidence shrinks
    # (or grows) steadily, so every usual score is monotone in x.
    level = torch.linspace(-3.0, 3.0, W)[None, None, :].expand(C, H, W)
    logits = level.clone()
    logits[0] += 0.1  # break the exact tie between classes
    sample = SegDataSample()
    sample.set_data(dict(seg_logits=PixelData(data=logits),
                         pred_sem_seg=PixelData(
                             data=logits.argmax(0, keepdim=True))))
    sample.set_metainfo(dict(img_path='frame.png', ori_shape=(H, W)))
    if with_gt:
        gt = torch.zeros(1, H, W, dtype=torch.uint8)
        gt[0, 3:7, 5:11] = 1
        gt[0, :, 0] = 255
        sample.gt_sem_seg = PixelData(data=gt)
    return sample


def make_visualizer(name: str, **kwargs) -> AnomalyVisualizer:
    # Untitled, without the ground-truth panel: pixel offsets stay simple.
    kwargs = dict(dict(titles=False, gt_panel=False), **kwargs)
    vis = AnomalyVisualizer(name=name, score='energy', heat_alpha=1.0,
                            colorbar_width=40, **kwargs)
    vis.dataset_meta = dict(classes=('inlier', 'anomaly'),
                            palette=[[0, 160, 0], [255, 0, 0]])
    return vis


def test_heat_panel_follows_matplotlib_colormap():
    sample = ramp_sample(with_gt=False)
    scores = compute_anomaly_score(sample.seg_logits.data[None],
                                   name='energy')[0].numpy()
    vmin, vmax = float(scores.min()), float(scores.max())
    vis = make_visualizer('vis_ramp', vmin=vmin, vmax=vmax)
    image = np.zeros((H, W, 3), np.uint8)
    drawn = vis.draw_anomaly(image, sample)
    # input | heat | colour bar, with 2-pixel gaps.
    assert drawn.shape == (H, 2 * W + 40 + 2 * 2, 3)
    heat = drawn[:, W + 2:2 * W + 2].astype(float)
    # Oracle: matplotlib's inferno on the hand-normalised scores.
    expected = colormaps['inferno']((scores - vmin) / (vmax - vmin))[..., :3]
    assert np.abs(heat - expected * 255).max() <= 3.0
    assert (drawn[:, :W] == 0).all()  # the input panel is the input


def test_outline_and_segmentation_panel(tmp_path):
    vis = make_visualizer('vis_outline', draw_seg=True,
                          save_dir=str(tmp_path),
                          vis_backends=[dict(type='LocalVisBackend')])
    image = np.full((H, W, 3), 128, np.uint8)
    sample = ramp_sample()
    vis.add_datasample('test_frame.png', image, sample)
    drawn = vis.get_image()
    assert drawn.shape == (H, 3 * W + 40 + 3 * 2, 3)
    heat = drawn[:, W + 2:2 * W + 2]
    green = (heat == [0, 255, 0]).all(-1)
    # The outline is the border of the anomaly rectangle rows 3-6, cols 5-10.
    expected = np.zeros((H, W), bool)
    expected[3:7, 5:11] = True
    expected[4:6, 6:10] = False
    np.testing.assert_array_equal(green, expected)
    saved = glob.glob(osp.join(tmp_path, '**', '*.png'), recursive=True)
    assert len(saved) == 1


def test_per_image_normalisation_uses_the_full_colormap():
    vis = make_visualizer('vis_norm', percentiles=(0.0, 100.0))
    drawn = vis.draw_anomaly(np.zeros((H, W, 3), np.uint8),
                             ramp_sample(with_gt=False))
    heat = drawn[:, W + 2:2 * W + 2].astype(float)
    lut = colormaps['inferno']([0.0, 1.0])[:, :3] * 255
    corners = [heat[0, 0], heat[0, -1]]
    # One end of the ramp gets the first colour, the other the last.
    ends = sorted(corners, key=lambda c: c.sum())
    assert np.abs(ends[0] - lut[0]).max() <= 2
    assert np.abs(ends[1] - lut[1]).max() <= 2


def test_final_prediction_panel_at_a_threshold():
    sample = ramp_sample()
    scores = compute_anomaly_score(sample.seg_logits.data[None],
                                   name='energy')[0].numpy()
    threshold = float(np.median(scores))
    vis = make_visualizer('vis_final', anomaly_threshold=str(threshold),
                          gt_panel=True)
    drawn = vis.draw_anomaly(np.full((H, W, 3), 128, np.uint8), sample)
    # input | heat | final prediction | ground truth | bar
    assert drawn.shape == (H, 4 * W + 40 + 4 * 2, 3)
    final = drawn[:, 2 * (W + 2):2 * (W + 2) + W]
    white = (final == 255).all(-1)
    np.testing.assert_array_equal(white, scores >= threshold)
    gt_panel = drawn[:, 3 * (W + 2):3 * (W + 2) + W]
    gt = sample.gt_sem_seg.data.numpy()[0]
    np.testing.assert_array_equal((gt_panel == 255).all(-1), gt == 1)


def test_titled_and_enlarged():
    vis = make_visualizer('vis_titled', titles=True, min_height=35)
    drawn = vis.draw_anomaly(np.zeros((H, W, 3), np.uint8),
                             ramp_sample(with_gt=False))
    # 10-pixel rows enlarged 4x (smallest factor reaching 35), title strip.
    title_h = drawn.shape[0] - 4 * H
    assert 18 <= title_h <= 30
    assert (drawn[title_h:, :4 * W] == 0).all()
    assert (drawn[:title_h, :4 * W] < 128).any()  # the title text
